-- Rollback of 20261201100400_privacy_runner_schedule: unschedules the runner job (when it was
-- scheduled) and drops its functions. pg_net stays: it may have been enabled before this
-- migration (dashboard), and dropping it discards queued requests; drop it by hand if unused.
select ops.unschedule_job('privacy-erasure-runner');
drop function if exists ops.schedule_privacy_runner(text);
drop function if exists ops.privacy_runner_command(text);
