"""Periodic jobs for `manage.py rqcron config/cron.py`."""

from rq import cron

from releases.jobs import sweep_in_flight_job

# Finish platform steps whose worker died (see release_sweep_in_flight).
cron.register(sweep_in_flight_job, queue_name="default", interval=60)
