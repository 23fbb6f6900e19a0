-- Rollback of 20261202150100_privacy_shorten_grace.
drop function privacy.shorten_grace(uuid, interval, text);
