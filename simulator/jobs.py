"""RQ entry points of the simulator (queue "default"): pushes, scripted decisions, ticket pushes."""

from datetime import timedelta

import django_rq
from rq import Retry

# WeChat retries a push a few times when the callback does not answer; so do we.
PUSH_RETRY = Retry(max=2, interval=[5, 15])


def push_job(push_id: int) -> None:
    from simulator.services import deliver_push

    deliver_push(push_id)


def scripted_decision_job(auditid: int, final: bool = False) -> None:
    from simulator.services import scripted_decide

    scripted_decide(auditid, final=final)


def push_tickets_job() -> int:
    """Every 10 minutes on WeChat: a fresh component_verify_ticket for each platform (no-op when the
    simulator is off, so cron can list it unconditionally)."""
    from django.conf import settings

    from simulator.models import SimComponent
    from simulator.services import sim_push_ticket

    if not settings.SIMULATOR:
        return 0
    appids = list(SimComponent.objects.values_list("appid", flat=True))
    for appid in appids:
        sim_push_ticket(appid)
    return len(appids)


def enqueue_push(push_id: int) -> None:
    django_rq.get_queue("default").enqueue(push_job, push_id, retry=PUSH_RETRY)


def enqueue_scripted_decision(auditid: int, delay: timedelta, *, final: bool = False) -> None:
    django_rq.get_queue("default").enqueue_in(delay, scripted_decision_job, auditid, final)
