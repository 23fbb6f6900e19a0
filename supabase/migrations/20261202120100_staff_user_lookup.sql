-- Purpose: user lookup for support staff (the console's "find a user"): by email (case-insensitive
-- prefix), Clerk id (exact, tombstoned ids included) or name (case-insensitive prefix of the display
-- name or of "first last"), with the counts a DSAR needs (projects, tabs, history), the open
-- requests and the tombstone. One security definer function, staff only, that records every lookup
-- as a staff read in the same transaction (staff.users.searched: the kind of search and the ids
-- found; never the text searched for, which may be an email address).
-- Prefix searches are ranges on lower(...) under text_pattern_ops (byte order, so the range is
-- exactly the prefix whatever the collation) and stay index scans in a generic plan, where a
-- LIKE with a parameter could not use the index.
-- Objects: indexes users_email_lower_prefix_idx, users_display_name_lower_prefix_idx,
-- users_full_name_lower_prefix_idx; function private.staff_find_users(text, text, integer).
-- Destructive: nothing (three index builds on public.users; the table is small next to its children).

create index users_email_lower_prefix_idx on public.users (lower(email) text_pattern_ops);
create index users_display_name_lower_prefix_idx on public.users (lower(display_name) text_pattern_ops);
create index users_full_name_lower_prefix_idx
  on public.users (lower(coalesce(first_name, '') || ' ' || coalesce(last_name, '')) text_pattern_ops);

create function private.staff_find_users(by text, query text, max_results integer default 20)
returns table (
  user_id text,
  email text,
  first_name text,
  last_name text,
  display_name text,
  role text,
  created_at timestamptz,
  last_active_at timestamptz,
  projects bigint,
  tabs bigint,
  history bigint,
  open_requests jsonb,
  tombstoned_at timestamptz,
  username text,
  email_verified boolean,
  banned boolean,
  locked boolean,
  locked_until timestamptz
)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  prefix text := lower(btrim(staff_find_users.query));
  -- Above every string that starts with the prefix in byte order (U+10FFFF is the largest code point).
  upper_bound text := lower(btrim(staff_find_users.query)) || chr(1114111);
  ids jsonb;
  hit_ids text[];
begin
  if not private.is_staff() then
    raise exception 'staff only' using errcode = 'P0001', hint = 'http:403';
  end if;
  if staff_find_users.by is null or staff_find_users.by not in ('email', 'id', 'name') then
    raise exception 'by must be email, id or name' using errcode = 'P0001', hint = 'http:400';
  end if;
  if prefix is null or char_length(prefix) < 2 or char_length(prefix) > 320 then
    raise exception 'the search needs 2 to 320 characters' using errcode = 'P0001', hint = 'http:400';
  end if;
  if staff_find_users.max_results is null or staff_find_users.max_results not between 1 and 50 then
    raise exception 'max_results must be between 1 and 50' using errcode = 'P0001', hint = 'http:400';
  end if;

  if staff_find_users.by = 'email' then
    select coalesce(array_agg(m.id order by m.k), '{}') into hit_ids from (
      select u.id, lower(u.email) as k from public.users u
       where lower(u.email) operator(pg_catalog.~>=~) prefix and lower(u.email) operator(pg_catalog.~<~) upper_bound
       order by lower(u.email) limit staff_find_users.max_results) m;
  elsif staff_find_users.by = 'name' then
    select coalesce(array_agg(h.id order by h.id), '{}') into hit_ids from (
      select d.id from (
        select u.id from public.users u
         where lower(u.display_name) operator(pg_catalog.~>=~) prefix
           and lower(u.display_name) operator(pg_catalog.~<~) upper_bound
        union
        select u.id from public.users u
         where lower(coalesce(u.first_name, '') || ' ' || coalesce(u.last_name, '')) operator(pg_catalog.~>=~) prefix
           and lower(coalesce(u.first_name, '') || ' ' || coalesce(u.last_name, '')) operator(pg_catalog.~<~) upper_bound
      ) d order by d.id limit staff_find_users.max_results) h;
  else
    -- Exact id (Clerk ids are case-sensitive): a live user or a tombstone of a deleted one.
    select array[btrim(staff_find_users.query)] into hit_ids
       where exists (select 1 from public.users u where u.id = btrim(staff_find_users.query))
          or exists (select 1 from private.clerk_user_tombstones t where t.user_id = btrim(staff_find_users.query));
    hit_ids := coalesce(hit_ids, '{}');
  end if;

  ids := to_jsonb(hit_ids);
  perform audit.append('staff.users.searched', 'public', 'users', null,
    jsonb_build_object('by', staff_find_users.by, 'results', jsonb_array_length(ids), 'ids', ids));

  return query
    select h.id, u.email, u.first_name, u.last_name, u.display_name, u.role, u.created_at, u.last_active_at,
           (select count(*) from public.projects p where p.user_id = h.id),
           (select count(*) from public.workspace_tabs t where t.user_id = h.id),
           (select count(*) from public.workspace_history w where w.user_id = h.id),
           coalesce((select jsonb_agg(jsonb_build_object('id', r.id, 'kind', r.kind, 'status', r.status,
                                                         'received_at', r.received_at, 'due_at', r.due_at)
                                      order by r.received_at)
                       from privacy.requests r
                      where r.subject_user_id = h.id and r.status not in ('completed', 'cancelled')), '[]'::jsonb),
           (select t.deleted_at from private.clerk_user_tombstones t where t.user_id = h.id),
           -- Clerk's account state (docs/WEBHOOKS.md, "Bans and locks"): why a user may be refused.
           u.username, u.email_verified, u.banned, u.locked, u.locked_until
      from unnest(hit_ids) with ordinality as h(id, n)
      left join public.users u on u.id = h.id
     order by h.n;
end;
$$;
comment on function private.staff_find_users(text, text, integer) is
  'Staff only (P0001 http:403): users by email prefix, exact Clerk id (tombstones too) or name prefix, case-insensitive, with counts, open DSAR requests, tombstone and Clerk account state (banned, locked). Audited as staff.users.searched (kind and ids found, never the search text).';

revoke all on function private.staff_find_users(text, text, integer) from public, anon, authenticated, service_role;
grant execute on function private.staff_find_users(text, text, integer) to authenticated;
