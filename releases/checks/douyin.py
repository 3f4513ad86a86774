"""Douyin's own checks (issue 16), declared for that platform only (`platforms`).

Douyin's audit call has one free-text field, audit_note, of at most 200 characters, and no
separate test-account field: what the reviewer must read (the test account, where the new
features are) has to fit there. Its host apps are named by code in the app's settings.
"""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from releases.checks.base import Check, Outcome, register
from releases.platform_rules import DOUYIN
from releases.platform_rules import DOUYIN_HOSTS as HOSTS
from releases.platform_rules import DOUYIN_HOSTS_SETTING as HOSTS_SETTING


@register
class DouyinReviewerNote(Check):
    key = "douyin_reviewer_note"
    title = _("The review notes fit Douyin's reviewer note")
    severity = "warning"
    platforms = ("douyin",)
    explanation = _(
        "Douyin shows the reviewer one note (audit_note) of at most 200 characters and has no field for a "
        "test account: put the test account and where to find the new features first."
    )

    def run(self, release) -> Outcome:
        length = len(release.review_notes.strip())
        if length <= DOUYIN.reviewer_note_max:
            return Outcome(True)
        return Outcome(
            False,
            gettext_noop(
                "The review notes are %(count)s characters; Douyin's reviewer reads the first %(max)s."
            )
            % {"count": length, "max": DOUYIN.reviewer_note_max},
            {"length": length},
        )


@register
class DouyinHostApps(Check):
    key = "douyin_host_apps"
    title = _("The host apps are Douyin's")
    platforms = ("douyin",)
    explanation = _(
        "The app's douyin_host_names setting names the host apps to submit to (douyin, douyin_lite, toutiao, "
        "tt_lite, xigua, huoshan); empty means every host Douyin offers. On a host left out the app becomes "
        "invisible."
    )

    def run(self, release) -> Outcome:
        chosen = (release.app.settings or {}).get(HOSTS_SETTING) or []
        unknown = (
            [str(host) for host in chosen if host not in HOSTS] if isinstance(chosen, list) else [str(chosen)]
        )
        if unknown:
            return Outcome(
                False,
                gettext_noop("Douyin has no host app %(hosts)s.") % {"hosts": ", ".join(unknown)},
                {"unknown": unknown},
            )
        return Outcome(True)
