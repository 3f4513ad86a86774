"""What a message says, in the recipient's language: a title, lines, a link and who to @.

Deliveries carry `facts` frozen when the event was seen; the words are chosen here, at send time,
in the channel's (or person's) language. Several deliveries due at once make one message whose
title counts them ("12 releases were approved"), one line per event.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from notify.kinds import KINDS
from releases.messages import localize

# Feishu card header colours and WeCom font colours by how bad the news is.
BAD = {"checks_failed", "rejected", "step_failed", "authorization_lost", "lock_started", "review_overdue"}
GOOD = {"approved", "published", "lock_ended"}
MAX_LINES = 30


@dataclass
class Message:
    title: str
    lines: list[str] = field(default_factory=list)
    link: str = ""
    mobiles: list[str] = field(default_factory=list)
    tone: str = "info"  # info, good, bad
    button: str = "Open in Sluice"  # in the message's language (compose sets it)


def django_language(language: str) -> str:
    return "zh-hans" if language.lower().startswith("zh") else "en"


def absolute(path: str) -> str:
    if not path or path.startswith("http"):
        return path
    return settings.SLUICE_PUBLIC_URL.rstrip("/") + path if settings.SLUICE_PUBLIC_URL else path


def _subject(facts: dict) -> str:
    return " ".join(part for part in (facts.get("app", ""), facts.get("version", "")) if part)


def headline(event: str, facts: dict) -> str:
    """One sentence for one event (the title of a single message, a line of a coalesced one)."""
    what = {"subject": _subject(facts), **{k: v for k, v in facts.items() if isinstance(v, str | int)}}
    sentences = {
        "test": _("Test message from Sluice: this channel works."),
        "approval_needed": _("%(subject)s needs approval"),
        "checks_failed": _("%(subject)s: checks failed"),
        "submitted": _("%(subject)s was submitted for review"),
        "review_delayed": _("%(subject)s: the platform delayed the review"),
        "review_overdue": _("%(subject)s has been in review for %(days)s working days"),
        "rejected": _("%(subject)s was rejected"),
        "approved": _("%(subject)s was approved by the platform"),
        "published": _("%(subject)s was published"),
        "rollout": _("%(subject)s: rollout %(detail)s"),
        "step_failed": _("%(subject)s: the %(step)s step failed"),
        "lock_started": _("%(subject)s: submissions are locked until %(until)s"),
        "lock_ended": _("%(subject)s: the same-reason lock has ended; submissions are open again"),
        "window_closing": _("%(subject)s: the resubmission window closes at %(closes)s"),
        "quota_low": _("%(account)s: %(remaining)s reviews left this month"),
        "authorization_lost": _("%(subject)s: the platform authorization was revoked"),
        "no_release_30_days": _("%(subject)s: no release in 30 days"),
        "digest": _("Morning digest: %(team)s"),
    }
    sentence = sentences.get(event, str(KINDS.get(event, event)))
    try:
        return sentence % what
    except (KeyError, TypeError, ValueError):
        return str(KINDS.get(event, event))


def details(event: str, facts: dict) -> list[str]:
    """The lines under a single event's title."""
    lines = []
    if facts.get("reason"):
        lines.append(_("Reason: %(reason)s") % {"reason": facts["reason"]})
    if facts.get("categories"):
        names = [localize(name) for name in facts["categories"]]
        lines.append(_("Categories: %(names)s") % {"names": "、".join(names)})
    # Category labels, playbook steps and check titles are stored in English: read in the message's language.
    for step in facts.get("steps", [])[:3]:
        lines.append(_("First step: %(step)s") % {"step": localize(step)})
    for check in facts.get("checks", [])[:5]:
        lines.append(_("Failed: %(check)s") % {"check": localize(check)})
    if facts.get("error"):
        lines.append(_("Error: %(error)s") % {"error": facts["error"]})
    if event == "no_release_30_days":
        lines.append(_("Platforms favour apps that ship at least a minor version a month."))
    if event == "approval_needed" and facts.get("approvers"):
        lines.append(_("Waiting for: %(names)s") % {"names": ", ".join(facts["approvers"])})
    lines.extend(facts.get("sections", []))
    return lines


def _coalesced_title(events: list[str]) -> str:
    n = len(events)
    if len(set(events)) > 1:
        return ngettext("%(n)s notification", "%(n)s notifications", n) % {"n": n}
    plural = {
        "approved": ngettext("%(n)s release was approved", "%(n)s releases were approved", n),
        "rejected": ngettext("%(n)s release was rejected", "%(n)s releases were rejected", n),
        "published": ngettext("%(n)s release was published", "%(n)s releases were published", n),
        "submitted": ngettext("%(n)s release was submitted", "%(n)s releases were submitted", n),
        "approval_needed": ngettext("%(n)s release needs approval", "%(n)s releases need approval", n),
        "step_failed": ngettext("%(n)s platform step failed", "%(n)s platform steps failed", n),
    }
    label = str(KINDS.get(events[0], events[0]))
    return plural.get(events[0], _("%(n)s × %(label)s") % {"n": n, "label": label}) % {"n": n}


def _tone(events) -> str:
    if any(e in BAD for e in events):
        return "bad"
    return "good" if all(e in GOOD for e in events) else "info"


def compose(items: list[tuple[str, dict]], language: str) -> Message:
    """One message for these (event, facts), in `language` ("zh-Hans" or "en")."""
    with translation.override(django_language(language)):
        events = [event for event, _facts in items]
        mobiles = sorted({m for _e, facts in items for m in facts.get("mobiles", [])})
        if len(items) == 1:
            event, facts = items[0]
            return Message(
                headline(event, facts),
                details(event, facts),
                absolute(facts.get("link", "")),
                mobiles,
                _tone(events),
                _("Open in Sluice"),
            )
        lines = [headline(event, facts) for event, facts in items[:MAX_LINES]]
        if len(items) > MAX_LINES:
            lines.append(_("… and %(n)s more") % {"n": len(items) - MAX_LINES})
        return Message(
            _coalesced_title(events),
            lines,
            absolute("/releases/"),
            mobiles,
            _tone(events),
            _("Open in Sluice"),
        )
