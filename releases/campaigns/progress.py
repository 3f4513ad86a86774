"""What a campaign looks like now, for its page and `GET /api/v1/campaigns/{id}`: counts by state,
every app's state and last error, and the rejections grouped by category and reason. Reads only,
in a fixed number of queries whatever the number of apps."""

import hashlib
from collections import Counter

from releases.campaigns.models import Campaign, CampaignApp, Held
from releases.limits import clock
from releases.limits.counts import lock_from, rejection_streaks
from releases.models import Rejection, RemediationTask, State

# A row without a release counts under what holds it.
NO_RELEASE = "not_created"


def entries_of(campaign: Campaign):
    return campaign.entries.select_related("app", "release").order_by("position", "pk")


def app_state(entry: CampaignApp) -> str:
    if entry.release_id is None:
        return entry.held or NO_RELEASE
    return entry.release.state


def last_error(entry: CampaignApp) -> str:
    """What the campaign says about the app, else the release's last platform error."""
    if entry.last_error:
        return entry.last_error
    if entry.release_id is not None and entry.release.state in (
        State.SUBMIT_FAILED,
        State.PUBLISH_FAILED,
        State.SUBMITTING,
        State.PUBLISHING,
    ):
        return entry.release.last_error
    return ""


def counts(entries) -> dict[str, int]:
    return dict(Counter(app_state(entry) for entry in entries))


def held_counts(entries) -> dict[str, int]:
    return dict(Counter(entry.held for entry in entries if entry.held))


def group_key(category: str, reason: str) -> str:
    return hashlib.sha256(f"{category}\n{reason}".encode()).hexdigest()[:12]


def rejection_groups(campaign: Campaign, entries=None) -> list[dict]:
    """Rejected apps grouped by each (category, reason) of their latest rejection, largest group
    first. An app parked by the same-reason lock is marked (and with when the lock lifts); each
    app says how many required remediation tasks are still open."""
    entries = entries if entries is not None else list(entries_of(campaign))
    rejected = [e for e in entries if e.release_id is not None and e.release.state == State.REJECTED]
    if not rejected:
        return []
    release_ids = [e.release_id for e in rejected]
    latest: dict[int, Rejection] = {}
    for rejection in Rejection.objects.filter(release_id__in=release_ids).order_by(
        "release_id", "-at", "-pk"
    ):
        latest.setdefault(rejection.release_id, rejection)
    open_tasks = Counter(
        RemediationTask.objects.filter(
            release_id__in=release_ids, required=True, done=False, waived_at__isnull=True
        ).values_list("release_id", flat=True)
    )
    now = clock.now_or(None)
    streaks = rejection_streaks([e.app_id for e in rejected])
    groups: dict[str, dict] = {}
    for entry in rejected:
        rejection = latest.get(entry.release_id)
        items = (rejection.items if rejection else None) or [
            {"category": "other", "title": "", "text": entry.release.rejection_reason}
        ]
        seen = set()
        for item in items:
            category = item.get("category") or "other"
            reason = (item.get("title") or item.get("text") or "").strip()
            key = group_key(category, reason)
            if key in seen:
                continue
            seen.add(key)
            group = groups.setdefault(key, {"key": key, "category": category, "reason": reason, "apps": []})
            streak = streaks.get(entry.app_id)
            until = lock_from(streak, now) if streak is not None else None
            group["apps"].append(
                {
                    "app": entry.app_id,
                    "appid": entry.app.appid,
                    "name": entry.app.name,
                    "release": entry.release_id,
                    "parked": until is not None or entry.held == Held.SAME_REASON_LOCK,
                    "parked_until": until,
                    "open_tasks": open_tasks.get(entry.release_id, 0),
                    "resubmit_requested": entry.retry_requested,
                }
            )
    return sorted(groups.values(), key=lambda g: (-len(g["apps"]), g["category"], g["reason"]))


def group_of(campaign: Campaign, key: str) -> dict | None:
    return next((g for g in rejection_groups(campaign) if g["key"] == key), None)


def campaigns_for(user):
    from releases.selectors import team_ids_for

    return Campaign.objects.filter(team_id__in=team_ids_for(user)).select_related(
        "platform_account", "created_by", "approved_by"
    )


def campaign_out(campaign: Campaign) -> dict:
    """The whole campaign as the API answers it and the page shows it (reads only: the quota
    is the meter as last read, never a platform call)."""
    from releases.campaigns.plan import plan_for

    entries = list(entries_of(campaign))
    plan = plan_for(campaign)
    return {
        "id": campaign.pk,
        "name": str(campaign),
        "state": campaign.state,
        "paused_from": campaign.paused_from or None,
        "platform_account": campaign.platform_account_id,
        "template_id": campaign.template_id,
        "version": campaign.version,
        "reserve": campaign.reserve,
        "plan": plan.as_dict(),
        "halt": {"code": campaign.halt_code, "message": campaign.halt_message}
        if campaign.halt_code
        else None,
        "waves": campaign.waves,
        "created_by": campaign.created_by.get_username(),
        "approved_by": campaign.approved_by.get_username() if campaign.approved_by_id else None,
        "created_at": campaign.created_at,
        "counts": counts(entries),
        "held": held_counts(entries),
        "apps": [
            {
                "app": entry.app_id,
                "appid": entry.app.appid,
                "name": entry.app.name,
                "release": entry.release_id,
                "state": app_state(entry),
                "held": entry.held or None,
                "last_error": last_error(entry) or None,
                "wave": entry.wave,
                # The experience QR code: queued, fetched, failed (qr_error), none, or null (not yet).
                "qr_code": entry.qr_state or None,
                "qr_error": entry.qr_error or None,
            }
            for entry in entries
        ],
        "rejection_groups": rejection_groups(campaign, entries),
    }
