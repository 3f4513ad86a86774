"""Audit actions and data keys as people read them (issue 15). The trail stores codes (`submit`,
`review_rejected`) and the API and CSV export keep them; pages show these names, in the reader's
language, and the code itself for an action not named here."""

from django.utils.translation import gettext_lazy as _

from releases.messages import localize
from web.templatetags.sluice import as_text

ACTIONS = {
    "create": _("created"),
    "edit": _("edited"),
    "check": _("ran the checks"),
    "mark_checked": _("checks passed"),
    "checklist_confirm": _("ticked a checklist item"),
    "checklist_update": _("changed the checklist"),
    "check_suppress": _("suppressed a check"),
    "check_unsuppress": _("removed a check suppression"),
    "approve": _("approved"),
    "approval_override": _("overrode the approval"),
    "approval_policy_update": _("changed the approval policy"),
    "send_back": _("sent back"),
    "submit": _("submitted for review"),
    "submit_succeeded": _("accepted for review by the platform"),
    "submit_failed": _("submission failed"),
    "review_approved": _("review approved"),
    "review_rejected": _("review rejected"),
    "review_delayed": _("review delayed"),
    "withdrawn_outside": _("withdrawn on the platform"),
    "resubmitted_outside": _("resubmitted on the platform"),
    "withdraw": _("withdrawal requested"),
    "withdraw_succeeded": _("withdrawn"),
    "withdraw_failed": _("withdrawal failed"),
    "publish": _("publish requested"),
    "publish_succeeded": _("published"),
    "publish_failed": _("publishing failed"),
    "rollback": _("rollback requested"),
    "rollback_succeeded": _("rolled back"),
    "rollback_failed": _("rollback failed"),
    "step_failed": _("platform call failed"),
    "retry": _("retried"),
    "expire": _("resubmission window closed"),
    "cancel": _("cancelled"),
    "remediation_planned": _("remediation planned"),
    "remediation_done": _("remediation task done"),
    "remediation_override": _("remediation overridden"),
    "qualification_add": _("added a qualification"),
    "qualification_remove": _("removed a qualification"),
    "app_create": _("added an app"),
    "app_update": _("changed an app"),
    "app_authorized": _("authorized the platform account"),
    "app_authorization_lost": _("lost its authorization"),
    "app_tags_update": _("changed an app's tags"),
    "authorization_link_create": _("created an authorization link"),
    "authorizers_import": _("imported the authorizers"),
    "templates_sync": _("synced the template library"),
    "template_add": _("added a template"),
    "template_delete": _("deleted a template"),
    "platform_account_create": _("added a platform account"),
    "platform_account_update": _("changed a platform account"),
    "member_add": _("added a member"),
    "member_remove": _("removed a member"),
    "member_role_update": _("changed a member's role"),
    "member_capacities_update": _("changed a member's approval capacities"),
    "api_token_create": _("created an API token"),
    "api_token_revoke": _("revoked an API token"),
    "api_token_lockout": _("API token locked out"),
    "login_lockout": _("sign-in locked out"),
    "callback_rejected": _("platform callback refused"),
    "append": _("appended"),
    "speedup": _("speed-up requested"),
    "speedup_succeeded": _("speed-up granted"),
    "speedup_failed": _("speed-up refused"),
    "speedup_requested": _("speed-up requested"),
    "stage_succeeded": _("phased release stage live"),
    "rollout_advance": _("phased release advanced"),
    "rollout_pause": _("phased release paused"),
    "rollout_resume": _("phased release resumed"),
    "rollout_revert": _("phased release revert requested"),
    "revert_phased_succeeded": _("phased release reverted"),
    "rollout_halt": _("phased release halted"),
    "rollout_changed_outside": _("phased release changed on the platform"),
    "reverted_outside": _("phased release reverted on the platform"),
    "health_breach": _("health threshold breached"),
    "schedule_publish": _("publish scheduled"),
    "unschedule": _("scheduled publish cancelled"),
    "publish_rescheduled": _("scheduled publish moved"),
    "publish_policy_set": _("changed the publish windows"),
    "window_override": _("published outside the window"),
    "target_date_set": _("set the target date"),
    "service_change_requested": _("service status change requested"),
    "service_change_failed": _("service status change failed"),
    "service_changed": _("service status changed"),
    "service_offline": _("service taken offline"),
    "service_online": _("service back online"),
    "campaign_create": _("created a campaign"),
    "campaign_start": _("started a campaign"),
    "campaign_prepared": _("campaign prepared"),
    "campaign_approve": _("approved a campaign"),
    "campaign_publish": _("published a campaign"),
    "campaign_pause": _("paused a campaign"),
    "campaign_resume": _("resumed a campaign"),
    "campaign_cancel": _("cancelled a campaign"),
    "campaign_retry_failed": _("retried a campaign's failed apps"),
    "campaign_group_remediate": _("remediated a rejection group"),
    "campaign_group_resubmit": _("resubmitted a rejection group"),
    "campaign_done": _("campaign done"),
    "release_group_create": _("created a release group"),
    "platform_authorized": _("authorized the platform"),
    "platform_unauthorized": _("revoked the platform's authorization"),
    "platform_update_authorized": _("retrieved an authorization code"),
}

DATA_KEYS = {
    "campaign": _("campaign"),
    "apps": _("apps"),
    "held": _("held back"),
    "quota_left": _("left this month"),
    "reserve": _("reserve"),
    "submissions_needed": _("submissions needed"),
    "template_id": _("template"),
    "releases_cancelled": _("releases cancelled"),
    "parked": _("parked"),
    "tasks_done": _("tasks done"),
    "reason": _("reason"),
    "percentage": _("percentage"),
    "plan": _("plan"),
    "stage": _("stage"),
    "metric": _("metric"),
    "value": _("value"),
    "at": _("at"),
    "comment": _("comment"),
    "outcome": _("outcome"),
    "version": _("version"),
    "revision": _("revision"),
    "run_id": _("check run"),
    "passed": _("passed"),
    "key": _("key"),
    "label": _("label"),
    "kind": _("kind"),
    "name": _("name"),
    "number": _("number"),
    "expires_on": _("expires on"),
    "categories": _("categories"),
    "category": _("category"),
    "tasks": _("tasks"),
    "task": _("task"),
    "note": _("note"),
    "items": _("items"),
    "changed": _("changed"),
    "fields": _("fields"),
    "error": _("error"),
    "code": _("code"),
    "message": _("message"),
    "online": _("online"),
    "reconciled": _("reconciled after a crash"),
    "capacity": _("capacity"),
    "capacities": _("capacities"),
    "role": _("role"),
    "user": _("user"),
    "username": _("user"),
    "platform": _("platform"),
    "appid": "AppID",
    "audit_id": _("review id"),
    "checklist": _("checklist"),
    "screenshots": _("screenshots"),
    "description": _("description"),
    "review_notes": _("review notes"),
    "build_report": _("build report"),
    "release_notes": _("release notes"),
    "rejection": _("rejection"),
    "reopened": _("reopened"),
}
# Values that are identifiers (a checklist item's or a check's key): shown as code, not translated.
CODE_KEYS = frozenset({"key", "check", "check_key", "appid"})


def state_text(state: str) -> str:
    """A state in the trail: a release's, else a campaign's (issue 14), else the code itself."""
    from releases.campaigns.models import CampaignState
    from releases.models import State

    for states in (State, CampaignState):
        try:
            return str(states(state).label)
        except ValueError:
            continue
    return state


# What an event is about when it names no app: the object's kind.
TARGETS = {"campaign": _("campaign")}


def target_label(target_type: str) -> str:
    label = TARGETS.get(target_type)
    return str(label) if label is not None else target_type


def action_label(action: str) -> str:
    label = ACTIONS.get(action)
    return str(label) if label is not None else action.replace("_", " ")


def data_key_label(key: str) -> str:
    label = DATA_KEYS.get(key)
    return str(label) if label is not None else localize(key.replace("_", " "))


def data_value_text(key: str, value) -> str:
    """An event's data value as one line in the reader's language: category keys by their name,
    stored English sentences and task titles localized, what people typed as it is."""
    from releases.models import RejectionCategory

    def one(item) -> str:
        if key in ("category", "categories") and item in RejectionCategory.values:
            return str(RejectionCategory(item).label)
        return localize(item) if isinstance(item, str) else as_text(item)

    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ", ".join(one(item) for item in value) if value else "—"
    if isinstance(value, str) and value:
        return one(value)
    return as_text(value)
