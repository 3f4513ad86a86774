"""The release page (checks, checklist, approvals, the audit trail, the buttons) and what it
polls while slow checks run. Reads only; what its buttons and forms post is
web.release_changes."""

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from releases import actions, approvals, selectors
from releases.checks import REGISTRY
from releases.memo import in_read_scope
from releases.models import (
    EDITABLE,
    AuditEvent,
    CheckResult,
    Release,
    ReleaseGroupMember,
    Role,
    State,
    role_at_least,
)
from web.audit_labels import CODE_KEYS, action_label, data_key_label, data_value_text
from web.page_helpers import page_context, request_role
from web.rollout_pages import CONFIRMED, rollout_context
from web.rows import Row, times
from web.templatetags.sluice import by_urgency, check_title, pairs, severity_label, state_label


def _when(moment) -> Row:
    """A moment as the release page prints it: `iso` for <time datetime>, `text` to read."""
    iso, text = times(moment)
    return Row(iso=iso, text=text)


def _check_rows(run) -> list:
    """The run's results, most urgent first, each with what its row prints: the badge, the title
    in the reader's language, the severity note, whether it is open (neither passed nor pending)
    and, if so, the check's explanation."""
    if run is None:
        return []
    warning, notes, statuses = _("Warning"), {}, dict(CheckResult.Status.choices)
    rows = by_urgency(run.result_list)
    for result in rows:
        warned = result.status == "failed" and not result.blocks
        result.badge = "warning" if warned else result.status
        result.badge_label = warning if warned else statuses.get(result.status, result.status)
        result.shown_title = check_title(result)
        if result.severity != "error" and result.severity not in notes:
            notes[result.severity] = _("%(severity)s, does not block") % {
                "severity": severity_label(result.severity)
            }
        result.note = notes.get(result.severity, "")
        result.is_open = result.status not in ("passed", "pending")
        check = REGISTRY.get(result.key) if result.is_open else None
        result.explanation = check.explanation if check is not None else ""
    return rows


def _checklist_rows(release: Release) -> list[dict]:
    """The manual checklist of this revision, each ticked item with who confirmed it and when."""
    confirmed = _("Confirmed by %(who)s")
    items = selectors.checklist_items(release)
    for item in items:
        tick = item["tick"]
        if tick is not None:
            item["confirmed"] = confirmed % {"who": tick.confirmed_by.get_username()}
            item["at"] = _when(tick.confirmed_at)
    return items


def _approval_rows(release: Release, policy) -> list[Row]:
    """Every approval of every revision, oldest first; those of an earlier revision are void.
    A release never edited (revision 1) has only the current revision's: the policy's own."""
    if release.revision == 1:
        given = sorted(policy.approvals, key=lambda a: (a.created_at, a.pk))
    else:
        given = release.approvals.select_related("approver").order_by("created_at", "pk")
    rows = []
    for approval in given:
        if approval.override:
            did = _("approved by override revision %(revision)s")
        else:
            did = _("approved revision %(revision)s")
        rows.append(
            Row(
                who=approval.approver.get_username(),
                did=did % {"revision": approval.revision},
                capacity=_("as %(capacity)s") % {"capacity": approval.capacity_label},
                void=approval.revision != release.revision,
                at=_when(approval.created_at),
                comment=approval.comment,
            )
        )
    return rows


# The release's moments the page prints (`at.created_at.iso`, `at.created_at.text`).
RELEASE_TIMES = ("created_at", "submitted_at", "decided_at", "state_changed_at", "review_delayed_at")


def _event_rows(release: Release) -> tuple[list[Row], int]:
    """The release's audit trail in chain order, each event with what its table row prints (the
    template places them), and the id of the newest event (0 when there is none)."""
    events = (
        AuditEvent.objects.filter(release_id=release.pk)
        .order_by("id")
        .values_list("id", "at", "actor_name", "action", "from_state", "to_state", "data")
    )
    zone, labels, rows, last = timezone.get_current_timezone(), {}, [], 0
    for pk, at, actor, action, from_state, to_state, data in events:
        for state in (from_state, to_state):
            if state not in labels:
                labels[state] = str(state_label(state))
        moved = f"{labels[from_state]} → " if from_state and from_state != to_state else ""
        local = at.astimezone(zone)
        rows.append(
            Row(
                iso=local.isoformat(),
                seconds=f"{local:%Y-%m-%d %H:%M:%S}",
                text=f"{local:%Y-%m-%d %H:%M}",
                actor=actor,
                action=action_label(action),
                code=action,
                states=moved + labels[to_state],
                data=[
                    (data_key_label(key), data_value_text(key, value), key in CODE_KEYS)
                    for key, value in pairs(data)
                ],
            )
        )
        last = pk
    return rows, last


def _live_stamp(release: Release, run, last_event: int) -> str:
    """The stamp web.live.release_stamp gives this release (what static/js/live.js polls),
    from the rows this page read, so it costs no query of its own (a test holds the two equal)."""
    finished = "f" if run is not None and run.finished_at is not None else "p"
    return f"{release.updated_at.isoformat()}|{last_event}|{run.pk if run is not None else 0}{finished}"


# Columns of the release's app and platform account the page never reads: the secrets (never
# decrypted for it) and the app's settings and categories.
UNSHOWN_COLUMNS = (
    "app__authorizer_refresh_token",
    "app__settings",
    "app__categories",
    "app__platform_account__component_appsecret",
    "app__platform_account__message_token",
    "app__platform_account__encoding_aes_key",
)


def _shown_releases(user):
    """The user's releases (the selector: team isolation) joined with what the page shows: the
    app, its platform account, the author and the owner, its release group (issue 16); not the
    team row, nor UNSHOWN_COLUMNS. The group's other platforms come in one query, only for a
    release that has a group."""
    shown = selectors.releases_for(user).select_related(None)
    siblings = Prefetch(
        "group_membership__group__members",
        queryset=ReleaseGroupMember.objects.select_related("release__app__platform_account"),
    )
    return (
        shown.select_related("app__platform_account", "author", "owner", "group_membership__group")
        .prefetch_related(siblings)
        .defer(*UNSHOWN_COLUMNS)
    )


@login_required
@in_read_scope
def release_detail(request, release_id: int):
    user = request.user
    release = get_object_or_404(_shown_releases(user), pk=release_id)
    role = request_role(request, release.app.team_id)
    # First the rejection, remediation and limits, which warm what the guards of the buttons
    # share with them (releases.memo); then the check run, which the guards reuse. All reads:
    # a rejection's tasks were recorded with the rejection itself (releases.services).
    extras = page_context("release", release, user)
    check_run = selectors.latest_check_run(release)
    current_run = check_run is not None and check_run.counts_for(release)
    results = _check_rows(check_run)
    pending = [r for r in results if r.status == "pending"] if current_run else []
    is_draft = release.state == State.DRAFT
    blocking = [r for r in results if r.blocks] if current_run and is_draft else []
    checklist = _checklist_rows(release)
    events, last_event = _event_rows(release)
    policy = approvals.policy_status(release)
    membership = getattr(release, "group_membership", None)  # fetched with the release
    return render(
        request,
        "releases/release_detail.html",
        {
            **extras,
            **rollout_context(release),
            "confirmed_actions": CONFIRMED,
            "release": release,
            "app": release.app,
            "group": membership.group if membership else None,
            "group_siblings": [
                m.release for m in membership.group.members.all() if m.release_id != release.pk
            ]
            if membership
            else [],
            "role": role,
            "role_label": Role(role).label,
            "live_stamp": _live_stamp(release, check_run, last_event),
            "available": actions.available_actions(release, user, all_blockers=True),
            "can_edit": role_at_least(role, Role.DEVELOPER) and release.state in EDITABLE,
            "check_run": check_run,
            "check_run_at": _when(check_run.created_at) if check_run else None,
            "results": results,
            "blocking_checks": blocking,
            "pending_checks": pending,
            # The checks part opens when it has something to say about this revision.
            "checks_need_reader": bool(
                pending or blocking or (is_draft and current_run and not check_run.passed)
            ),
            # One review at a time is routine, not a limit reached (it says so in "What happens next").
            "limits_exhausted": any(
                limit["remaining"] == 0 and limit["key"] != "in_review" for limit in extras.get("limits", [])
            ),
            "checklist": checklist,
            "checklist_open": [i for i in checklist if i["tick"] is None],
            "can_tick": is_draft and role_at_least(role, Role.DEVELOPER),
            "policy": policy,
            "open_capacities": [
                (c, approvals.capacity_label(c)) for c in approvals.open_capacities_for(release, user)
            ],
            "approvals": _approval_rows(release, policy),
            "events": events,
            "at": Row({name: _when(getattr(release, name)) for name in RELEASE_TIMES}),
        },
    )


@login_required
@require_GET
def release_check_status(request, release_id: int):
    """What the page polls while slow checks run: how many are still pending."""
    release = get_object_or_404(selectors.releases_for(request.user), pk=release_id)
    run = selectors.latest_check_run(release)
    pending = sum(1 for r in run.result_list if r.status == "pending") if run else 0
    return JsonResponse(
        {
            "run": run.pk if run else None,
            "pending": pending,
            "finished": run is not None and run.finished_at is not None,
            "state": release.state,
        }
    )
