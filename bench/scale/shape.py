"""What the generated data set looks like: its default size, its teams, how releases end (weights),
the words it names things with, the audit actions a story is made of; and what a run is asked
(Options) and reports (Result)."""

from dataclasses import dataclass, field

from releases.models import State

APPS = 2_000
RELEASES_PER_APP = 100
EVENTS = 2_000_000
APPID_PREFIX = "wxscale"  # marks the generated apps: a second run refuses unless forced
BIG_TEAM = "Scale Platform"
# (name, share of the apps, developers, release managers, viewers)
TEAMS = [
    (BIG_TEAM, None, 12, 4, 3),
    ("Scale Retail", 0.05, 3, 1, 1),
    ("Scale Games", 0.04, 3, 1, 1),
    ("Scale Health", 0.03, 2, 1, 1),
    ("Scale Travel", 0.03, 2, 1, 1),
]
WECHAT_SHARE = 0.7


# How the older releases of an app ended, and where the newest one is now (weights).
HISTORY = {
    "published": 70,
    "published_after_rejection": 13,
    "published_after_two_rejections": 2,
    "rolled_back": 2,
    "cancelled_draft": 3,
    "cancelled_checked": 2,
    "withdrawn": 3,
    "expired": 3,
    "approved_cancelled": 1,
    "rejected_cancelled": 1,
}
LATEST = {
    "published": 26,
    "draft": 12,
    "checked": 9,
    "checked_approved": 6,
    "submitted": 18,
    "submitted_delayed": 3,
    "resubmitted": 3,
    "approved": 8,
    "rejected": 9,
    "submit_failed": 1,
    "publish_failed": 2,
    "withdrawn": 1,
    "cancelled_draft": 2,
}

ADJECTIVES = [
    "Lotus", "Jade", "Sunny", "Panda", "Golden", "Bamboo", "Maple", "Silver", "Swift", "Lucky",
    "Cloud", "River", "Happy", "Orchid", "Harbor", "Peach", "Crane", "Amber", "Coral", "Willow",
]  # fmt: skip
NOUNS = [
    "Tea", "Shop", "Cafe", "Fitness", "Books", "Travel", "Clinic", "Bakery", "Garden", "Market",
    "Cinema", "Kitchen", "Pets", "Music", "Florist", "Laundry", "Hotel", "Games", "Tutor", "Noodles",
]  # fmt: skip
CATEGORIES = [
    "商家自营 > 服装/鞋/箱包",
    "餐饮服务 > 餐厅排队",
    "生活服务 > 家政",
    "教育服务 > 在线教育",
    "旅游服务 > 景区服务",
    "工具 > 信息查询",
    "医疗服务 > 健康管理",
    "游戏 > 休闲游戏",
]
APPROVAL_COMMENTS = ["", "", "Looks good.", "Tested on iOS and Android.", "OK to ship.", "Checked the notes."]
DELAY_REASON = "审核排队中，预计延迟 2-3 个工作日"
SUBMIT_ERROR = ("85009", "已经有正在审核的版本")
PUBLISH_ERROR = ("85019", "没有审核版本")
DONE_NOTES = [
    "Fixed and verified on a test build.",
    "Updated the pages the reviewer named; screenshots attached to the ticket.",
    "Policy updated and linked from 我的 > 设置.",
    "Removed the feature from this version.",
]
EXPLAIN_NOTES = ["已按审核意见修改相关页面，请重新审核。", "已补充隐私政策说明并更新服务类目，谢谢。"]

# Event codes: action, from state, to state (None: the release's current state, unchanged).
S = State
ACTIONS = {
    "create": ("", S.DRAFT),
    "checklist_confirm": (S.DRAFT, S.DRAFT),
    "check": (S.DRAFT, S.CHECKED),
    "approve": (S.CHECKED, S.CHECKED),
    "submit": (None, S.SUBMITTING),
    "submit_succeeded": (S.SUBMITTING, S.SUBMITTED),
    "submit_failed": (S.SUBMITTING, S.SUBMIT_FAILED),
    "review_approved": (S.SUBMITTED, S.APPROVED),
    "review_rejected": (S.SUBMITTED, S.REJECTED),
    "review_delayed": (S.SUBMITTED, S.SUBMITTED),
    "remediation_planned": ("", ""),
    "remediation_done": ("", ""),
    "withdraw": (S.SUBMITTED, S.WITHDRAWING),
    "withdraw_succeeded": (S.WITHDRAWING, S.WITHDRAWN),
    "publish": (S.APPROVED, S.PUBLISHING),
    "publish_succeeded": (S.PUBLISHING, S.PUBLISHED),
    "publish_failed": (S.PUBLISHING, S.PUBLISH_FAILED),
    "rollback": (S.PUBLISHED, S.ROLLING_BACK),
    "rollback_succeeded": (S.ROLLING_BACK, S.ROLLED_BACK),
    "cancel": (None, S.CANCELLED),
    "expire": (S.REJECTED, S.EXPIRED),
}
HUMAN = {"create", "checklist_confirm", "check", "approve", "submit", "withdraw", "publish", "rollback"}
HUMAN |= {"cancel", "remediation_done"}


class ScaleError(Exception):
    """The database or the options do not allow this run (the message says what to do)."""


@dataclass
class Options:
    apps: int = APPS
    releases_per_app: int = RELEASES_PER_APP
    events: int = EVENTS
    seed: int = 6
    force: bool = False


@dataclass
class Result:
    apps: int = 0
    releases: int = 0
    events: int = 0
    rejections: int = 0
    tasks: int = 0
    approvals: int = 0
    check_runs: int = 0
    checklist_ticks: int = 0
    timings: list[tuple[str, float]] = field(default_factory=list)
