-- Purpose: staff shorten the grace period of an erasure that already exists (the console's
-- request detail, issue 14), with a reason, as they could only when creating it. Never longer,
-- never once the erasure started; a scheduled erasure moves to received_at + the new grace (not
-- before now). Audited as dsar.erasure.grace_shortened (grace in seconds, no reason text: the
-- reason is stored on the request, which the DSAR export and erasure already cover).
-- Objects: function privacy.shorten_grace(uuid, interval, text).
-- Destructive: nothing.

create function privacy.shorten_grace(request_id uuid, grace_period interval, grace_reason text)
returns privacy.requests
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  req privacy.requests := privacy.find_visible_request(request_id);
  clean_reason text := nullif(btrim(shorten_grace.grace_reason), '');
  before_grace interval;
begin
  if privacy.caller_role() not in ('support', 'admin') then
    raise exception 'only staff can shorten the grace period' using errcode = 'P0001', hint = 'http:403';
  end if;
  if req.kind <> 'erasure' then
    raise exception 'only an erasure has a grace period' using errcode = 'P0001', hint = 'http:409';
  end if;
  if req.status not in ('received', 'scheduled') then
    raise exception 'the erasure is % and its grace period can no longer change', req.status
      using errcode = 'P0001', hint = 'http:409';
  end if;
  if shorten_grace.grace_period is null or shorten_grace.grace_period < interval '0'
     or shorten_grace.grace_period >= req.grace_period then
    raise exception 'the new grace period must be at least 0 and shorter than %', req.grace_period
      using errcode = 'P0001', hint = 'http:422';
  end if;
  if clean_reason is null or char_length(clean_reason) > 500 then
    raise exception 'a reason (1 to 500 characters) is required to shorten the grace period'
      using errcode = 'P0001', hint = 'http:422';
  end if;
  before_grace := req.grace_period;
  update privacy.requests r
     set grace_period = shorten_grace.grace_period,
         grace_reason = clean_reason,
         scheduled_for = case when r.status = 'scheduled'
                              then greatest(r.received_at + shorten_grace.grace_period, now())
                              else r.scheduled_for end
   where r.id = req.id
  returning * into req;
  perform privacy.audit_request('dsar.erasure.grace_shortened', req.id, jsonb_build_object(
    'subject_user_id', req.subject_user_id,
    'grace_seconds_before', extract(epoch from before_grace)::bigint,
    'grace_seconds', extract(epoch from req.grace_period)::bigint));
  return req;
end;
$$;
comment on function privacy.shorten_grace(uuid, interval, text) is
  'Staff only: shortens the grace period of an erasure not yet started (received or scheduled), with a reason; a scheduled one moves to received_at + the new grace, not before now. Never lengthens. Audited (dsar.erasure.grace_shortened).';

revoke all on function privacy.shorten_grace(uuid, interval, text) from public, anon, authenticated, service_role;
grant execute on function privacy.shorten_grace(uuid, interval, text) to authenticated;
