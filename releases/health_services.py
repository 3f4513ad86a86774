"""The health gate: metrics from monitoring, each judged against the app's thresholds.

An app's thresholds live in `App.settings["health"]`:

    {"metrics": {"js_error_rate": {"max": 0.02, "required": true, "window_minutes": 30},
                 "crash_free_rate": {"min": 0.995}},
     "auto_revert": true}

A value above `max` or below `min` is a breach: the rollout halts (no further stage) with the
reason recorded, and with `auto_revert` the phased release is reverted at once. A `required`
metric must have been reported within `window_minutes` (default 60) for a stage to advance
(the gate rule `health_metric_stale`, releases.rollout_rules).
"""

import contextlib
import math
import re

from django.db import transaction
from django.utils.translation import gettext_noop

from releases import rollout as phased
from releases.audit import audit_record
from releases.errors import Forbidden, Invalid
from releases.models import HealthSample, Release, Role, State, role_at_least
from releases.selectors import role_for

METRIC = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")


def health_settings(app) -> dict:
    found = (app.settings or {}).get("health")
    return found if isinstance(found, dict) else {}


def threshold_of(app, metric: str) -> dict:
    conf = (health_settings(app).get("metrics") or {}).get(metric)
    return conf if isinstance(conf, dict) else {}


def breach_of(app, metric: str, value: float) -> str:
    """The sentence saying how `value` breaches the app's threshold for `metric`, or ""."""
    conf = threshold_of(app, metric)
    high, low = conf.get("max"), conf.get("min")
    if isinstance(high, int | float) and value > high:
        return f"{metric} is {value:g}, above the threshold of {high:g}."
    if isinstance(low, int | float) and value < low:
        return f"{metric} is {value:g}, below the threshold of {low:g}."
    return ""


def _valid(metric, value) -> tuple[str, float]:
    if not isinstance(metric, str) or not METRIC.match(metric):
        raise Invalid(
            "invalid_metric",
            "“metric” must be a name like js_error_rate (lower case, digits, _ and .).",
            details={"metric": "e.g. js_error_rate"},
        )
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Invalid("invalid_value", "“value” must be a finite number.", details={"value": "e.g. 0.031"})
    return metric, float(value)


def release_health_report(*, release: Release, actor, metric, value, ip: str | None = None) -> HealthSample:
    """Record one value; a breach during a running or paused phased release halts it (and, if the
    app says so, reverts it). Developers and above may report (monitoring uses their token)."""
    if not role_at_least(role_for(actor, release.app.team_id), Role.DEVELOPER):
        raise Forbidden("forbidden", gettext_noop("Only a developer or above can report health metrics."))
    metric, value = _valid(metric, value)
    breach = breach_of(release.app, metric, value)
    with transaction.atomic():
        sample = HealthSample.objects.create(
            release=release, metric=metric, value=value, breached=bool(breach), reported_by=actor
        )
        if breach:
            audit_record(
                action="health_breach",
                actor=actor,
                release=release,
                from_state=release.state,
                to_state=release.state,
                data={"metric": metric, "value": value, "threshold": threshold_of(release.app, metric)},
                ip=ip,
            )
    if breach:
        _halt(release, breach, metric, value)
    return sample


def _halt(release: Release, breach: str, metric: str, value: float) -> None:
    """Halt the phased release: now, or, while a stage's call is in flight, as that stage lands
    (releases.step_services then reverts it if the app says so)."""
    from releases.errors import Refused
    from releases.rollout_services import release_rollout_halt, release_rollout_revert

    release.refresh_from_db()
    running = release.rollout.get("status") in (phased.Status.RUNNING, phased.Status.PAUSED)
    if release.state not in (State.ROLLING_OUT, State.PUBLISHING) or not running:
        return
    auto_revert = bool(health_settings(release.app).get("auto_revert"))
    in_flight = release.state == State.PUBLISHING
    try:
        release_rollout_halt(
            release=release,
            reason=breach,
            data={"metric": metric, "value": value, **({"stage_in_flight": True} if in_flight else {})},
            revert=auto_revert and in_flight,
        )
    except Refused:
        return  # it moved meanwhile (advanced, reverted): the breach is recorded all the same
    if auto_revert and release.state == State.ROLLING_OUT:
        with contextlib.suppress(Refused):
            release_rollout_revert(release=release, actor=None, reason=f"Automatic revert: {breach}")


def latest_samples(release: Release) -> list[dict]:
    """The newest value of each metric reported for this release, with its threshold."""
    seen, rows = set(), []
    for sample in HealthSample.objects.filter(release=release).order_by("-at", "-pk")[:200]:
        if sample.metric in seen:
            continue
        seen.add(sample.metric)
        conf = threshold_of(release.app, sample.metric)
        rows.append({"sample": sample, "threshold": conf, "required": bool(conf.get("required"))})
    return sorted(rows, key=lambda row: row["sample"].metric)
