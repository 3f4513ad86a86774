"""Measurements CI sends in the build report: first-screen time and error monitoring."""

import math

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from releases.checks.base import Check, Outcome, register


def _first_screen_ms(release) -> tuple[float | None, Outcome | None]:
    """The measurement, or the failed outcome that says why there is none to judge."""
    report = release.build_report if isinstance(release.build_report, dict) else {}
    value = report.get("first_screen_ms")
    if value is None:
        return None, Outcome(
            False,
            gettext_noop(
                "The build report has no first_screen_ms; CI should measure the first screen and send it "
                "(build_report.first_screen_ms, in milliseconds)."
            ),
            {"first_screen_ms": None},
        )
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        return None, Outcome(
            False,
            gettext_noop("first_screen_ms is %(value)s, not a number of milliseconds >= 0.")
            % {"value": repr(value)},
            {"first_screen_ms": value},
        )
    return value, None


class _FirstScreen(Check):
    limit_ms = 0

    def run(self, release) -> Outcome:
        ms, missing = _first_screen_ms(release)
        if missing is not None:
            return missing
        if ms > self.limit_ms:
            return Outcome(
                False,
                gettext_noop("The first screen takes %(ms)s ms, over the %(limit)s ms limit by %(over)s ms.")
                % {"ms": f"{ms:g}", "limit": self.limit_ms, "over": f"{ms - self.limit_ms:g}"},
                {"first_screen_ms": ms, "limit_ms": self.limit_ms},
            )
        return Outcome(
            True,
            gettext_noop("First screen in %(ms)s ms (limit %(limit)s ms).")
            % {"ms": f"{ms:g}", "limit": self.limit_ms},
        )


_HOW_TO_FIX = _(
    "How to fix: split the code into subpackages (at most 2 MB each) and load them on demand, "
    "serve images and media from a CDN, cut or merge the requests made before the first render, "
    "and use the platform's initial rendering cache."
)


@register
class FirstScreen(_FirstScreen):
    key = "first_screen"
    title = _("First screen within 3 seconds")
    severity = "error"
    limit_ms = 3000
    explanation = format_lazy(
        "{} {}",
        _(
            "Reviewers reject mini-programs that are slow to open (“too slow” is one of the common "
            "rejection causes), and every extra second of loading loses users. Above 3000 ms the "
            "release is blocked."
        ),
        _HOW_TO_FIX,
    )


@register
class FirstScreenTarget(_FirstScreen):
    key = "first_screen_target"
    title = _("First screen within the 2-second target")
    severity = "warning"
    limit_ms = 2000
    explanation = format_lazy(
        "{} {}",
        _(
            "The target for the first screen is 2000 ms; between 2000 and 3000 ms the release may "
            "still pass review, so this only warns (the blocking limit is the “first screen within 3 "
            "seconds” check)."
        ),
        _HOW_TO_FIX,
    )


@register
class ErrorMonitoring(Check):
    key = "error_monitoring"
    title = _("Error monitoring declared")
    severity = "warning"
    explanation = _(
        "Without error monitoring a crash after release is found by users and reviewers first. "
        "Reviewers do not reject for it, so this only warns. How to fix: wire an error monitoring "
        "tool (Sentry, Fundebug, the platform's own 'We分析' error reports…) and have CI send its "
        "name as build_report.error_monitoring."
    )

    def run(self, release) -> Outcome:
        report = release.build_report if isinstance(release.build_report, dict) else {}
        value = report.get("error_monitoring")
        if isinstance(value, str) and value.strip():
            return Outcome(True, gettext_noop("Error monitoring: %(tool)s.") % {"tool": value.strip()})
        return Outcome(
            False,
            gettext_noop(
                "The build report declares no error monitoring (build_report.error_monitoring is missing)."
            )
            if "error_monitoring" not in report
            else gettext_noop(
                "The build report declares no error monitoring (build_report.error_monitoring is %(value)s)."
            )
            % {"value": repr(value)},
            {"error_monitoring": value},
        )
