"""Presentation helpers for the release pages: state badges, next-step sentences, sizes."""

import json
import re

from django import template
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from releases.actions import STATE_TONE
from releases.models import FAILED_TO_IN_FLIGHT, IN_FLIGHT, State

register = template.Library()

MB = 1024 * 1024

# One sentence per state for the "what happens next" panel; the buttons say who can do it.
NEXT_STEP = {
    State.DRAFT: _(
        "Run the checks. When every blocking check passes, the release is checked and waits "
        "for a release manager who did not write its content to approve it."
    ),
    State.CHECKED: _(
        "A release manager who did not write its content approves this revision; then a "
        "release manager submits it to the platform for review."
    ),
    State.SUBMITTING: _("Sluice is handing this version to the platform. This page updates when it is done."),
    State.SUBMIT_FAILED: _(
        "The platform did not accept the submission (see the error). Retry it, "
        "or edit the release and run the checks again."
    ),
    State.SUBMITTED: _(
        "The platform is reviewing this version. Its decision (approved, rejected or delayed) "
        "is recorded here."
    ),
    State.APPROVED: _(
        "The platform approved this version. A release manager publishes it when the team is ready."
    ),
    State.REJECTED: _(
        "The platform rejected this version (reason below). Edit it to fix the problem "
        "(it goes back to draft), resubmit it as it is, or cancel it."
    ),
    State.WITHDRAWING: _(
        "Sluice is withdrawing this version from review. This page updates when it is done."
    ),
    State.WITHDRAW_FAILED: _("Withdrawing did not work (see the error). Retry it."),
    State.WITHDRAWN: _("Withdrawn from review. Edit it to start again from draft, or cancel it."),
    State.PUBLISHING: _("Sluice is publishing this version. This page updates when it is done."),
    State.PUBLISH_FAILED: _("Publishing did not work (see the error). Retry it, or cancel the release."),
    State.PUBLISHED: _("This version is live. A release manager can roll it back if something is wrong."),
    State.ROLLING_BACK: _("Sluice is rolling this version back. This page updates when it is done."),
    State.ROLLBACK_FAILED: _("Rolling back did not work (see the error). Retry it."),
    State.ROLLED_BACK: _(
        "Rolled back: the previous version is live again. Nothing more happens to this release."
    ),
    State.ROLLING_OUT: _(
        "A phased release: the version is live for the share of users shown below. The next stage "
        "starts when its hold ends; a release manager can advance it now, pause it, or revert it."
    ),
    State.REVERTING: _(
        "Sluice is taking the version back from the users of the phased release. This page updates "
        "when it is done."
    ),
    State.REVERT_FAILED: _("Reverting the phased release did not work (see the error). Retry it."),
    State.EXPIRED: _(
        "The platform's window for resubmitting passed. Edit it to start again from draft, or cancel it."
    ),
    State.CANCELLED: _("Cancelled. Nothing more happens to this release."),
}


@register.filter
def state_label(state: str) -> str:
    try:
        return State(state).label
    except ValueError:
        return state or "—"


@register.filter
def state_tone(state: str) -> str:
    """A colour family for a state: good, bad, info, progress, neutral or muted."""
    if state in STATE_TONE:
        return STATE_TONE[state]
    if state in IN_FLIGHT:
        return "progress"
    if state in FAILED_TO_IN_FLIGHT:
        return "bad"
    return "neutral"


@register.inclusion_tag("releases/_state_badge.html")
def state_badge(state: str):
    return {"state": state, "label": state_label(state), "tone": state_tone(state)}


@register.filter
def next_step(state: str) -> str:
    return NEXT_STEP.get(state, "")


@register.filter
def megabytes(size) -> str:
    """Bytes as megabytes with two decimals, the unit the platforms' limits use."""
    try:
        return f"{float(size) / MB:.2f} MB"
    except (TypeError, ValueError):
        return "—"


@register.filter
def as_text(value) -> str:
    """A JSON value as one readable line: strings as they are, the rest as compact JSON."""
    if value == "" or value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ", ".join(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


@register.filter
def pairs(mapping) -> list[tuple[str, object]]:
    """A dict's items in a stable order, for key/value lists (evidence, audit data)."""
    if not isinstance(mapping, dict):
        return []
    return sorted(mapping.items())


@register.filter
def http_url(value: str) -> str:
    """The URL only if it is http(s); anything else (javascript:, data:) renders as no link."""
    value = (value or "").strip()
    return value if value.lower().startswith(("https://", "http://")) else ""


@register.filter
def commit_url(release) -> str:
    """Where the release's commit can be read: {the app's repository}/commit/{sha}, which GitHub,
    GitLab and Gitee all answer; no link without a repository or a commit."""
    repository = http_url(release.app.repository_url)
    if not repository or not release.build_commit:
        return ""
    return f"{repository.rstrip('/')}/commit/{release.build_commit}"


PACKAGE_LABELS = {"__FULL__": _("Total (all packages)"), "__APP__": _("Main package")}


@register.filter
def packages(report) -> list[dict]:
    """The build report's packages with their size and whether they exceed the platform limit."""
    from releases.checks.builtin import PackageSize

    rows = []
    listed = report.get("packages") if isinstance(report, dict) else None
    for package in listed if isinstance(listed, list) else []:
        if not isinstance(package, dict):
            continue
        name = str(package.get("name", "?"))
        size = package.get("size")
        limit = PackageSize.total_limit if name == "__FULL__" else PackageSize.main_limit
        over = isinstance(size, int | float) and size > limit
        rows.append({"name": name, "label": PACKAGE_LABELS.get(name, ""), "size": size, "over": over})
    return rows


@register.filter
def report_extras(report) -> list[tuple[str, object]]:
    """Everything in the build report besides the packages, as key/value pairs."""
    if not isinstance(report, dict):
        return []
    return sorted((key, value) for key, value in report.items() if key != "packages")


@register.filter
def by_urgency(results) -> list:
    """Check results with what blocks first, then warnings, then the rest, each in run order."""

    def rank(result) -> int:
        if result.blocks:
            return 0
        if result.status in ("failed", "error"):
            return 1
        if result.status == "pending":
            return 2
        return 3

    return sorted(results, key=lambda result: (rank(result), result.pk))


@register.filter
def span_parts(span) -> tuple[str, str, str]:
    """A word-list span's context split around the offending text, for <mark>ing it exactly."""
    from releases.checks.wordlists import CONTEXT_CHARS

    if not isinstance(span, dict):
        return ("", "", "")
    context, text = str(span.get("context", "")), str(span.get("text", ""))
    start = span.get("start") if isinstance(span.get("start"), int) else 0
    left = max(0, start - CONTEXT_CHARS)
    offset = start - left + (1 if left > 0 else 0)  # the leading "…"
    if context[offset : offset + len(text)] != text:
        offset = context.find(text)
    if offset < 0 or not text:
        return (context, "", "")
    return (context[:offset], text, context[offset + len(text) :])


@register.filter
def megabytes_of(package) -> str:
    return megabytes(package.get("size")) if isinstance(package, dict) else "—"


@register.filter
def dict_items(value) -> list:
    """A list of dicts only (evidence lists from JSON), so templates never iterate over junk."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


@register.filter
def lookup(mapping, key):
    return mapping.get(key, "") if isinstance(mapping, dict) else ""


@register.filter
def check_status_label(result) -> str:
    """The badge word: a failed warning reads "Warning", everything else its status."""
    if result.status == "failed" and not result.blocks:
        return _("Warning")
    return result.get_status_display()


SEVERITY_LABELS = {"error": _("error"), "warning": _("warning")}


@register.filter
def severity_label(severity: str) -> str:
    return SEVERITY_LABELS.get(severity, severity)


@register.filter
def check_title(result) -> str:
    """A check result's title in the reader's language.

    Results store the English title of the check when it ran; a check still registered under
    that key shows its (translated) current title, an unknown one the stored text.
    """
    from releases.checks.base import REGISTRY

    key = result.get("key", "") if isinstance(result, dict) else getattr(result, "key", "")
    stored = result.get("title", "") if isinstance(result, dict) else getattr(result, "title", "")
    check = REGISTRY.get(key)
    return check.title if check is not None else stored


LINE_BREAK_TAG = re.compile(r"<br\s*/?>", re.IGNORECASE)


@register.filter
def platform_text(value) -> str:
    """A platform's text with its <br> tags as line breaks (WeChat separates a rejection's items
    with them); still escaped like any text, shown in an element that keeps line breaks."""
    return LINE_BREAK_TAG.sub("\n", str(value or ""))


@register.filter
def localized(value) -> str:
    """Stored English (a check's message, a refusal, a task, a seeded playbook) in the reader's
    language; text no message id matches, as a person typed it (releases/messages.py)."""
    from releases.messages import localize

    return localize(str(value)) if value not in (None, "") else ""


@register.filter
def category_label(value) -> str:
    """A rejection category's name for people (its key, e.g. privacy_policy, is for code)."""
    from releases.models import RejectionCategory

    try:
        return RejectionCategory(value).label
    except ValueError:
        return value


@register.filter
def zone_name(zone) -> str:
    """The time zone as people say it: Beijing time for Asia/Shanghai (the product's zone), the
    IANA name for any other."""
    name = str(zone)
    return str(_("Beijing time")) if name in ("Asia/Shanghai", "Asia/Chongqing", "PRC") else name


REPORT_KEYS = {
    "apis": _("Private APIs"),
    "permissions": _("Permissions"),
    "pages": _("Pages"),
    "subpackages": _("Subpackages"),
    "plugins": _("Plugins"),
    "first_screen_ms": _("First screen (ms)"),
    "error_monitoring": _("Error monitoring"),
}


@register.filter
def report_key_label(key: str) -> str:
    """A build report field's name for people; the key itself (shown beside it) for an unknown one."""
    label = REPORT_KEYS.get(key)
    return str(label) if label is not None else ""


@register.filter
def event_kind_label(kind: str) -> str:
    """A notification event kind (a contract of the API, e.g. "approved") as people read it."""
    from notify.kinds import KINDS

    return str(KINDS.get(kind, kind))


ROLLOUT_STATUS = {
    "scheduled": pgettext_lazy("rollout", "Scheduled"),
    "running": pgettext_lazy("rollout", "Running"),
    "paused": pgettext_lazy("rollout", "Paused"),
    "halted": pgettext_lazy("rollout", "Halted"),
    "completed": pgettext_lazy("rollout", "Completed"),
    "reverted": pgettext_lazy("rollout", "Reverted"),
}


@register.filter
def rollout_status_label(status: str) -> str:
    """A phased release's status (the API's word, e.g. "running") as people read it."""
    return str(ROLLOUT_STATUS.get(status, status))
