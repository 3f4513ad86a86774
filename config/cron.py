"""Periodic jobs for `manage.py rqcron config/cron.py`."""

from rq import cron

from notify.periodic import hourly_job, minute_job
from releases.audit_checkpoints import CHECKPOINT_EVERY_SECONDS, checkpoint_job
from releases.audit_verification import VERIFY_EVERY_SECONDS, VERIFY_JOB_TIMEOUT_SECONDS, verify_audit_job
from releases.campaigns.jobs import campaigns_tick_job
from releases.jobs import rollout_tick_job, sweep_in_flight_job
from releases.limits.jobs import expire_overdue_releases_job, refresh_quotas_job, sync_rejections_job
from reviews.jobs import summarise_refusals, sweep_reviews, sweep_screenshots
from simulator.jobs import push_tickets_job

# Finish platform steps whose worker died (see release_sweep_in_flight).
cron.register(sweep_in_flight_job, queue_name="default", interval=60)
# Advance phased releases whose stage hold ended, reconcile the others (releases.rollout_services).
cron.register(rollout_tick_job, queue_name="platform", interval=60)
# Campaigns: a driver run for each campaign with work to do (a running one is left alone).
cron.register(campaigns_tick_job, queue_name="default", interval=30)
# Poll submitted WeChat reviews whose scheduled poll was lost (see reviews.polling.review_sweep).
cron.register(sweep_reviews, queue_name="default", interval=300)
# Rejection screenshots whose fetch failed or was never queued (see reviews.screenshots).
cron.register(sweep_screenshots, queue_name="default", interval=300)
# Refused callback deliveries: one audit event per account and minute (see reviews.refusals).
cron.register(summarise_refusals, queue_name="default", interval=60)
# The simulator pushes a component_verify_ticket every 10 minutes, as WeChat does (no-op when off).
cron.register(push_tickets_job, queue_name="default", interval=600)
# Rejected releases past their 7-day resubmission window become expired.
cron.register(expire_overdue_releases_job, queue_name="default", interval=600)
# The platform accounts' review quota (queryquota): the meter between reads is computed locally.
cron.register(refresh_quotas_job, queue_name="platform", interval=3600)
# Repair: rejections stored by older code without their items and tasks get them (see
# releases.rejection_recording.sync_rejections); finds nothing once no such row is left.
cron.register(sync_rejections_job, queue_name="default", interval=300)
# Walk the audit hash chain and record the result the audit browser shows.
cron.register(
    verify_audit_job,
    queue_name="default",
    interval=VERIFY_EVERY_SECONDS,
    job_timeout=VERIFY_JOB_TIMEOUT_SECONDS,
)
# A signed checkpoint of the audit chain into SLUICE_AUDIT_CHECKPOINT_DIR (a no-op when unset).
cron.register(checkpoint_job, queue_name="default", interval=CHECKPOINT_EVERY_SECONDS)
# Notifications: scan the audit trail, fire timers, send what is due, the morning digests.
cron.register(minute_job, queue_name="default", interval=60)
# Notifications about slower facts: reviews overdue, quota low, apps without a release in 30 days.
cron.register(hourly_job, queue_name="default", interval=3600)
