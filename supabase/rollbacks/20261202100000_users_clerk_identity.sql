-- Rollback of 20261202100000_users_clerk_identity.sql: drops the Clerk identity, ban and lock
-- columns of public.users, the inbox's pending-session columns and outcomes, the warning
-- counters and their data map rows. Destructive: the values in those columns and counters.

delete from privacy.data_map_columns
 where (table_schema, table_name) = ('public', 'users')
   and column_name in ('username', 'phone_number', 'email_verified', 'has_image', 'external_id', 'banned', 'locked', 'locked_until');
delete from privacy.data_map_columns
 where (table_schema, table_name) = ('private', 'clerk_webhook_inbox')
   and column_name in ('session_started_at', 'session_active_at');

drop table ops.clerk_sync_warnings;

update private.clerk_webhook_inbox set outcome = 'unknown_user' where outcome = 'pending';
update private.clerk_webhook_inbox set outcome = 'applied' where outcome = 'impersonated';
alter table private.clerk_webhook_inbox
  drop constraint clerk_webhook_inbox_outcome_known,
  add constraint clerk_webhook_inbox_outcome_known
    check (outcome in ('applied', 'stale', 'tombstoned', 'unknown_user', 'ignored')),
  drop column session_started_at,
  drop column session_active_at;
comment on column private.clerk_webhook_inbox.outcome is
  'applied: changed data | stale: older than what is stored, nothing changed | tombstoned: the user was deleted, nothing changed | unknown_user: session event for a user not stored | ignored: event type not handled.';

alter table public.users
  drop constraint users_locked_until_needs_lock,
  drop column username,
  drop column phone_number,
  drop column email_verified,
  drop column has_image,
  drop column external_id,
  drop column banned,
  drop column locked,
  drop column locked_until;
