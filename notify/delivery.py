"""Sending what is queued, from the worker: one destination at a time, within its rate limit.

A channel is claimed by locking its row and setting a short lease (`sending_until`), so two
workers never send for it at once nor count its minute twice; the HTTP calls happen after that
transaction commits, and their outcome is written in another. Robots allow 20 messages a minute
(Feishu 100): the channel keeps the times of its last minute's requests, and once they are used
up, what comes in waits; the next send carries everything due in one message ("12 releases were
approved"). Webhooks are never merged: a tool reacts to each event. A failed attempt is retried
after SLUICE_NOTIFY_RETRY_SECONDS (±20%, at least what a rate-limit code or Retry-After asks);
once those are used up the delivery fails for good, and a person may redeliver it from the log.
Quiet hours hold non-urgent deliveries until they end. Nothing here can fail a transition: it
runs in its own jobs, long after the transition committed.
"""

import logging
import os
import random
from datetime import datetime, timedelta

import django_rq
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notify import messages, transport, vendors
from notify.kinds import URGENT
from notify.models import Channel, Delivery, Kind, Preference
from releases.limits import clock

logger = logging.getLogger(__name__)
S = Delivery.Status

PER_MINUTE = {Kind.WECOM: 20, Kind.DINGTALK: 20, Kind.FEISHU: 100, Kind.WEBHOOK: 600, Kind.EMAIL: 60}
BATCH = 200  # deliveries read per claim; a coalesced message shows MAX_LINES of them
LEASE_SECONDS = 120


# -- quiet hours -----------------------------------------------------------------------------


def quiet_until(channel: Channel, now: datetime) -> datetime | None:
    """When the channel's quiet hours end, if `now` is inside them (Beijing time), else None."""
    start, end = channel.quiet_start, channel.quiet_end
    if start is None or end is None or start == end:
        return None
    local = clock.local(now)
    at = local.time()
    inside = start <= at < end if start < end else (at >= start or at < end)
    if not inside:
        return None
    day = local.date() if at < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=clock.BEIJING)


def _hold_quiet(channel: Channel, due: list[Delivery], now: datetime) -> list[Delivery]:
    until = quiet_until(channel, now)
    if until is None:
        return due
    held = [d.pk for d in due if d.event not in URGENT]
    Delivery.objects.filter(pk__in=held).update(status=S.HELD, next_attempt_at=until)
    return [d for d in due if d.event in URGENT]


# -- claiming --------------------------------------------------------------------------------


def _recent(channel: Channel, now: datetime) -> list[float]:
    floor = now.timestamp() - 60
    return [t for t in channel.recent_sends if t > floor]


def _due(queryset, now: datetime):
    return queryset.filter(status__in=Delivery.PENDING, next_attempt_at__lte=now).order_by("pk")


def _claim_channel(
    channel_id: int, now: datetime
) -> tuple[Channel | None, list[list[Delivery]], float | None]:
    """Lock the channel, pick what to send now; returns it, the messages (lists of deliveries)
    and, when the minute's budget is used up, when to look again."""
    with transaction.atomic():
        channel = Channel.objects.select_for_update(skip_locked=True).filter(pk=channel_id).first()
        if channel is None or (channel.sending_until and channel.sending_until > now):
            return None, [], None
        due = list(_due(channel.deliveries.all(), now)[:BATCH])
        if not channel.enabled and due:
            why = channel.disabled_reason or "The channel is disabled."
            Delivery.objects.filter(pk__in=[d.pk for d in due]).update(status=S.FAILED, answer=why)
            return None, [], None
        due = _hold_quiet(channel, due, now)
        if not due:
            return None, [], None
        recent = _recent(channel, now)
        budget = PER_MINUTE[channel.kind] - len(recent)
        if budget <= 0:
            return None, [], min(recent) + 60.5 - now.timestamp()
        # webhooks: one event a request, as tools expect; robots and email: one message for all
        groups = [[d] for d in due[:budget]] if channel.kind == Kind.WEBHOOK else [due]
        channel.sending_until = now + timedelta(seconds=LEASE_SECONDS)
        channel.recent_sends = recent
        channel.save(update_fields=["sending_until", "recent_sends"])
    return channel, groups, None


# -- one attempt -----------------------------------------------------------------------------


def _now_ms(now: datetime) -> int:
    return int(now.timestamp() * 1000)


def requests_for(channel: Channel, group: list[Delivery], now: datetime) -> list[vendors.Outgoing]:
    if channel.kind == Kind.WEBHOOK:
        d = group[0]
        body = vendors.webhook_body(d.event, d.facts, d.created_at.isoformat())
        return vendors.webhook(channel.url, channel.secret, d.message_id, body, int(now.timestamp()))
    message = messages.compose([(d.event, d.facts) for d in group], channel.language)
    if channel.kind == Kind.WECOM:
        return vendors.wecom(channel.url, message)
    if channel.kind == Kind.DINGTALK:
        return vendors.dingtalk(channel.url, channel.secret, message, _now_ms(now))
    return vendors.feishu(channel.url, channel.secret, message, int(now.timestamp()))


def _email(to: list[str], group: list[Delivery], language: str) -> vendors.Outcome:
    message = messages.compose([(d.event, d.facts) for d in group], language)
    body = "\n".join([*message.lines, "", message.link]).strip()
    try:
        return vendors.Outcome(True, transport.send_email(to, message.title, body))
    except Exception as exc:  # noqa: BLE001 -- SMTP raises many kinds; each is worth a retry
        return vendors.Outcome(False, f"{type(exc).__name__}: {exc}", retry=True)


def attempt(channel: Channel, group: list[Delivery], now: datetime) -> tuple[vendors.Outcome, int]:
    """Send one message; returns its outcome and how many requests went out."""
    if channel.kind == Kind.EMAIL:
        to = [a.strip() for a in channel.to.split(",") if a.strip()]
        return _email(to, group, channel.language), 1
    sent = 0
    outcome = vendors.Outcome(False, "Nothing was sent.")
    try:
        for outgoing in requests_for(channel, group, now):
            response = transport.post(outgoing)
            sent += 1
            if channel.kind == Kind.WEBHOOK:
                outcome = vendors.webhook_outcome(
                    response.status_code, response.text, response.headers.get("retry-after")
                )
            else:
                outcome = vendors.robot_outcome(channel.kind, response.status_code, response.text)
            if not outcome.ok:
                break
    except transport.TransportError as exc:
        outcome = vendors.Outcome(False, str(exc), retry=True)
    except Exception as exc:  # noqa: BLE001 -- one bad message must not stop the others
        logger.exception("Notification %s to channel %s failed unexpectedly", group[0].pk, channel.pk)
        outcome = vendors.Outcome(False, f"Unexpected error: {type(exc).__name__}", retry=True)
    return outcome, max(sent, 1)


def retry_delay(attempts: int, wait: int) -> float | None:
    """Seconds before attempt `attempts + 1`, or None when the schedule is used up."""
    schedule = settings.SLUICE_NOTIFY_RETRY_SECONDS
    if attempts > len(schedule):
        return None
    return max(schedule[attempts - 1] * random.uniform(0.8, 1.2), wait)


def record(group: list[Delivery], outcome: vendors.Outcome, now: datetime) -> float | None:
    """Write the attempt's outcome on every delivery of the message; returns the retry delay."""
    first = group[0]
    attempts = first.attempts + 1
    delay = retry_delay(attempts, outcome.wait) if outcome.retry and not outcome.ok else None
    if outcome.ok:
        status = S.SENT
    elif delay is not None:
        status = S.RETRYING
    else:
        status = S.FAILED
    values = {
        "status": status,
        "answer": outcome.answer,
        "http_status": outcome.http_status,
        "carried": len(group),
        "next_attempt_at": now + timedelta(seconds=delay or 0),
        "sent_at": now if outcome.ok else None,
    }
    for d in group:
        d.attempts = max(d.attempts, first.attempts) + 1
        for key, value in values.items():
            setattr(d, key, value)
        d.carried_by = first if d is not first else None
    Delivery.objects.bulk_update(group, [*values, "attempts", "carried_by"])
    return delay


def _release(channel: Channel, sends: int, now: datetime, outcome: vendors.Outcome | None) -> None:
    with transaction.atomic():
        fresh = Channel.objects.select_for_update().get(pk=channel.pk)
        fresh.recent_sends = _recent(fresh, now) + [now.timestamp()] * sends
        fresh.sending_until = None
        fields = ["recent_sends", "sending_until"]
        if outcome is not None and outcome.disable:
            fresh.enabled, fresh.disabled_reason = False, f"The endpoint answered {outcome.http_status} Gone."
            fields += ["enabled", "disabled_reason"]
        fresh.save(update_fields=fields)


def deliver_channel(channel_id: int) -> int:
    """Send what is due for one channel now; returns the number of messages sent."""
    now = timezone.now()
    channel, groups, wait = _claim_channel(channel_id, now)
    if wait is not None:
        enqueue_deliver(channel_id, delay=wait)
    if channel is None:
        return 0
    sends, delays, last = 0, [], None
    try:
        for group in groups:
            outcome, requests = attempt(channel, group, now)
            sends += requests
            last = outcome if outcome.disable else last
            delay = record(group, outcome, now)
            if delay is not None:
                delays.append(delay)
    finally:
        _release(channel, sends, now, last)
    if _due(channel.deliveries.all(), timezone.now()).exists():
        enqueue_deliver(channel_id)
    elif delays:
        enqueue_deliver(channel_id, delay=min(delays))
    return len(groups)


def deliver_user(user_id: int) -> int:
    """Send a person's own email: what is due, in one message, in their language."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            _due(Delivery.objects.select_for_update(skip_locked=True).filter(user_id=user_id), now)[:BATCH]
        )
        if not due:
            return 0
        Delivery.objects.filter(pk__in=[d.pk for d in due]).update(
            next_attempt_at=now + timedelta(seconds=LEASE_SECONDS)
        )
    preference = Preference.objects.filter(user_id=user_id).select_related("user").first()
    if preference is None or not preference.email_enabled or not preference.user.email:
        outcome = vendors.Outcome(
            False, "Email is off in this person's preferences, or they have no address."
        )
    else:
        outcome = _email([preference.user.email], due, preference.language)
    delay = record(due, outcome, now)
    if delay is not None:
        enqueue_deliver(None, user_id=user_id, delay=delay)
    return 1


# -- jobs ------------------------------------------------------------------------------------


def lower_priority() -> None:
    """Notification work yields the CPU to requests and transitions: the work horse RQ forks for
    this job lowers its own priority by SLUICE_NOTIFY_NICE (0 in tests, whose worker runs jobs in
    the test process itself)."""
    if settings.SLUICE_NOTIFY_NICE:
        os.nice(settings.SLUICE_NOTIFY_NICE)


def deliver_job(channel_id: int | None, user_id: int | None = None) -> int:
    lower_priority()
    if channel_id is not None:
        return deliver_channel(channel_id)
    return deliver_user(user_id)


def enqueue_deliver(
    channel_id: int | None, *, user_id: int | None = None, delay: float | None = None
) -> None:
    queue = django_rq.get_queue("default")
    if delay and delay > 0:
        when = timedelta(seconds=delay)
        transaction.on_commit(lambda: queue.enqueue_in(when, deliver_job, channel_id, user_id))
    else:
        queue.enqueue(deliver_job, channel_id, user_id)  # COMMIT_MODE=on_db_commit


def sweep_due() -> int:
    """Queue a send for every destination with something due (held messages at the end of quiet
    hours, retries whose scheduled job was lost). Cron, every minute."""
    now = timezone.now()
    due = _due(Delivery.objects.all(), now)
    channels = set(due.exclude(channel=None).values_list("channel_id", flat=True).distinct())
    users = set(due.exclude(user=None).values_list("user_id", flat=True).distinct())
    for channel_id in channels:
        enqueue_deliver(channel_id)
    for user_id in users:
        enqueue_deliver(None, user_id=user_id)
    return len(channels) + len(users)
