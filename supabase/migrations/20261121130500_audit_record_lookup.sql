-- Purpose: "every entry about record X" for the admin search. An entry names a single record in
-- target_id, a statement-level entry lists its records in details.ids. Staff read audit.log under
-- row-level security, and under RLS Postgres uses only leakproof operators as index conditions:
-- jsonb's `?` is not, so the details.ids GIN index would be ignored (a full scan). This helper runs
-- as the owner (after checking the caller is staff, automation or the owner) and returns the ids
-- of the matching entries; the search then reads those rows under RLS by primary key.
-- Objects: function audit.entries_about(text, text).
-- Destructive: nothing.

create function audit.entries_about(target_table text, target_id text)
returns bigint[]
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform audit.require_reviewer();
  -- A bitmap OR of log_target_occurred_at_idx and log_details_ids_idx.
  return array(
    select l.id
      from audit.log l
     where l.target_table = entries_about.target_table
       and (l.target_id = entries_about.target_id
            or (l.details ? 'ids' and (l.details -> 'ids') ? entries_about.target_id))
  );
end;
$$;
comment on function audit.entries_about(text, text) is
  'Ids of the audit entries about one record: target_id, or listed in details.ids by a statement-level entry. Staff, automation and the owner only.';

revoke all on function audit.entries_about(text, text) from public, anon, authenticated, service_role;
grant execute on function audit.entries_about(text, text) to authenticated;
