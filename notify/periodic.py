"""Events no transition writes, found by a periodic job: time passing makes them true.

Each is queued once, by a source key naming the fact (the lock that lifted, the review's
working-day count, the quota's value this month...), so the job can run as often as it likes.
`minute_job` also scans the audit trail (in case a wake-up was lost), queues what is due (held
messages at the end of quiet hours, retries) and the morning digests; `hourly_job` looks for
the slower facts (quota, apps without a release).
"""

from datetime import datetime, timedelta

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from notify import delivery, detection
from notify import facts as F
from notify.detection import FanOut
from notify.messages import django_language
from notify.models import Channel, Delivery, Timer
from releases import approvals
from releases.limits import clock
from releases.limits.quota import account_budgets
from releases.limits.rules import lock_until, window_closes_at
from releases.models import App, CheckRun, PlatformAccount, Release, State
from releases.workdays import EXPECTED_WORKING_DAYS, MAX_WORKING_DAYS, elapsed_working_days, is_working_day

QUOTA_LOW = 3
STALE_DAYS = 30
DIGEST_LATE_HOURS = 2  # after downtime, a digest older than this is skipped, not sent at noon


def fire_timers(fan: FanOut, now: datetime) -> None:
    for timer in Timer.objects.filter(fired_at=None, due_at__lte=now).select_related("app", "release"):
        if timer.event == "lock_ended" and lock_until(timer.app, now)[0] is None:
            facts = {"app": timer.app.name, "appid": timer.app.appid, "link": f"/apps/{timer.app_id}/"}
            fan.add(
                team_id=timer.team_id,
                event="lock_ended",
                source=timer.source,
                facts=facts,
                app_id=timer.app_id,
            )
        elif timer.event == "window_closing" and timer.release is not None:
            closes = window_closes_at(timer.release)
            if closes is not None and closes > now:
                facts = {**F.release_facts(timer.release, "window_closing"), "closes": clock.when(closes)}
                fan.add(
                    team_id=timer.team_id,
                    event="window_closing",
                    source=timer.source,
                    facts=facts,
                    release=timer.release,
                    app_id=timer.app_id,
                )
        timer.fired_at = now
        timer.save(update_fields=["fired_at"])


def failed_checks(fan: FanOut, now: datetime) -> None:
    runs = CheckRun.objects.filter(finished_at__gte=now - timedelta(hours=2), passed=False).select_related(
        "release__app", "release__author", "release__owner"
    )
    for run in runs:
        release = run.release
        if run.revision != release.revision:
            continue
        facts = F.release_facts(release, "checks_failed")
        facts["checks"] = [r.title for r in run.results.all() if r.blocks][:5]
        fan.add(
            team_id=release.app.team_id,
            event="checks_failed",
            source=f"checkrun:{run.pk}",
            facts=facts,
            release=release,
            app_id=release.app_id,
        )


def overdue_reviews(fan: FanOut, now: datetime) -> None:
    for release in (
        Release.objects.filter(state=State.SUBMITTED).exclude(submitted_at=None).select_related("app")
    ):
        days = elapsed_working_days(release.submitted_at, now)
        if days <= EXPECTED_WORKING_DAYS:
            continue
        stage = "overdue" if days > MAX_WORKING_DAYS else "late"
        facts = {**F.release_facts(release, "review_overdue"), "days": days}
        fan.add(
            team_id=release.app.team_id,
            event="review_overdue",
            source=f"overdue:{release.pk}:{int(release.submitted_at.timestamp())}:{stage}",
            facts=facts,
            release=release,
            app_id=release.app_id,
        )


def low_quota(fan: FanOut, now: datetime) -> None:
    accounts = list(PlatformAccount.objects.all())
    for account_id, budgets in account_budgets(accounts, now).items():
        remaining = budgets.review.remaining
        if remaining is None or remaining > QUOTA_LOW:
            continue
        account = next(a for a in accounts if a.pk == account_id)
        reset = int(budgets.review.resets_at.timestamp())
        facts = {"account": account.name, "remaining": remaining, "link": "/"}
        fan.add(
            team_id=account.team_id,
            event="quota_low",
            source=f"quota:{account_id}:{reset}:{remaining}",
            facts=facts,
        )


def quiet_apps(fan: FanOut, now: datetime) -> None:
    cutoff = now - timedelta(days=STALE_DAYS)
    apps = App.objects.annotate(last=Max("releases__created_at"), last_id=Max("releases__pk"))
    for app in apps.filter(created_at__lt=cutoff):
        if app.last is not None and app.last >= cutoff:
            continue
        facts = {"app": app.name, "appid": app.appid, "link": f"/apps/{app.pk}/"}
        fan.add(
            team_id=app.team_id,
            event="no_release_30_days",
            source=f"stale:{app.pk}:{app.last_id or 0}",
            facts=facts,
            app_id=app.pk,
        )


# -- the morning digest ----------------------------------------------------------------------


def digest_sections(team_id: int, now: datetime, language: str) -> list[str]:
    """In review (working days), waiting for approval (and whom), locks, windows, quota."""
    from django.utils import translation

    lines = []
    releases = Release.objects.filter(app__team_id=team_id).select_related("app")
    with translation.override(django_language(language)):
        for r in releases.filter(state=State.SUBMITTED).exclude(submitted_at=None):
            days = elapsed_working_days(r.submitted_at, now)
            lines.append(
                _("In review: %(app)s %(version)s, %(days)s working days")
                % {"app": r.app.name, "version": r.version, "days": days}
            )
        for r in releases.filter(state=State.CHECKED):
            status = approvals.policy_status(r)
            if not status.complete:
                lines.append(
                    _("Waiting for approval: %(app)s %(version)s (%(who)s)")
                    % {"app": r.app.name, "version": r.version, "who": ", ".join(status.missing)}
                )
        for app in App.objects.filter(team_id=team_id):
            until = lock_until(app, now)[0]
            if until is not None:
                lines.append(
                    _("Locked: %(app)s until %(until)s") % {"app": app.name, "until": clock.when(until)}
                )
        for r in releases.filter(state=State.REJECTED):
            closes = window_closes_at(r)
            if closes is not None and closes > now:
                lines.append(
                    _("Resubmit by %(closes)s: %(app)s %(version)s")
                    % {"closes": clock.when(closes), "app": r.app.name, "version": r.version}
                )
        accounts = list(PlatformAccount.objects.filter(team_id=team_id))
        for account_id, budgets in account_budgets(accounts, now).items():
            name = next(a.name for a in accounts if a.pk == account_id)
            left = budgets.review.remaining
            lines.append(
                _("Quota: %(account)s, %(left)s reviews left")
                % {"account": name, "left": "?" if left is None else left}
            )
        if not lines:
            lines.append(_("Nothing in review, nothing waiting."))
    return lines


def digest_due(channel: Channel, now: datetime) -> bool:
    local = clock.local(now)
    at = datetime.combine(local.date(), channel.digest_time, tzinfo=clock.BEIJING)
    if not at <= local < at + timedelta(hours=DIGEST_LATE_HOURS):
        return False
    return is_working_day(local.date()) or not channel.digest_working_days_only


def digests(now: datetime) -> int:
    queued = []
    for channel in Channel.objects.filter(enabled=True).select_related("team"):
        if "digest" not in channel.events or not digest_due(channel, now):
            continue
        day = clock.local(now).date().isoformat()
        if Delivery.objects.filter(channel=channel, source=f"digest:{day}").exists():
            continue
        facts = {
            "team": channel.team.name,
            "sections": digest_sections(channel.team_id, now, channel.language),
            "link": "/",
        }
        Delivery.objects.bulk_create(
            [
                Delivery(
                    channel=channel,
                    team_id=channel.team_id,
                    event="digest",
                    source=f"digest:{day}",
                    facts=facts,
                )
            ],
            ignore_conflicts=True,
        )
        queued.append(channel.pk)
    for channel_id in queued:
        delivery.enqueue_deliver(channel_id)
    return len(queued)


def minute_job() -> int:
    delivery.lower_priority()
    now = timezone.now()
    detection.scan()
    fan = FanOut()
    fire_timers(fan, now)
    failed_checks(fan, now)
    fan.queue()
    digests(now)
    return delivery.sweep_due()


def hourly_job() -> int:
    delivery.lower_priority()
    now = timezone.now()
    fan = FanOut()
    overdue_reviews(fan, now)
    low_quota(fan, now)
    quiet_apps(fan, now)
    return fan.queue()
