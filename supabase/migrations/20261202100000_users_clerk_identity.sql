-- Purpose: keep what a real Clerk instance sends about a user beyond email, names and image:
-- the identifiers (username, primary phone number, external id), whether the primary email is
-- verified, whether the image is a real upload (Clerk's has_image; its generated default avatar
-- is not kept as a picture), and the ban and lock state that the API and the Data API enforce
-- (migration 20261202100200). The webhook inbox keeps the timestamps of a session event whose
-- user is not known yet (outcome pending) so the later user.created gets them, and records
-- impersonated sessions (outcome impersonated). A small counter table counts payloads Clerk
-- considers valid that this backend could only partly store (e.g. a primary email id naming no
-- address), so they are accepted and still visible to operators.
-- Objects: columns public.users.{username, phone_number, email_verified, has_image, external_id,
-- banned, locked, locked_until}; columns private.clerk_webhook_inbox.{session_started_at,
-- session_active_at} and outcomes pending, impersonated; table ops.clerk_sync_warnings (+ RLS,
-- grants); privacy data map rows of the new columns.
-- Destructive: nothing (new nullable or defaulted columns; the outcome check only widens).

alter table public.users
  add column username text
    constraint users_username_length check (char_length(username) between 1 and 256),
  add column phone_number text
    constraint users_phone_number_e164 check (phone_number ~ '^\+[1-9][0-9]{1,14}$'),
  add column email_verified boolean,
  add column has_image boolean,
  add column external_id text
    constraint users_external_id_length check (char_length(external_id) between 1 and 512),
  add column banned boolean not null default false,
  add column locked boolean not null default false,
  add column locked_until timestamptz,
  add constraint users_locked_until_needs_lock check (locked or locked_until is null);

comment on column public.users.username is 'Clerk username (an identifier, for username-only sign-ins). Clerk-owned.';
comment on column public.users.phone_number is 'Primary phone number as Clerk reports it (E.164; the number whose id is primary_phone_number_id). Clerk-owned.';
comment on column public.users.email_verified is 'Whether Clerk reports the primary email as verified (verification.status = verified); null when there is no email or it is not known yet (just-in-time rows).';
comment on column public.users.has_image is 'Clerk has_image: true when image_url is a real upload. When false, Clerk''s generated default avatar is not kept (image_url null). Null when not known yet.';
comment on column public.users.external_id is 'Clerk external_id: the customer''s own id for this user, set through Clerk''s Backend API. Clerk-owned.';
comment on column public.users.banned is 'Clerk banned: a banned user is refused by the API and the Data API (private.refuse_suspended_caller) until Clerk unbans them.';
comment on column public.users.locked is 'Clerk locked (too many failed sign-ins): refused like a ban until locked_until, or until Clerk unlocks them when locked_until is null.';
comment on column public.users.locked_until is 'When Clerk''s lockout ends (event time + lockout_expires_in_seconds); null with locked = true: until Clerk unlocks.';

-- The inbox keeps a session event's timestamps while its user is not known (outcome pending):
-- applied when the user appears, pruned with the inbox (prune-webhook-inbox) otherwise.
alter table private.clerk_webhook_inbox
  add column session_started_at timestamptz,
  add column session_active_at timestamptz,
  drop constraint clerk_webhook_inbox_outcome_known,
  add constraint clerk_webhook_inbox_outcome_known
    check (outcome in ('applied', 'stale', 'tombstoned', 'unknown_user', 'ignored', 'pending', 'impersonated'));

comment on column private.clerk_webhook_inbox.session_started_at is 'For a pending session.created: the session''s created_at, applied as last_sign_in_at when the user appears.';
comment on column private.clerk_webhook_inbox.session_active_at is 'For a pending session event: the session''s last_active_at, applied as last_active_at when the user appears.';
comment on column private.clerk_webhook_inbox.outcome is
  'applied: changed data | stale: older than what is stored, nothing changed | tombstoned: the user was deleted, nothing changed | unknown_user: (before 20261202100000) session event for a user not stored | pending: session event for a user not stored yet, applied when the user appears | impersonated: a session started by impersonation (Clerk actor), audited, not the user''s activity | ignored: event type not handled.';

create table ops.clerk_sync_warnings (
  bucket timestamptz not null,
  kind text not null
    constraint clerk_sync_warnings_kind_shape check (kind ~ '^[a-z][a-z0-9_]{0,62}$'),
  count bigint not null default 0
    constraint clerk_sync_warnings_count_positive check (count >= 0),
  constraint clerk_sync_warnings_pkey primary key (bucket, kind)
);
comment on table ops.clerk_sync_warnings is
  'Clerk payloads accepted although part of them could not be stored (a primary email id naming no address, a phone number that is not E.164, ...), counted per hour and kind. Written by private.count_clerk_sync_warnings in the delivery''s transaction (so exactly once per delivery); no personal data. Buckets older than 90 days are dropped on write.';
comment on column ops.clerk_sync_warnings.bucket is 'Start of the hour (UTC) the deliveries were applied in.';
comment on column ops.clerk_sync_warnings.kind is 'What was wrong: primary_email_missing | primary_email_invalid | primary_phone_missing | phone_number_invalid | username_invalid | external_id_invalid | image_url_refused.';
comment on column ops.clerk_sync_warnings.count is 'Deliveries with that warning in the hour.';

-- Written only through private.count_clerk_sync_warnings (security definer); read by staff
-- metrics through the ops schema's owner functions. No API role touches it.
alter table ops.clerk_sync_warnings enable row level security;
revoke all on table ops.clerk_sync_warnings from public, anon, authenticated, service_role;

-- The privacy data map: the new columns are classified; export and erasure follow the map (the
-- users row is exported whole and deleted whole; inbox rows lose the user id on erasure).
insert into privacy.data_map_columns (table_schema, table_name, column_name, classification, personal, anonymize) values
  ('public', 'users', 'username', 'identifier', true, false),
  ('public', 'users', 'phone_number', 'contact', true, false),
  ('public', 'users', 'email_verified', 'technical', true, false),
  ('public', 'users', 'has_image', 'profile', true, false),
  ('public', 'users', 'external_id', 'identifier', true, false),
  ('public', 'users', 'banned', 'technical', true, false),
  ('public', 'users', 'locked', 'technical', true, false),
  ('public', 'users', 'locked_until', 'technical', true, false),
  ('private', 'clerk_webhook_inbox', 'session_started_at', 'usage', true, false),
  ('private', 'clerk_webhook_inbox', 'session_active_at', 'usage', true, false);
