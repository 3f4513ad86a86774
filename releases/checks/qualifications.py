"""Qualifications (business licence, category permits) valid now and through the review.

REVIEW_WINDOW_DAYS is a constant, deliberately not a setting: WeChat decides within 1 to 7
days (usually 1 to 3), and a rejected version must be resubmitted within 7 days, so a
permit that lapses within 7 days of submitting is likely to lapse while the reviewer
looks at it ("qualification mismatch" is the most frequent product rejection). A
qualification is valid up to and including its expiry date; one without an expiry date
(长期有效) never expires. The rule is checked when the checks run and again when the
release is submitted (guard `qualification_expired`).
"""

from datetime import date, timedelta

from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from releases.checks.base import Check, Outcome, register

REVIEW_WINDOW_DAYS = 7


def qualification_problems(app, today: date | None = None, qualifications=None) -> list[dict]:
    """Every qualification expired, or expiring before the review window ends, with a sentence.
    `qualifications`: the app's, when the caller read them (for many apps at once)."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=REVIEW_WINDOW_DAYS)
    problems = []
    for q in qualifications if qualifications is not None else app.qualifications.all():
        if q.expires_on is None or q.expires_on >= horizon:
            continue
        if q.expires_on < today:
            message = gettext_noop("%(title)s expired on %(date)s") % {
                "title": q.title,
                "date": q.expires_on.isoformat(),
            }
        else:
            days = (q.expires_on - today).days
            message = gettext_noop(
                "%(title)s expires on %(date)s, in %(days)s day(s), inside the %(window)s-day review window"
            ) % {
                "title": q.title,
                "date": q.expires_on.isoformat(),
                "days": days,
                "window": REVIEW_WINDOW_DAYS,
            }
        problems.append(
            {
                "id": q.pk,
                "kind": q.kind,
                "name": q.name,
                "number": q.number,
                "expires_on": q.expires_on.isoformat(),
                "message": message,
            }
        )
    return problems


def submit_problems(app, today: date | None = None, qualifications=None) -> list[dict]:
    """The same rule as the check, as the submit guard applies it (honouring a suppression).
    The suppressions are read only when there is a problem to suppress."""
    from releases.selectors import active_suppressions

    today = today or timezone.localdate()
    problems = qualification_problems(app, today, qualifications)
    if problems and QualificationsValid.key in active_suppressions(app, today):
        return []
    return problems


@register
class QualificationsValid(Check):
    key = "qualifications"
    title = _("Qualifications valid through the review")
    explanation = format_lazy(
        _(
            "Reviewers compare the app's business licence and category permits (e.g. 食品经营许可证 for "
            "food, ICP licences, medical permits) with its category; an expired permit is the most common "
            "product rejection (“资质不符”). Sluice stores each qualification with its expiry date on the "
            "app page and requires every one to be valid today and for the next {days} days "
            "(the longest usual review). It checks again when the release is submitted. How to fix: renew "
            "the permit, upload the new one on the platform, and record its new number and expiry date on "
            "the app page."
        ),
        days=REVIEW_WINDOW_DAYS,
    )

    def run(self, release) -> Outcome:
        app = release.app
        if app.pk is None or not app.qualifications.exists():
            return Outcome(True, gettext_noop("No qualifications are recorded for this app."))
        problems = qualification_problems(app)
        if not problems:
            return Outcome(
                True,
                gettext_noop("%(count)s qualification(s), all valid through the review window.")
                % {"count": app.qualifications.count()},
            )
        return Outcome(
            False,
            "; ".join(p["message"] for p in problems) + ".",
            {"problems": problems, "review_window_days": REVIEW_WINDOW_DAYS},
        )
