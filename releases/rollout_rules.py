"""The gate rules of phased releases and rollbacks, each a predicate over a release's facts.

Registered in releases.gate.rules (RULES) with their codes, so the transitions' conditions, the
buttons and the API's refusals all read these functions. WeChat's own rules are enforced here
before any call: percentages only increase (85082) and no rollback while a phased release runs
(87011); the others are the constraints of a rollback and the health gate's freshness.
"""

from datetime import timedelta

from django.utils.translation import gettext_noop

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
        return gettext_noop("The rollout is at its last stage; there is no further stage to advance to.")
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
            missing.append(
                gettext_noop("%(metric)s (every %(window)s min)") % {"metric": metric, "window": window}
            )
    return missing


def stale_detail(facts) -> str:
    missing = stale_metrics(facts)
    if not missing:
        return ""
    return gettext_noop(
        "Required health metrics have not been reported within their window: %(metrics)s. The next "
        "stage waits until monitoring reports them (POST /api/v1/releases/%(id)s/health)."
    ) % {"metrics": "; ".join(missing), "id": facts.release.pk}


def after_approval_of(app_ids) -> dict[int, dict]:
    """Three queries for any number of apps (the overview judges many at once)."""
    from django.db.models import Max

    from releases.models import EVER_PUBLISHED, AuditEvent, Release

    ids = list(app_ids)
    found = {app_id: {"phased": [], "published": set(), "rolled_back_last": False} for app_id in ids}
    phased_rows = Release.objects.filter(app_id__in=ids, state__in=PHASED_STATES).order_by("pk")
    for app_id, pk, version in phased_rows.values_list("app_id", "pk", "version"):
        found[app_id]["phased"].append((pk, version))
    published = Release.objects.filter(app_id__in=ids, state__in=EVER_PUBLISHED).values_list("app_id", "pk")
    for app_id, pk in published:
        found[app_id]["published"].add(pk)
    last = (
        AuditEvent.objects.filter(app_id__in=ids, action__in=("publish_succeeded", "rollback_succeeded"))
        .values("app_id", "action")
        .annotate(last=Max("id"))
        .order_by()
    )
    latest: dict[int, tuple[int, str]] = {}
    for row in last:
        if row["app_id"] not in latest or row["last"] > latest[row["app_id"]][0]:
            latest[row["app_id"]] = (row["last"], row["action"])
    for app_id, (_, action) in latest.items():
        found[app_id]["rolled_back_last"] = action == "rollback_succeeded"
    return found


def _of_app(facts) -> dict:
    return facts.batch.kind("after_approval").get(
        facts.release.app_id, {"phased": [], "published": set(), "rolled_back_last": False}
    )


def _phased_sibling(facts):
    return next((version for pk, version in _of_app(facts)["phased"] if pk != facts.release.pk), None)


def no_phased_release(facts) -> bool:
    return _phased_sibling(facts) is None


def phased_detail(facts) -> str:
    version = _phased_sibling(facts)
    if version is None:
        return ""
    return gettext_noop(
        "%(app)s %(version)s is in a phased release; the platform refuses a rollback meanwhile (87011). "
        "Complete or revert that phased release first."
    ) % {"app": facts.release.app, "version": version}


def not_twice(facts) -> bool:
    """The app's last change of its online version was not a rollback: WeChat refuses a second one
    until the next release (87012)."""
    return not _of_app(facts)["rolled_back_last"]


def has_previous_version(facts) -> bool:
    """Another release of the app went online before this one (the platform's history may know
    more, which the rollback's confirmation lists)."""
    return bool(_of_app(facts)["published"] - {facts.release.pk})


def publish_scheduled(facts) -> bool:
    return (facts.release.rollout or {}).get("status") == phased.Status.SCHEDULED


def not_phased_live(facts) -> bool:
    """A failed stage of a phased release leaves the version live for some users: cancelling would
    hide that, so it is reverted first."""
    rollout = facts.release.rollout or {}
    return rollout.get("stage", 0) < 1 or rollout.get("status") in (
        phased.Status.COMPLETED,
        phased.Status.REVERTED,
    )
