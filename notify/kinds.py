"""The event kinds a channel subscribes to (a contract of the API), and which of them may wait.

Non-urgent kinds are held through a channel's quiet hours; urgent ones (something broke or is
about to be lost) go out at once.
"""

from django.utils.translation import gettext_lazy as _

KINDS = {
    "approval_needed": _("Approval needed"),
    "checks_failed": _("Checks failed"),
    "submitted": _("Submitted for review"),
    "review_delayed": _("Review delayed"),
    "review_overdue": _("Review overdue"),
    "rejected": _("Rejected"),
    "approved": _("Approved by the platform"),
    "published": _("Published"),
    "rollout": _("Rollout stage or halt"),
    "step_failed": _("A platform step failed"),
    "lock_started": _("Same-reason lock started"),
    "lock_ended": _("Same-reason lock ended"),
    "window_closing": _("Resubmission window closes within 24 hours"),
    "quota_low": _("Review quota low"),
    "authorization_lost": _("Platform authorization lost"),
    "no_release_30_days": _("No release in 30 days"),
    "digest": _("Morning digest"),
}
URGENT = {"step_failed", "authorization_lost", "window_closing"}
