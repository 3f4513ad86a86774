"""Publish windows and freezes: when a version may go live, in Beijing time.

A team's policy (`Team.publish_policy`), which an app may replace (`App.settings["publish_window"]`):

    {"windows": [{"days": ["mon", "tue", "wed", "thu"], "from": "10:00", "to": "16:00"}],
     "working_days_only": true,
     "freezes": [{"from": "2026-11-09T00:00", "to": "2026-11-12T00:00", "reason": "Double 11"}],
     "advance_in_window": false}

No windows: any time. With `working_days_only`, China's public holidays are closed and the
weekend days made working days (调休) open with the hours of a Monday (chinesecalendar, through
releases.workdays). A freeze closes everything between its two moments, whatever the windows.
`advance_in_window`: a phased release's scheduler only starts a stage inside a window.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils.translation import gettext_noop

from releases.errors import Invalid
from releases.limits import clock
from releases.workdays import is_working_day

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HORIZON_DAYS = 400


@dataclass(frozen=True)
class Freeze:
    start: datetime
    end: datetime
    reason: str


def _bad(message: str) -> Invalid:
    return Invalid("invalid_publish_policy", message, details={"publish_policy": message})


def _clock_time(value, where: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise _bad(
            gettext_noop("%(where)s: “%(value)s” is not a time of day like 10:00.")
            % {"where": where, "value": value}
        ) from None


def _moment(value, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise _bad(
            gettext_noop("%(where)s: “%(value)s” is not a date and time like 2026-11-09T00:00.")
            % {"where": where, "value": value}
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=clock.BEIJING)


def parse_policy(value) -> dict:
    """The policy checked and normalised; 400 `invalid_publish_policy` naming what is wrong."""
    if value in (None, {}):
        return {}
    if not isinstance(value, dict) or set(value) - {
        "windows",
        "working_days_only",
        "freezes",
        "advance_in_window",
    }:
        raise _bad(
            gettext_noop("A publish policy has windows, working_days_only, freezes and advance_in_window.")
        )
    windows = []
    for number, window in enumerate(value.get("windows") or [], start=1):
        if not isinstance(window, dict) or not isinstance(window.get("days"), list):
            raise _bad(f'Window {number} needs “days” (e.g. ["mon", "tue"]), “from” and “to”.')
        days = [str(day).lower()[:3] for day in window["days"]]
        if not days or set(days) - set(DAYS):
            raise _bad(
                gettext_noop("Window %(number)s: days are %(days)s.")
                % {"number": number, "days": ", ".join(DAYS)}
            )
        where = gettext_noop("Window %(number)s") % {"number": number}
        start = _clock_time(window.get("from"), where)
        end = _clock_time(window.get("to"), where)
        if end <= start:
            raise _bad(gettext_noop("Window %(number)s must end after it starts.") % {"number": number})
        windows.append({"days": days, "from": start.strftime("%H:%M"), "to": end.strftime("%H:%M")})
    freezes = []
    for number, freeze in enumerate(value.get("freezes") or [], start=1):
        if not isinstance(freeze, dict):
            raise _bad(
                gettext_noop("Freeze %(number)s needs “from”, “to” and “reason”.") % {"number": number}
            )
        start, end = (
            _moment(freeze.get("from"), gettext_noop("Freeze %(number)s") % {"number": number}),
            _moment(freeze.get("to"), gettext_noop("Freeze %(number)s") % {"number": number}),
        )
        reason = str(freeze.get("reason") or "").strip()
        if end <= start or not reason:
            raise _bad(
                gettext_noop("Freeze %(number)s must end after it starts and say why.") % {"number": number}
            )
        freezes.append({"from": start.isoformat(), "to": end.isoformat(), "reason": reason})
    return {
        "windows": windows,
        "working_days_only": bool(value.get("working_days_only", False)),
        "freezes": freezes,
        "advance_in_window": bool(value.get("advance_in_window", False)),
    }


def policy_for(app) -> dict:
    """The app's own policy if it has one, else its team's."""
    return policy_of(app.settings, app.team.publish_policy)


def policy_of(app_settings: dict | None, team_policy: dict | None) -> dict:
    own = (app_settings or {}).get("publish_window")
    return parse_policy(own) if own else parse_policy(team_policy or {})


def freezes_of(policy: dict) -> list[Freeze]:
    return [
        Freeze(datetime.fromisoformat(f["from"]), datetime.fromisoformat(f["to"]), f["reason"])
        for f in policy.get("freezes", [])
    ]


def _intervals(policy: dict, day: date) -> list[tuple[datetime, datetime]]:
    """The day's open hours (Beijing) before freezes; the whole day without windows."""
    windows = policy.get("windows") or []
    if policy.get("working_days_only") and not is_working_day(day):
        return []
    start_of_day = datetime.combine(day, time(0), clock.BEIJING)
    if not windows:
        return [(start_of_day, start_of_day + timedelta(days=1))]
    weekday = DAYS[day.weekday()]
    if policy.get("working_days_only") and day.weekday() >= 5:
        weekday = "mon"  # a weekend day made a working day (调休) keeps a Monday's hours
    found = []
    for window in windows:
        if weekday in window["days"]:
            found.append(
                (
                    datetime.combine(day, time.fromisoformat(window["from"]), clock.BEIJING),
                    datetime.combine(day, time.fromisoformat(window["to"]), clock.BEIJING),
                )
            )
    return sorted(found)


def freeze_at(policy: dict, moment: datetime) -> Freeze | None:
    return next((f for f in freezes_of(policy) if f.start <= moment < f.end), None)


def is_open(policy: dict, moment: datetime) -> bool:
    if freeze_at(policy, moment) is not None:
        return False
    local = moment.astimezone(clock.BEIJING)
    return any(start <= local < end for start, end in _intervals(policy, local.date()))


def next_opening(policy: dict, moment: datetime) -> datetime | None:
    """The first moment at or after `moment` when publishing is allowed (None within the horizon)."""
    local = moment.astimezone(clock.BEIJING)
    for offset in range(HORIZON_DAYS):
        for start, end in _intervals(policy, local.date() + timedelta(days=offset)):
            candidate = max(start, local)
            for _ in range(20):  # step past freezes that overlap this interval
                frozen = freeze_at(policy, candidate)
                if frozen is None or candidate >= end:
                    break
                candidate = max(candidate, frozen.end.astimezone(clock.BEIJING))
            if candidate < end and freeze_at(policy, candidate) is None:
                return candidate
    return None


CLOSING_HORIZON_DAYS = 31


def next_closing(policy: dict, moment: datetime) -> datetime | None:
    """While publishing is open at `moment`: when it closes (the end of the open hours, joined
    across midnight when the next day opens at once, or an earlier freeze); None when it is closed
    now or stays open beyond CLOSING_HORIZON_DAYS (no windows, no freeze ahead)."""
    if not is_open(policy, moment):
        return None
    local = moment.astimezone(clock.BEIJING)
    end = None
    for offset in range(-1, CLOSING_HORIZON_DAYS):
        for start, stop in _intervals(policy, local.date() + timedelta(days=offset)):
            if end is None and start <= local < stop:
                end = stop
            elif end is not None and start <= end < stop:
                end = stop  # the next open hours begin where these end
        if end is not None and end < datetime.combine(
            local.date() + timedelta(days=offset + 1), time(0), clock.BEIJING
        ):
            break
    else:
        end = None  # open through the whole horizon
    starts = [f.start for f in freezes_of(policy) if f.start > moment and (end is None or f.start < end)]
    return min(starts, default=end)


def closed_reason(policy: dict, moment: datetime) -> str:
    """Why publishing is closed at `moment`, naming the next opening."""
    frozen = freeze_at(policy, moment)
    opening = next_opening(policy, moment)
    # Whole sentences, one message id each: a reader's language translates them with their times.
    params = {"when": clock.when(opening)} if opening else {}
    if frozen is not None:
        params |= {"until": clock.when(frozen.end), "reason": frozen.reason}
        if opening:
            return (
                gettext_noop(
                    "Publishing is frozen until %(until)s: %(reason)s. The next opening is %(when)s."
                )
                % params
            )
        return (
            gettext_noop("Publishing is frozen until %(until)s: %(reason)s. No opening is planned.") % params
        )
    if opening:
        return (
            gettext_noop("This is outside the app's publish window. The next opening is %(when)s.") % params
        )
    return gettext_noop("This is outside the app's publish window. No opening is planned.")


def window_refusal(app, now: datetime | None = None, policy: dict | None = None):
    """None when the app may publish now, else the (code, message) refusal naming the next opening
    (releases.limits.Refusal, whose details carry it as `lifts_at`). `policy`: the app's, when the
    caller read it already (a batch of gate facts)."""
    from releases.limits import Refusal

    now = clock.now_or(now)
    policy = policy if policy is not None else policy_for(app)
    if is_open(policy, now):
        return None
    return Refusal("outside_publish_window", closed_reason(policy, now), next_opening(policy, now))


def team_publish_policy_set(*, team, actor, policy, ip: str | None = None):
    """Replace a team's publish policy (team admins), audited with the policy it set."""
    from django.db import transaction

    from releases.audit import audit_record
    from releases.errors import Forbidden
    from releases.models import Role, Team, role_at_least
    from releases.selectors import role_for

    if not role_at_least(role_for(actor, team.pk), Role.ADMIN):
        raise Forbidden(
            "forbidden", gettext_noop("Only a team admin can change the publish windows and freezes.")
        )
    parsed = parse_policy(policy)
    with transaction.atomic():
        team = Team.objects.select_for_update().get(pk=team.pk)
        team.publish_policy = parsed
        team.save(update_fields=["publish_policy"])
        audit_record(
            action="publish_policy_set", actor=actor, team_id=team.pk, target=team, data=parsed, ip=ip
        )
    return team


def day_kind(day: date) -> tuple[str, str]:
    """("holiday" | "makeup" | "weekend" | "workday", the holiday's name): how the calendar marks a day."""
    import chinese_calendar

    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:  # no schedule for that year yet
        return ("weekend" if day.weekday() >= 5 else "workday"), ""
    if on_holiday and name:
        return "holiday", name
    if not on_holiday and day.weekday() >= 5:
        return "makeup", name or ""
    return ("weekend" if on_holiday else "workday"), ""


def day_hours(policy: dict, day: date) -> list[tuple[datetime, datetime]]:
    """The day's open hours after freezes (a freeze cuts an interval wherever it covers it)."""
    hours = []
    for start, end in _intervals(policy, day):
        pieces = [(start, end)]
        for freeze in freezes_of(policy):
            pieces = [
                part
                for s, e in pieces
                for part in ((s, min(e, freeze.start)), (max(s, freeze.end), e))
                if part[0] < part[1]
            ]
        hours += pieces
    return hours


def app_publish_window_set(*, app, actor, policy, ip: str | None = None):
    """Give an app its own publish policy, replacing its team's (team admins), or, with None, let
    the team's apply again; audited with the policy it set."""
    from django.db import transaction

    from releases.audit import audit_record
    from releases.errors import Forbidden
    from releases.models import App, Role, role_at_least
    from releases.selectors import role_for

    if not role_at_least(role_for(actor, app.team_id), Role.ADMIN):
        raise Forbidden("forbidden", "Only a team admin can change the publish windows and freezes.")
    parsed = parse_policy(policy) if policy is not None else None
    with transaction.atomic():
        locked = App.objects.select_for_update().get(pk=app.pk)
        settings = dict(locked.settings or {})
        if parsed is None:
            settings.pop("publish_window", None)
        else:
            settings["publish_window"] = parsed
        locked.settings = settings
        locked.save(update_fields=["settings"])
        data = {"app_policy": parsed} if parsed is not None else {"app_policy": "team"}
        audit_record(action="publish_policy_set", actor=actor, app=locked, data=data, ip=ip)
    return locked
