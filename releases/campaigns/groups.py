"""Rejections at fleet scale: one remediation answers a whole group, one request resubmits it.

A group is the campaign's rejected apps sharing a (category, reason) of their latest rejection
(releases.campaigns.progress). Remediating it completes every open task of each of its releases
with the one note, which also becomes the explanation to the reviewer (feedback_info, at most
200 characters) the adapter sends with the resubmission. Resubmitting asks the driver to submit
the group's apps in its waves, within the quota and its reserve; apps parked by the same-reason
lock are left parked (and said so).
"""

from django.db import transaction
from django.utils.translation import gettext_noop

from releases.campaigns.models import ENDED, Campaign, CampaignApp
from releases.campaigns.progress import group_of
from releases.campaigns.services import _audit, _enqueue, _locked, _refuse_state
from releases.errors import Invalid, NotFound, Refused
from releases.models import Release, Role, State
from releases.remediation import FEEDBACK_MAX, remediation_complete
from releases.transitions import _require_role


def _group(campaign: Campaign, key: str) -> dict:
    group = group_of(campaign, key)
    if group is None:
        raise NotFound(
            "unknown_group",
            gettext_noop("This campaign has no rejection group “%(key)s”.") % {"key": key},
        )
    return group


def campaign_group_remediate(
    *, campaign: Campaign, key: str, actor, note: str, ip: str | None = None
) -> dict:
    """Every open task of every release in the group, done with `note`; all or nothing."""
    _require_role(actor, campaign.team_id, Role.DEVELOPER, "remediate a rejection group")
    note = note.strip() if isinstance(note, str) else ""
    if not note:
        raise Invalid(
            "note_required",
            gettext_noop("Say what was done (the evidence) to complete this task."),
            details={"note": "Required."},
        )
    if len(note) > FEEDBACK_MAX:
        raise Invalid(
            "note_too_long",
            gettext_noop("The note is %(count)s characters; at most %(limit)s are allowed here.")
            % {"count": len(note), "limit": FEEDBACK_MAX},
            details={"note": f"At most {FEEDBACK_MAX} characters."},
        )
    group = _group(campaign, key)
    done = 0
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.state in ENDED:
            _refuse_state(campaign, (), gettext_noop("remediate a rejection group"))
        releases = Release.objects.select_related("app").filter(
            pk__in=[a["release"] for a in group["apps"]], state=State.REJECTED
        )
        for release in releases:
            keys = [t.key for t in release.remediation_tasks.all() if t.is_open]
            for task_key in keys:
                remediation_complete(release=release, key=task_key, actor=actor, note=note, ip=ip)
                done += 1
        _audit(
            campaign,
            "campaign_group_remediate",
            actor,
            data={
                "key": key,
                "category": group["category"],
                "apps": len(group["apps"]),
                "tasks": done,
                "note": note,
            },
            ip=ip,
            from_state=campaign.state,
        )
    return {**group, "tasks_done": done}


def campaign_group_resubmit(*, campaign: Campaign, key: str, actor, ip: str | None = None) -> dict:
    """The group's apps go back into the waves; refused (409) while any still has open tasks."""
    _require_role(actor, campaign.team_id, Role.RELEASE_MANAGER, "resubmit a rejection group")
    group = _group(campaign, key)
    unfinished = [a["name"] for a in group["apps"] if a["open_tasks"]]
    if unfinished:
        raise Refused(
            "remediation_incomplete",
            gettext_noop("%(count)s apps of this group still have open remediation tasks: %(apps)s.")
            % {
                "count": len(unfinished),
                "apps": "; ".join(unfinished[:5]) + ("; …" if len(unfinished) > 5 else ""),
            },
        )
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.state in ENDED:
            _refuse_state(campaign, (), gettext_noop("resubmit a rejection group"))
        going = [a["release"] for a in group["apps"] if not a["parked"]]
        queued = CampaignApp.objects.filter(campaign=campaign, release_id__in=going).update(
            retry_requested=True, held="", last_error=""
        )
        parked = [a["appid"] for a in group["apps"] if a["parked"]]
        _audit(
            campaign,
            "campaign_group_resubmit",
            actor,
            data={"key": key, "category": group["category"], "apps": queued, "parked": parked},
            ip=ip,
            from_state=campaign.state,
        )
        _enqueue(campaign)
    return {**group, "queued": queued, "parked": parked}
