"""Each platform's review rules as data (issue 16): what the limits, the same-reason lock, the
review follow-up, the rejection classifier and the checks read instead of assuming WeChat's.

Sources: platform-apis.md §4-§6 (WeChat), douyin.md §3-§5 (Douyin). A rule a platform does not
have is None or False here, and the pages then show no row for it (Douyin documents no daily or
monthly withdrawal limit and no same-reason lock: Sluice does not invent one). The WeChat numbers
stay overridable by the settings named in releases.limits.
"""

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class PlatformRules:
    # Withdrawals an app may make per day and per month (None: the platform sets no limit).
    withdraw_daily: int | None
    withdraw_monthly: int | None
    # Whether repeated rejections for one reason lock the app's resubmissions for a while.
    same_reason_lock: bool
    # The shortest wait between two submissions of an app (Douyin's 11301: 10 seconds): the
    # submit step puts its job off until it has passed (releases.step_services.submit_wait_seconds).
    submit_interval: timedelta
    # When a decision usually comes (the poll tightens inside it): (earliest, latest).
    decision_window: tuple[timedelta, timedelta]
    # Rollbacks a platform allows per published release (None: no such limit), and whether one
    # may go back to the first version the platform published.
    rollbacks_per_release: int | None
    # A phased (gray) release through the API.
    phased_release: bool
    # The reviewer's note: at most this many characters reach the reviewer.
    reviewer_note_max: int


WECHAT = PlatformRules(
    withdraw_daily=5,
    withdraw_monthly=10,
    same_reason_lock=True,
    submit_interval=timedelta(0),
    decision_window=(timedelta(hours=20), timedelta(days=5)),  # 1-3 working days, weekends included
    rollbacks_per_release=None,
    phased_release=True,
    reviewer_note_max=200,
)
DOUYIN = PlatformRules(
    withdraw_daily=None,
    withdraw_monthly=None,
    same_reason_lock=False,
    submit_interval=timedelta(seconds=10),
    decision_window=(timedelta(hours=2), timedelta(days=3)),  # usually within a working day
    rollbacks_per_release=1,
    phased_release=False,
    reviewer_note_max=200,
)
# Submitted by hand in some console: the WeChat-like defaults a team knows (what Sluice always did).
MANUAL = WECHAT

RULES = {"wechat": WECHAT, "douyin": DOUYIN, "manual": MANUAL}


def rules_for(platform: str) -> PlatformRules:
    """An unknown platform gets WeChat's rules, the strictest Sluice knows."""
    return RULES.get(platform, WECHAT)


def platforms_where(predicate) -> list[str]:
    return [name for name, rules in RULES.items() if predicate(rules)]


# Douyin's host apps (douyin.md §3.3), and the app setting choosing those a release is submitted
# to (default: every host get_audit_hosts offers).
DOUYIN_HOSTS = ("douyin", "douyin_lite", "toutiao", "tt_lite", "xigua", "huoshan")
DOUYIN_HOSTS_SETTING = "douyin_host_names"
