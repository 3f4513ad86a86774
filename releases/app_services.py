"""Writes to an app's configuration: check suppressions, qualifications, the manual checklist
template, the approval policy and approver capacities, and the privacy-policy URL.

Same rules as releases/services.py: each validates first (bad input changes nothing),
then writes and records its audit event in one transaction.
"""

import re
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from releases.audit import audit_record
from releases.checks import REGISTRY
from releases.errors import Forbidden, Invalid, NotFound
from releases.models import (
    MEMBER_CAPACITIES,
    App,
    Capacity,
    CheckSuppression,
    Membership,
    Qualification,
    Role,
    english,
    role_at_least,
)
from releases.selectors import forget_memberships, role_for

MAX_CHECKLIST_ITEMS = 30
# A suppression is a decision to revisit, not a permanent exemption.
SUPPRESSION_MAX_DAYS = 366
CHECKLIST_KEY = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


def _require(actor, app: App, minimum: str, doing: str) -> None:
    if not role_at_least(role_for(actor, app.team_id), minimum):
        raise Forbidden(
            "forbidden",
            gettext_noop("Only a %(role)s or above can %(doing)s.")
            % {"role": english(Role(minimum).label).lower(), "doing": doing},
        )


def _required_text(value, field: str, message: str, *, max_length: int) -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    if not text:
        raise Invalid(f"{field}_required", message, details={field: gettext_noop("Required.")})
    if len(text) > max_length:
        raise Invalid(
            "invalid_field",
            gettext_noop("“%(field)s” is too long.") % {"field": field},
            details={field: gettext_noop("At most %(count)s characters.") % {"count": max_length}},
        )
    return text


def _date(value, field: str, *, required: bool) -> date | None:
    if value in (None, ""):
        if required:
            raise Invalid(
                f"{field}_required",
                gettext_noop("Give the %(field)s.") % {"field": field.replace("_", " ")},
                details={field: gettext_noop("Required.")},
            )
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise Invalid(
            "invalid_date",
            gettext_noop("“%(value)s” is not a date.") % {"value": value},
            details={field: gettext_noop("Use YYYY-MM-DD, e.g. 2025-06-30.")},
        ) from None


# -- suppressions ----------------------------------------------------------------------------


def app_suppress_check(*, app: App, actor, key: str, reason: str, expires_on, ip=None) -> CheckSuppression:
    """Suppress one automated check for this app until `expires_on` (inclusive).

    A live suppression of the same check is replaced (and its removal recorded), so there
    is never more than one reason in force.
    """
    _require(actor, app, Role.RELEASE_MANAGER, gettext_noop("suppress a check"))
    if key not in REGISTRY:
        raise Invalid(
            "unknown_check",
            gettext_noop("“%(key)s” is not an automated check.") % {"key": key},
            details={"key": f"One of {', '.join(sorted(REGISTRY))}."},
        )
    reason = _required_text(
        reason, "reason", gettext_noop("Say why this check does not apply."), max_length=2000
    )
    expires_on = _date(expires_on, "expires_on", required=True)
    if expires_on < timezone.localdate():
        raise Invalid(
            "invalid_date",
            gettext_noop("The expiry date is in the past."),
            details={"expires_on": gettext_noop("Today or later.")},
        )
    if expires_on > timezone.localdate() + timedelta(days=SUPPRESSION_MAX_DAYS):
        raise Invalid(
            "invalid_date",
            gettext_noop("A suppression lasts at most %(days)s days; renew it when it expires.")
            % {"days": SUPPRESSION_MAX_DAYS},
            details={
                "expires_on": gettext_noop("At most %(days)s days ahead.") % {"days": SUPPRESSION_MAX_DAYS}
            },
        )
    with transaction.atomic():
        App.objects.select_for_update().filter(pk=app.pk).first()
        for old in CheckSuppression.objects.filter(app=app, key=key, removed_at=None):
            _remove(old, actor, ip, replaced=True)
        suppression = CheckSuppression.objects.create(
            app=app, key=key, reason=reason, expires_on=expires_on, created_by=actor
        )
        audit_record(
            action="check_suppress",
            actor=actor,
            target=suppression,
            app=app,
            data={"key": key, "reason": reason, "expires_on": expires_on.isoformat()},
            ip=ip,
        )
    return suppression


def _remove(suppression: CheckSuppression, actor, ip, *, replaced: bool = False) -> None:
    suppression.removed_at = timezone.now()
    suppression.removed_by = actor
    suppression.save(update_fields=["removed_at", "removed_by"])
    audit_record(
        action="check_unsuppress",
        actor=actor,
        target=suppression,
        app=suppression.app,
        data={"key": suppression.key, "replaced": replaced},
        ip=ip,
    )


def app_unsuppress_check(*, app: App, actor, suppression_id: int, ip=None) -> CheckSuppression:
    _require(actor, app, Role.RELEASE_MANAGER, gettext_noop("remove a suppression"))
    with transaction.atomic():
        suppression = (
            CheckSuppression.objects.select_for_update()
            .filter(app=app, pk=suppression_id, removed_at=None)
            .first()
        )
        if suppression is None:
            raise NotFound("not_found", gettext_noop("No such suppression in force on this app."))
        _remove(suppression, actor, ip)
    return suppression


# -- qualifications --------------------------------------------------------------------------


def app_add_qualification(
    *, app: App, actor, kind: str, number: str, expires_on=None, name: str = "", ip=None
) -> Qualification:
    _require(actor, app, Role.RELEASE_MANAGER, gettext_noop("record qualifications"))
    if kind not in Qualification.Kind.values:
        raise Invalid(
            "invalid_kind",
            gettext_noop("“%(kind)s” is not a kind of qualification.") % {"kind": kind},
            details={"kind": f"One of {', '.join(Qualification.Kind.values)}."},
        )
    number = _required_text(
        number, "number", gettext_noop("Give the licence or permit number."), max_length=64
    )
    name = (name or "").strip()
    if len(name) > 120:
        raise Invalid(
            "invalid_field",
            gettext_noop("“%(field)s” is too long.") % {"field": "name"},
            details={"name": gettext_noop("At most %(count)s characters.") % {"count": 120}},
        )
    expires_on = _date(expires_on, "expires_on", required=False)
    with transaction.atomic():
        qualification = Qualification.objects.create(
            app=app, kind=kind, name=name, number=number, expires_on=expires_on, created_by=actor
        )
        audit_record(
            action="qualification_add",
            actor=actor,
            target=qualification,
            app=app,
            data={
                "kind": kind,
                "name": name,
                "number": number,
                "expires_on": expires_on.isoformat() if expires_on else None,
            },
            ip=ip,
        )
    return qualification


def app_remove_qualification(*, app: App, actor, qualification_id: int, ip=None) -> None:
    _require(actor, app, Role.RELEASE_MANAGER, gettext_noop("remove qualifications"))
    with transaction.atomic():
        qualification = Qualification.objects.filter(app=app, pk=qualification_id).first()
        if qualification is None:
            raise NotFound("not_found", gettext_noop("No such qualification on this app."))
        audit_record(
            action="qualification_remove",
            actor=actor,
            target=qualification,
            app=app,
            data={"kind": qualification.kind, "name": qualification.name, "number": qualification.number},
            ip=ip,
        )
        qualification.delete()


# -- the manual checklist template ------------------------------------------------------------


def _derive_key(label: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:40]
    if not base or not base[0].isalpha():
        base = f"item_{base}" if base else "item"
    key, n = base, 2
    while key in taken or key in REGISTRY:
        key, n = f"{base}_{n}", n + 1
    return key


def normalize_checklist(items, current: list[dict] | None = None) -> list[dict]:
    """Validate a template: [{"key"?: str, "label": str}]; a missing key is derived from the
    label, or kept from the current item with the same label (so its ticks still count)."""
    if not isinstance(items, list):
        raise Invalid(
            "invalid_checklist",
            gettext_noop("The checklist must be a list of items."),
            details={"items": gettext_noop("A list.")},
        )
    if len(items) > MAX_CHECKLIST_ITEMS:
        raise Invalid(
            "invalid_checklist",
            gettext_noop("At most %(count)s checklist items.") % {"count": MAX_CHECKLIST_ITEMS},
            details={"items": f"At most {MAX_CHECKLIST_ITEMS}."},
        )
    known = {i.get("label"): i.get("key") for i in current or [] if isinstance(i, dict)}
    # Keys given in the list: a kept or derived key never takes one of them, nor another's.
    given = {i["key"].strip() for i in items if isinstance(i, dict) and isinstance(i.get("key"), str)} - {""}
    result, taken = [], set()
    for n, item in enumerate(items):
        label = (item.get("label") if isinstance(item, dict) else None) or ""
        label = label.strip() if isinstance(label, str) else ""
        if not label or len(label) > 200:
            raise Invalid(
                "invalid_checklist",
                gettext_noop("Item %(number)s needs a label of 1 to 200 characters.") % {"number": n + 1},
                details={f"items.{n}.label": gettext_noop("1 to 200 characters.")},
            )
        key = (item.get("key") or "").strip()
        if not key:
            kept = known.get(label)
            key = kept if kept and kept not in taken | given else _derive_key(label, taken | given)
        if not CHECKLIST_KEY.match(key) or key in REGISTRY or key in taken:
            raise Invalid(
                "invalid_checklist",
                gettext_noop(
                    "Item %(number)s: “%(key)s” cannot be a key (lowercase letters, digits and _, unique, "
                    "and not the key of an automated check)."
                )
                % {"number": n + 1, "key": key},
                details={f"items.{n}.key": "Lowercase letters, digits and _; unique."},
            )
        taken.add(key)
        result.append({"key": key, "label": label})
    return result


def app_set_checklist(*, app: App, actor, items, ip=None) -> list[dict]:
    """Replace the manual checklist. Ticks are per item key, so unchanged items keep theirs."""
    _require(actor, app, Role.RELEASE_MANAGER, gettext_noop("edit the checklist"))
    checklist = normalize_checklist(items, app.checklist)
    if checklist == app.checklist:
        return checklist
    with transaction.atomic():
        before = app.checklist
        app.checklist = checklist
        app.save(update_fields=["checklist"])
        audit_record(
            action="checklist_update",
            actor=actor,
            app=app,
            data={"before": before, "after": checklist},
            ip=ip,
        )
    return checklist


# -- approval policy and capacities ----------------------------------------------------------


def app_set_approval_policy(*, app: App, actor, required, ip=None) -> list[str]:
    """Which capacities must approve each revision. A release manager always must; only a
    team admin changes the policy (it decides who stands behind a submission)."""
    _require(actor, app, Role.ADMIN, gettext_noop("change the approval policy"))
    if not isinstance(required, list) or any(c not in Capacity.values for c in required):
        raise Invalid(
            "invalid_capacity",
            gettext_noop("The policy lists unknown capacities."),
            details={"required": f"A list drawn from {', '.join(Capacity.values)}."},
        )
    policy = [c.value for c in Capacity if c in set(required) | {Capacity.RELEASE_MANAGER}]
    if policy == app.required_approvals:
        return policy
    with transaction.atomic():
        before = app.required_approvals
        app.required_approvals = policy
        app.save(update_fields=["required_approvals"])
        audit_record(
            action="approval_policy_update",
            actor=actor,
            app=app,
            data={"before": before, "after": policy},
            ip=ip,
        )
    return policy


def member_set_capacities(*, team_id: int, actor, user, capacities, ip=None) -> Membership:
    """Give a member approval capacities besides their role (e.g. QA). Team admins only."""
    if not role_at_least(role_for(actor, team_id), Role.ADMIN):
        raise Forbidden("forbidden", gettext_noop("Only a team admin can change approval capacities."))
    allowed = [c.value for c in MEMBER_CAPACITIES]
    if not isinstance(capacities, list) or any(c not in allowed for c in capacities):
        raise Invalid(
            "invalid_capacity",
            gettext_noop("Unknown capacities."),
            details={"capacities": f"A list drawn from {', '.join(allowed)}."},
        )
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(team_id=team_id, user=user).first()
        if membership is None:
            raise NotFound("not_found", gettext_noop("No such member of this team."))
        chosen = [c for c in allowed if c in capacities]
        if chosen != membership.capacities:
            before = membership.capacities
            membership.capacities = chosen
            membership.save(update_fields=["capacities"])
            audit_record(
                action="member_capacities_update",
                actor=actor,
                target=membership,
                team_id=team_id,
                data={"user": user.get_username(), "before": before, "after": chosen},
                ip=ip,
            )
    for changed in (actor, user):
        forget_memberships(changed)
    return membership


# -- app details ----------------------------------------------------------------------------


def _http_url(value, field: str, limit: int, example: str) -> str:
    url = (value or "").strip()
    if url and not re.match(r"^https?://[^\s/]+", url, re.IGNORECASE):
        raise Invalid(
            "invalid_url",
            gettext_noop("“%(url)s” is not an http(s) URL.") % {"url": url},
            details={field: gettext_noop("An http(s) URL, e.g. %(example)s.") % {"example": example}},
        )
    if len(url) > limit:
        raise Invalid(
            "invalid_url",
            gettext_noop("The URL is too long."),
            details={field: gettext_noop("At most %(count)s characters.") % {"count": limit}},
        )
    return url


def app_update(*, app: App, actor, changes: dict, ip=None) -> App:
    """Change the privacy policy URL, the repository URL or the service categories (release
    managers and above)."""
    _require(actor, app, Role.RELEASE_MANAGER, gettext_noop("change the app"))
    changed = {}
    for field, limit, example in (
        ("privacy_policy_url", 200, "https://example.com/privacy"),
        ("repository_url", 300, "https://github.com/acme/cafe"),
    ):
        if field in changes:
            url = _http_url(changes[field], field, limit, example)
            if url != getattr(app, field):
                changed[field] = url
    if "categories" in changes:
        categories = changes["categories"]
        if not isinstance(categories, list) or not all(isinstance(c, str) and c.strip() for c in categories):
            raise Invalid(
                "invalid_field",
                gettext_noop("Categories must be a list of names."),
                details={"categories": gettext_noop("A list of names.")},
            )
        categories = [c.strip() for c in categories]
        if categories != app.categories:
            changed["categories"] = categories
    if not changed:
        return app
    with transaction.atomic():
        before = {k: getattr(app, k) for k in changed}
        for field, value in changed.items():
            setattr(app, field, value)
        app.save(update_fields=list(changed))
        audit_record(
            action="app_update", actor=actor, app=app, data={"before": before, "after": changed}, ip=ip
        )
    return app
