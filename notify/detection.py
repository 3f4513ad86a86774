"""Finding events: follow the audit trail with a claimed cursor, fan each out to its channels.

Every release change already writes a chained audit event in its own transaction, so reading
the trail in id order misses nothing and costs the transition nothing: audit ids commit in order
(the chain head stays locked until commit, releases/audit.py), so once the cursor passed an id no
earlier one can still appear. The worker claims the cursor row (SKIP LOCKED: one scan at a
time), turns the events after it into deliveries, moves it, and commits all at once; a crash
replays the batch, and the unique (destination, source) keys drop what was already queued.

To be prompt, an audit event of a watched action queues one scan when its transaction commits
(at most one scan waits at a time, a Redis key says so); the cron job scans every minute anyway.
"""

import logging

import django_rq
from django.db import transaction
from django.db.models import Max, Q
from django.db.models.signals import post_save
from django.dispatch import receiver

from notify import facts as F
from notify.delivery import enqueue_deliver, lower_priority
from notify.models import Channel, Cursor, Delivery, Kind, Timer
from releases.limits.rules import lock_until, window_closes_at
from releases.models import App, AuditEvent, Release

logger = logging.getLogger(__name__)

ACTIONS = {
    "check": "approval_needed",  # draft -> checked: the approvers' turn
    "submit_succeeded": "submitted",
    "review_delayed": "review_delayed",
    "review_rejected": "rejected",
    "review_approved": "approved",
    "publish_succeeded": "published",
    "submit_failed": "step_failed",
    "withdraw_failed": "step_failed",
    "publish_failed": "step_failed",
    "rollback_failed": "step_failed",
    "platform_unauthorized": "authorization_lost",
}
ROLLOUT_PREFIX = "rollout"  # rollout stages and halts (issue 12) are audited as rollout_*
WATCHED = Q(action__in=list(ACTIONS)) | Q(action__startswith=ROLLOUT_PREFIX)
SCAN_BATCH = 500
WAKE_KEY = "sluice:notify:scan-queued"
WAKE_TTL = 300


def event_kind(action: str) -> str | None:
    return "rollout" if action.startswith(ROLLOUT_PREFIX) else ACTIONS.get(action)


# -- fan-out ---------------------------------------------------------------------------------


class FanOut:
    """Deliveries of one scan, queued together; channels read once per team."""

    def __init__(self):
        self.rows: list[Delivery] = []
        self._channels: dict[int, list[Channel]] = {}

    def channels(self, team_id: int, event: str, app_id: int | None) -> list[Channel]:
        if team_id not in self._channels:
            self._channels[team_id] = list(Channel.objects.filter(team_id=team_id, enabled=True))
        return [
            c
            for c in self._channels[team_id]
            if event in c.events and (not c.apps or app_id is None or app_id in c.apps)
        ]

    def add(self, *, team_id, event, source, facts, release=None, app_id=None, mention=True) -> None:
        people = F.people(release, team_id, event) if team_id else []
        prefs = F.preferences(people)
        if mention:
            mobiles = sorted({p.mobile for p in prefs.values() if p.mobile})
            facts = {**facts, "mobiles": mobiles} if mobiles else facts
        if event == "approval_needed":
            facts = {**facts, "approvers": [u.get_username() for u in people]}
        common = {"team_id": team_id, "event": event, "source": source, "release": release, "app_id": app_id}
        representation = None
        for channel in self.channels(team_id, event, app_id):
            row_facts = facts
            if channel.kind == Kind.WEBHOOK and release is not None:
                representation = representation or F.release_representation(release)
                row_facts = {**facts, "release": representation}
            self.rows.append(Delivery(channel=channel, facts=row_facts, **common))
        for user in people:
            pref = prefs.get(user.pk)
            if pref is not None and pref.email_enabled and user.email:
                self.rows.append(Delivery(user=user, facts=facts, **common))

    def queue(self) -> int:
        Delivery.objects.bulk_create(self.rows, ignore_conflicts=True)
        for channel_id in {d.channel_id for d in self.rows if d.channel_id}:
            enqueue_deliver(channel_id)
        for user_id in {d.user_id for d in self.rows if d.user_id}:
            enqueue_deliver(None, user_id=user_id)
        return len(self.rows)


def _release_event(fan: FanOut, event: AuditEvent, kind: str, release: Release) -> None:
    data = dict(event.data or {})
    if kind == "step_failed":
        data["step"] = event.action.removesuffix("_failed")
    if kind == "approval_needed" and release.is_approved():
        return  # approved before its checks passed: nobody's approval is needed
    if kind == "rollout":
        data = {
            "detail": str(data.get("stage") or data.get("detail") or event.action.removeprefix("rollout_"))
        }
    facts = F.release_facts(release, kind, data)
    if kind == "rollout":
        facts["detail"] = data["detail"]
    fan.add(
        team_id=event.team_id,
        event=kind,
        source=f"audit:{event.pk}",
        facts=facts,
        release=release,
        app_id=release.app_id,
    )
    if kind == "rejected":
        _after_rejection(fan, event, release)


def _after_rejection(fan: FanOut, event: AuditEvent, release: Release) -> None:
    """A rejection may start the same-reason lock, and opens the resubmission window: both end
    later, so timers are set for the periodic job (notify.periodic)."""
    from releases.limits import clock

    app = release.app
    until, _streak = lock_until(app, event.at)
    if until is not None:
        source = f"lock:{app.pk}:{int(until.timestamp())}"
        facts = {"app": app.name, "appid": app.appid, "until": clock.when(until), "link": f"/apps/{app.pk}/"}
        fan.add(
            team_id=app.team_id,
            event="lock_started",
            source=source,
            facts=facts,
            release=release,
            app_id=app.pk,
        )
        Timer.objects.get_or_create(
            source=f"lock_ended:{app.pk}:{int(until.timestamp())}",
            defaults={"team_id": app.team_id, "event": "lock_ended", "app": app, "due_at": until},
        )
    closes = window_closes_at(release)
    if closes is not None:
        from datetime import timedelta

        Timer.objects.get_or_create(
            source=f"window_closing:{release.pk}:{int(closes.timestamp())}",
            defaults={
                "team_id": app.team_id,
                "event": "window_closing",
                "app": app,
                "release": release,
                "due_at": closes - timedelta(hours=24),
            },
        )


def _account_event(fan: FanOut, event: AuditEvent, kind: str) -> None:
    app = App.objects.filter(pk=event.app_id).first() if event.app_id else None
    facts = {
        "app": app.name if app else event.data.get("authorizer_appid", ""),
        "appid": app.appid if app else event.data.get("authorizer_appid", ""),
        "link": f"/apps/{app.pk}/" if app else "/apps/",
    }
    fan.add(team_id=event.team_id, event=kind, source=f"audit:{event.pk}", facts=facts, app_id=event.app_id)


def handle(fan: FanOut, event: AuditEvent) -> None:
    kind = event_kind(event.action)
    if kind is None or event.team_id is None:
        return
    if event.release_id is None:
        _account_event(fan, event, kind)
        return
    release = Release.objects.select_related("app", "author", "owner").filter(pk=event.release_id).first()
    if release is not None:
        _release_event(fan, event, kind, release)


def scan(limit: int = SCAN_BATCH) -> int:
    """Turn the audit events after the cursor into deliveries; returns how many were queued."""
    with transaction.atomic():
        cursor = Cursor.objects.select_for_update(skip_locked=True).filter(pk=1).first()
        if cursor is None:
            if Cursor.objects.filter(pk=1).exists():
                return 0  # another scan holds it
            cursor, _ = Cursor.objects.get_or_create(pk=1)
        head = AuditEvent.objects.aggregate(head=Max("pk"))["head"] or 0
        events = list(AuditEvent.objects.filter(WATCHED, pk__gt=cursor.last_event_id).order_by("pk")[:limit])
        fan = FanOut()
        for event in events:
            try:
                with transaction.atomic():
                    handle(fan, event)
            except Exception:  # noqa: BLE001 -- one odd event must not stop the notifications
                logger.exception("Notifications for audit event %s failed", event.pk)
        full = len(events) == limit
        cursor.last_event_id = events[-1].pk if full else max(head, events[-1].pk if events else 0)
        cursor.save(update_fields=["last_event_id"])
        queued = fan.queue()
    if full:
        django_rq.get_queue("default").enqueue(scan_job)
    return queued


def scan_job() -> int:
    lower_priority()
    django_rq.get_connection("default").delete(WAKE_KEY)
    return scan()


def wake() -> None:
    """Queue one scan unless one already waits (called after commit: a rolled-back change wakes nobody)."""
    try:
        connection = django_rq.get_connection("default")
        if connection.set(WAKE_KEY, 1, nx=True, ex=WAKE_TTL):
            django_rq.get_queue("default").enqueue(scan_job)
    except Exception:  # noqa: BLE001 -- Redis down: the cron scan catches up; the change stands
        logger.warning("Could not queue the notification scan; the periodic scan will catch up.")


@receiver(post_save, sender=AuditEvent, dispatch_uid="notify-wake")
def _audit_written(sender, instance: AuditEvent, created: bool, **kwargs) -> None:
    if created and event_kind(instance.action):
        transaction.on_commit(wake)
