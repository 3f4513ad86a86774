"""The limits' names as people read them, by limit key, in the page's language.

The rules (rules.py, bulk.py) name each limit in English: that name is part of the API
(`GET /api/v1/apps/{id}/limits`, which stays English). The pages show these instead."""

from django.utils.translation import gettext_lazy as _

LABELS = {
    "review_quota": _("Reviews this month (platform account)"),
    "speedup_quota": _("Speed-ups this month (platform account)"),
    "withdraw_daily": _("Withdrawals today"),
    "withdraw_monthly": _("Withdrawals this month"),
    "same_reason_lock": _("Same-reason rejections in a row"),
    "in_review": _("Releases in review"),
    "resubmission_window": _("Days of the resubmission window used"),
}


def label(key: str, fallback: str) -> str:
    """The translated name of limit `key`; `fallback` (the rule's English name) for an unknown key."""
    return str(LABELS.get(key, fallback))
