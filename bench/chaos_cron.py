"""The periodic jobs of a chaos run (`manage.py rqcron bench/chaos_cron.py`, started by bench/chaos.py).

The same sweeps as config/cron.py, every few seconds instead of every minute (or five), so a
run of a few minutes shows whether every step a killed worker left behind is picked up again.
"""

import os

from rq import cron

from releases.jobs import sweep_in_flight_job
from reviews.jobs import sweep_reviews

SWEEP_SECONDS = int(os.environ.get("CHAOS_SWEEP_SECONDS", "5"))

cron.register(sweep_in_flight_job, queue_name="default", interval=SWEEP_SECONDS)
cron.register(sweep_reviews, queue_name="default", interval=SWEEP_SECONDS)
