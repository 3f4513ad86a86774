"""The gate rules of phased releases and rollbacks, each a predicate over a release's facts.

Registered in releases.gate.rules (RULES) with their codes, so the transitions' conditions, the
buttons and the API's refusals all read these functions. WeChat's own rules are enforced here
before any call: percentages only increase (85082) and no rollback while a phased release runs
(87011); the others are the constraints of a rollback and the health gate's freshness.
"""

from datetime import timedelta

from releases import rollout as phased

# A phased release holds the app on the platform: rollback is refused meanwhile (87011).
PHASED_STATES = ("rolling_out", "reverting", "revert_failed")


def rollout_running(facts) -> bool:
    return (facts.release.rollout or {}).get("status") == phased.Status.RUNNING


def rollout_stopped(facts) -> bool:
    return (facts.release.rollout or {}).get("status") in (phased.Status.PAUSED, phased.Status.HALTED)


def rollout_started(facts) -> bool:
    return (facts.release.rollout or {}).get("stage", 0) >= 1


def higher_stage(facts) -> bool:
    rollout = facts.release.rollout or {}
    following = phased.next_percentage(rollout)
    return following is not None and following > rollout.get("percentage", 0)


def higher_stage_detail(facts) -> str:
    rollout = facts.release.rollout or {}
    if phased.next_percentage(rollout) is None:
        return "The rollout is at its last stage; there is no further stage to advance to."
    return ""


def required_metrics(app) -> dict[str, dict]:
    """{metric: its threshold settings} of the metrics the app requires before a stage advances."""
    metrics = ((app.settings or {}).get("health") or {}).get("metrics") or {}
    return {name: conf for name, conf in metrics.items() if isinstance(conf, dict) and conf.get("required")}


def stale_metrics(facts) -> list[str]:
    """Required metrics not reported for this release within their window (default 60 minutes)."""
    from releases.models import HealthSample

    release, missing = facts.release, []
    for metric, conf in sorted(required_metrics(release.app).items()):
        window = conf.get("window_minutes", 60)
        since = facts.now - timedelta(minutes=window if isinstance(window, int | float) else 60)
        if not HealthSample.objects.filter(release_id=release.pk, metric=metric, at__gte=since).exists():
            missing.append(f"{metric} (every {window} min)")
    return missing


def stale_detail(facts) -> str:
    missing = stale_metrics(facts)
    if not missing:
        return ""
    return (
        f"Required health metrics have not been reported within their window: {', '.join(missing)}. "
        "The next stage waits until monitoring reports them (POST /api/v1/releases/{id}/health)."
    ).replace("{id}", str(facts.release.pk))


def _phased_sibling(facts):
    from releases.models import Release

    return (
        Release.objects.filter(app_id=facts.release.app_id, state__in=PHASED_STATES)
        .exclude(pk=facts.release.pk)
        .values_list("version", flat=True)
        .first()
    )


def no_phased_release(facts) -> bool:
    return _phased_sibling(facts) is None


def phased_detail(facts) -> str:
    version = _phased_sibling(facts)
    if version is None:
        return ""
    return (
        f"{facts.release.app} {version} is in a phased release; the platform refuses a rollback meanwhile "
        "(87011). Complete or revert that phased release first."
    )


def _later_rollback(facts) -> bool:
    """The app's last change of its online version was a rollback (none since): WeChat refuses a
    second one until the next release (87012)."""
    from releases.models import AuditEvent

    last = (
        AuditEvent.objects.filter(
            app_id=facts.release.app_id,
            action__in=("publish_succeeded", "rollback_succeeded"),
        )
        .order_by("-id")
        .values_list("action", flat=True)
        .first()
    )
    return last == "rollback_succeeded"


def not_twice(facts) -> bool:
    return not _later_rollback(facts)


def has_previous_version(facts) -> bool:
    """Another release of the app went online before this one (the platform's history may know
    more, which the rollback's confirmation lists)."""
    from releases.models import EVER_PUBLISHED, Release

    return (
        Release.objects.filter(app_id=facts.release.app_id, state__in=EVER_PUBLISHED)
        .exclude(pk=facts.release.pk)
        .exists()
    )


def publish_scheduled(facts) -> bool:
    return (facts.release.rollout or {}).get("status") == phased.Status.SCHEDULED
