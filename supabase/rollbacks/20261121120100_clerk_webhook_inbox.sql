-- Rollback of 20261121120100_clerk_webhook_inbox.sql. Destructive: drops the webhook inbox, after
-- which deliveries already applied would be applied again if Svix replays them.
drop function if exists private.apply_clerk_event(text, text, text, timestamptz, text, text, text, text,
  timestamptz, timestamptz, timestamptz, timestamptz);
drop table if exists private.clerk_webhook_inbox;
