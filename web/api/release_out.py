"""A release as the API shows it: the full representation of GET /releases/{id} and the
summary row of the lists, whose `approved` is computed in SQL."""

from django.db.models import Exists, OuterRef

from releases import actions, approvals, selectors
from releases import rollout as phased
from releases.models import Approval, AuditEvent, Capacity, Release
from web.api.reviews import release_extras


def _latest_checks(release: Release, run) -> list[dict]:
    """The latest run's automated results, then the manual checklist of the current revision."""
    automated = [
        {
            "key": r.key,
            "title": r.title,
            "kind": r.kind,
            "severity": r.severity,
            "status": r.status,
            "message": r.message,
            "evidence": r.evidence,
        }
        for r in (run.result_list if run is not None else [])
    ]
    return automated + selectors.manual_check_rows(release)


def _run_out(run) -> dict | None:
    if run is None:
        return None
    return {
        "id": run.pk,
        "revision": run.revision,
        "pending": sum(1 for r in run.result_list if r.status == "pending"),
        "passed": run.passed if run.finished_at else None,
        "started_by": run.actor_name if run.actor_id else None,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
    }


def _approvals_out(release: Release) -> dict:
    status = approvals.policy_status(release)
    return {
        "required": status.required,
        "missing": [] if status.complete else status.missing,
        "complete": status.complete,
        "current": [
            {
                "approver": a.approver.get_username(),
                "capacity": a.capacity,
                "override": a.override,
                "revision": a.revision,
                "comment": a.comment,
                "created_at": a.created_at,
            }
            for a in status.approvals
        ],
    }


def _common_out(release: Release, *, approved: bool) -> dict:
    return {
        "id": release.pk,
        "app": release.app_id,
        "version": release.version,
        "state": release.state,
        "revision": release.revision,
        "author": release.author.username,
        "owner": release.owner.username if release.owner_id else None,
        "approved": approved,
        "platform_audit_id": release.platform_audit_id,
        "last_error": {"code": release.last_error_code, "message": release.last_error}
        if release.last_error
        else None,
        "rejection_reason": release.rejection_reason,
        "review_delay": (
            {"at": release.review_delayed_at, "reason": release.review_delay_reason}
            if release.review_delayed_at
            else None
        ),
        "submitted_at": release.submitted_at,
        "decided_at": release.decided_at,
        "created_at": release.created_at,
        "updated_at": release.updated_at,
        "target_date": release.target_date,
    }


def release_out(release: Release, user) -> dict:
    run = selectors.latest_check_run(release)  # once: the checks, the run and the guards read it
    return {
        **_common_out(release, approved=release.is_approved()),
        "release_notes": release.release_notes,
        "review_notes": release.review_notes,
        "build_report": release.build_report,
        "build": (
            {"commit": release.build_commit, "branch": release.build_branch, "ci_url": release.build_ci_url}
            if release.build_commit or release.build_ci_url
            else None
        ),
        "template_id": release.template_id,
        "ext_json": release.ext_json,
        "checks": _latest_checks(release, run),
        "check_run": _run_out(run),
        "approvals": _approvals_out(release),
        "actions": [
            {"name": a.action.name, "enabled": a.enabled, "reason": a.reason}
            for a in actions.available_actions(release, user)
        ],
        "rollout": phased.public(release.rollout),
        "speedup": (
            {
                "state": release.speedup_state,
                "error": {"code": release.speedup_error_code, "message": release.speedup_error}
                if release.speedup_error
                else None,
            }
            if release.speedup_state
            else None
        ),
        **release_extras(release),
    }


def event_out(event: AuditEvent) -> dict:
    return {
        "id": event.pk,
        "at": event.at,
        "actor": event.actor_name or None,
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "data": event.data,
    }


def release_summaries(releases):
    """Summary rows of these releases (of any apps). Whether each has its approvals
    is read in the same query: an override, or an approval in each capacity for the current
    revision, compared in summary_out with the policy of the release's app (policy_status)."""
    current = Approval.objects.filter(release=OuterRef("pk"), revision=OuterRef("revision"))
    return (
        releases.select_related("app", "author", "owner")
        .only(*SUMMARY_FIELDS, "app__required_approvals", "author__username", "owner__username")
        .annotate(
            approved_override=Exists(current.filter(override=True)),
            **{
                f"approved_as_{c}": Exists(current.filter(capacity=c, override=False))
                for c in Capacity.values
            },
        )
    )


SUMMARY_FIELDS = (
    "pk",
    "app_id",
    "version",
    "state",
    "revision",
    "author",
    "owner",
    "platform_audit_id",
    "last_error",
    "last_error_code",
    "rejection_reason",
    "review_delayed_at",
    "review_delay_reason",
    "submitted_at",
    "decided_at",
    "created_at",
    "updated_at",
    "target_date",
)


def summary_out(release: Release) -> dict:
    """A list row: the fields every representation shares, and where the full one lives."""
    approved = release.approved_override or all(
        getattr(release, f"approved_as_{c}") for c in approvals.required_capacities(release.app)
    )
    return {**_common_out(release, approved=approved), "url": f"/api/v1/releases/{release.pk}"}
