"""A large, realistic data set for the scale benchmark (issue 6): what `manage.py seed_scale` runs.

By default 2,000 apps, 200,000 releases and 2,000,000 audit events over the past year:

- teams: one big team ("Scale Platform", most of the apps; the demo users admin/manager/dev/viewer
  are members with their demo roles, so a demo login sees all of its apps) and four small ones;
  generated users per team (developers, release managers, viewers) who cannot log in;
- per team a WeChat and a manual platform account; apps on both;
- per app its releases one after the other over the year, each with a story that ends in a
  plausible state: most older ones published (some after a rejection and its remediation, some
  cancelled, withdrawn, expired or rolled back); the newest one anywhere in the pipeline
  (draft, waiting for approval, in review, delayed, approved, rejected with open tasks...);
- for every step the audit event a real run writes (create, checklist_confirm, check, approve,
  submit, submit_succeeded, review_*, remediation_*, publish...), with the same actions, states
  and data shapes as releases.services and releases.remediation, and the rows behind them:
  check runs, approvals, checklist ticks, rejections (reasons from the simulator's catalogue,
  classified by reviews.rejections), remediation tasks (from the playbooks), review watches
  and quota snapshots.

The event total is exact: a release's story has a fixed number of events; what the target asks
beyond them are checklist confirmations (newest releases first, up to five per check, as if the
checklist arrived at some point of the year), then app setting changes if even that is not enough.

Fast: everything is generated in Python and written with PostgreSQL's COPY (plain INSERTs on
other databases) in one transaction. The audit trail stays a valid hash chain: events are
sorted by time, numbered after the current last id and signed with releases.audit.event_mac (the
audit key of SLUICE_AUDIT_KEYS), linked to the chain head, which is updated and signed at the end
(so `manage.py verify_audit` passes).
Ids are assigned explicitly and the sequences reset afterwards.
"""

import hashlib
import io
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from releases.audit import event_mac, head_values
from releases.audit_keys import signing_key
from releases.checks import REGISTRY
from releases.fingerprint import content_hash
from releases.management.commands.seed_demo import PASSWORD as DEMO_PASSWORD
from releases.management.commands.seed_demo import USERS as DEMO_USERS
from releases.models import (
    DEFAULT_CHECKLIST,
    App,
    Approval,
    AuditChainHead,
    AuditEvent,
    Capacity,
    ChecklistTick,
    CheckResult,
    CheckRun,
    Membership,
    Platform,
    PlatformAccount,
    QuotaSnapshot,
    Rejection,
    RejectionCategory,
    Release,
    RemediationTask,
    Role,
    State,
    Team,
    UnclassifiedReason,
)
from releases.playbooks.seed import seed_playbooks
from releases.remediation import EXPLAIN_KEY, _steps
from reviews.models import ReviewWatch
from reviews.rejections import OTHER, classify_reason, normalise
from simulator.services import format_reasons, reason_catalogue

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
YEAR_US = 365 * 86_400 * 1_000_000
HOUR_US = 3_600 * 1_000_000
SHANGHAI = ZoneInfo("Asia/Shanghai")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

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


# -- the people and places -------------------------------------------------------------------


@dataclass
class TeamInfo:
    team: Team
    developers: list[int]
    managers: list[int]
    admin: int
    wechat: PlatformAccount
    manual: PlatformAccount
    usernames: dict[int, str]


def _ensure_demo_users() -> dict[str, int]:
    """The demo logins (admin, manager, dev, viewer); created with the demo password if missing."""
    User = get_user_model()
    ids = {}
    for username, _role, superuser in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(
                username=username, password=DEMO_PASSWORD, is_staff=superuser, is_superuser=superuser
            )
        ids[username] = user.pk
    return ids


def _team_users(slug: str, developers: int, managers: int, viewers: int) -> dict[str, list[int]]:
    User = get_user_model()
    wanted = {
        "admin": [f"{slug}-admin"],
        Role.DEVELOPER: [f"{slug}-dev-{n:02d}" for n in range(1, developers + 1)],
        Role.RELEASE_MANAGER: [f"{slug}-manager-{n:02d}" for n in range(1, managers + 1)],
        Role.VIEWER: [f"{slug}-viewer-{n:02d}" for n in range(1, viewers + 1)],
    }
    names = [n for group in wanted.values() for n in group]
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    unusable = make_password(None)
    User.objects.bulk_create(
        [User(username=n, password=unusable, email=f"{n}@scale.example") for n in names if n not in existing]
    )
    by_name = dict(User.objects.filter(username__in=names).values_list("username", "pk"))
    return {role: [by_name[n] for n in group] for role, group in wanted.items()}


def _teams(demo: dict[str, int]) -> list[TeamInfo]:
    infos = []
    for index, (name, _share, devs, managers, viewers) in enumerate(TEAMS):
        team, _ = Team.objects.get_or_create(name=name)
        slug = name.lower().replace(" ", "-").removeprefix("scale-")
        users = _team_users(slug, devs, managers, viewers)
        roles = {users["admin"][0]: Role.ADMIN}
        roles |= {
            pk: role for role in (Role.DEVELOPER, Role.RELEASE_MANAGER, Role.VIEWER) for pk in users[role]
        }
        if name == BIG_TEAM:
            roles |= {demo[username]: role for username, role, _ in DEMO_USERS}
        for pk, role in roles.items():
            Membership.objects.update_or_create(team=team, user_id=pk, defaults={"role": role})
        wechat, _ = PlatformAccount.objects.get_or_create(
            team=team,
            name="WeChat third-party platform",
            # No secrets: they would be encrypted with this process's key, and a server started
            # with another SECRET_KEY (the benchmark's) could not read the rows back.
            defaults={"platform": Platform.WECHAT, "component_appid": f"wxscalecomponent{index:02d}"},
        )
        manual, _ = PlatformAccount.objects.get_or_create(
            team=team, name="Manual submissions", defaults={"platform": Platform.MANUAL}
        )
        developers = users[Role.DEVELOPER] + ([demo["dev"]] if name == BIG_TEAM else [])
        managers_ = users[Role.RELEASE_MANAGER] + ([demo["manager"]] if name == BIG_TEAM else [])
        admin = demo["admin"] if name == BIG_TEAM else users["admin"][0]
        usernames = dict(get_user_model().objects.filter(pk__in=list(roles)).values_list("pk", "username"))
        infos.append(TeamInfo(team, developers, managers_, admin, wechat, manual, usernames))
    return infos


def _app_counts(total: int) -> list[int]:
    """Apps per team: the small teams their share (at least one each when there are enough), the rest big."""
    counts = [0] * len(TEAMS)
    for index, (_name, share, *_rest) in enumerate(TEAMS):
        if share is not None and total >= 2 * len(TEAMS):
            counts[index] = max(1, round(total * share))
    counts[0] = total - sum(counts)
    return counts


def _apps(options: Options, teams: list[TeamInfo], start_us: int, rng: random.Random) -> list[App]:
    offset = App.objects.filter(appid__startswith=APPID_PREFIX).count()
    apps = []
    number = offset
    for info, count in zip(teams, _app_counts(options.apps), strict=True):
        for _ in range(count):
            number += 1
            wechat = rng.random() < WECHAT_SHARE
            name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {number:04d}"
            apps.append(
                App(
                    team=info.team,
                    platform_account=info.wechat if wechat else info.manual,
                    name=name,
                    appid=f"{APPID_PREFIX}{number:010d}",
                    privacy_policy_url=f"https://example.com/apps/{number}/privacy",
                    categories=[rng.choice(CATEGORIES)],
                    created_at=_dt(start_us - rng.randrange(1, 40) * 86_400 * 1_000_000),
                )
            )
    return App.objects.bulk_create(apps, batch_size=500)


def _dt(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def _us(moment: datetime) -> int:
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


# -- one release's story ---------------------------------------------------------------------


@dataclass
class Step:
    code: str
    gap_us: int
    actor: int | None
    arg: object = None
    tail: bool = False  # not squeezed into the release's window (an expiry days later)
    at: int = 0


class Story:
    """The steps of one release, as a real run through the services would record them.

    Built twice with the same random numbers: once to count the events (`confirms` unknown),
    once for real with the checklist confirmations the event target leaves room for.
    """

    def __init__(self, world: "World", rng: random.Random, app_index: int, confirms: int | None):
        self.world, self.rng, self.app_index = world, rng, app_index
        self.app = world.apps[app_index]
        self.info = world.team_of_app[app_index]
        self.wechat = self.app.platform_account_id == self.info.wechat.pk
        self.author = rng.choice(self.info.developers)
        self.confirms = confirms
        # Confirmation gaps draw from their own numbers, so that both builds of a story make the
        # same choices everywhere else (reasons, tasks...) and so the same number of events.
        self.confirm_rng = random.Random(rng.random())
        self.steps: list[Step] = []
        self.checks = 0
        self.state = S.DRAFT
        self.rejections: list[dict] = []  # {step, reason, items, categories, screenshots, audit_id}
        self.tasks: dict[str, dict] = {}
        self.submissions = 0
        self.in_flight_from = ""
        self.error = ("", "")

    # time helpers
    def _hours(self, low: float, high: float) -> int:
        return int(self.rng.uniform(low, high) * HOUR_US)

    def _seconds(self, low: float, high: float) -> int:
        return int(self.rng.uniform(low, high) * 1_000_000)

    def _manager(self) -> int:
        choices = [m for m in self.info.managers if m != self.author] or self.info.managers
        return self.rng.choice(choices)

    def add(self, code: str, gap_us: int, actor: int | None, arg=None, *, tail: bool = False) -> Step:
        step = Step(code, max(gap_us, 1_000), actor, arg, tail)
        self.steps.append(step)
        return step

    # the moves
    def create(self):
        self.add("create", 0, self.author)

    def check(self):
        if self.confirms:
            count = min(len(DEFAULT_CHECKLIST), self.confirms)
            for key in range(count):
                gap = int(self.confirm_rng.uniform(0.05, 1.5) * HOUR_US)
                self.add("checklist_confirm", gap, self.author, key)
            self.confirms -= count
        self.checks += 1
        self.add("check", self._hours(0.3, 6), self.author)
        self.state = S.CHECKED

    def approve(self):
        self.add("approve", self._hours(0.3, 6), self._manager(), self.rng.randrange(len(APPROVAL_COMMENTS)))

    def submit(self, *, fails: bool = False):
        self.in_flight_from = self.state
        self.add("submit", self._hours(0.2, 4), self._manager())
        if fails:
            self.error = SUBMIT_ERROR
            self.add("submit_failed", self._seconds(1, 8), None, self.error)
            self.state = S.SUBMIT_FAILED
            return
        self.submissions += 1
        audit_id = str(self.rng.randrange(400_000_000, 999_999_999)) if self.wechat else ""
        self.audit_id = audit_id
        self.add("submit_succeeded", self._seconds(1, 20), None, audit_id)
        self.state = S.SUBMITTED

    def _review_gap(self) -> int:
        if self.rng.random() < 0.05:
            return self._hours(72, 160)
        return self._hours(4, 60)

    def _decider(self) -> tuple[int | None, str]:
        if self.wechat:
            return None, "push" if self.rng.random() < 0.85 else "poll"
        return self._manager(), ""

    def approved(self):
        actor, source = self._decider()
        self.add("review_approved", self._review_gap(), actor, (source, self.audit_id))
        self.state = S.APPROVED

    def delayed(self):
        actor, source = self._decider()
        self.add("review_delayed", self._hours(24, 60), actor, (source, self.audit_id))

    def rejected(self):
        actor, source = self._decider()
        entries = self.world.pick_reasons(self.rng)
        reason = format_reasons(entries)
        items, categories = self.world.classified(reason)
        screenshots = [f"scale_media_{self.rng.randrange(16**8):08x}"] if self.wechat else []
        rejection = {
            "reason": reason,
            "items": items,
            "categories": categories,
            "screenshots": screenshots,
            "audit_id": self.audit_id,
            "wechat": self.wechat,
        }
        step = self.add("review_rejected", self._review_gap(), actor, (source, self.audit_id, rejection))
        rejection["step"] = step
        self.rejections.append(rejection)
        self.state = S.REJECTED
        created, reopened = self.world.plan(self.tasks, rejection)
        rejection["planned"] = self.add(
            "remediation_planned", self._seconds(1, 3), None, (rejection, created, reopened)
        )

    def remediate(self, *, complete: bool = True):
        """Mark the required open tasks done (all, or some when `complete` is False), and on WeChat
        sometimes the explanation to the reviewer."""
        open_required = [t for t in self.tasks.values() if t["required"] and not t["done"]]
        if not complete:
            open_required = open_required[: self.rng.randrange(len(open_required))] if open_required else []
        for task in open_required:
            self._done(task, self.rng.choice(DONE_NOTES))
        explain = self.tasks.get(EXPLAIN_KEY)
        if (
            complete
            and self.wechat
            and explain is not None
            and not explain["done"]
            and self.rng.random() < 0.5
        ):
            self._done(explain, self.rng.choice(EXPLAIN_NOTES))

    def _done(self, task: dict, note: str):
        task["done"] = True
        task["done_by"] = self.author
        task["note"] = note
        task["done_step"] = self.add(
            "remediation_done", self._hours(0.3, 8), self.author, (task["key"], note)
        )

    def publish(self, *, fails: bool = False):
        self.in_flight_from = self.state
        self.add("publish", self._hours(0.5, 12), self._manager())
        if fails:
            self.error = PUBLISH_ERROR
            self.add("publish_failed", self._seconds(1, 5), None, self.error)
            self.state = S.PUBLISH_FAILED
            return
        self.add("publish_succeeded", self._seconds(1, 5), None)
        self.state = S.PUBLISHED

    def rollback(self):
        self.in_flight_from = self.state
        self.add("rollback", self._hours(1, 48), self._manager())
        self.add("rollback_succeeded", self._seconds(1, 5), None)
        self.state = S.ROLLED_BACK

    def withdraw(self):
        self.in_flight_from = self.state
        self.add("withdraw", self._hours(2, 30), self._manager())
        self.add("withdraw_succeeded", self._seconds(1, 5), None)
        self.state = S.WITHDRAWN

    def cancel(self):
        self.add("cancel", self._hours(1, 72), self._manager(), self.state)
        self.state = S.CANCELLED

    def expire(self):
        days = settings.RESUBMISSION_WINDOW_DAYS
        self.add("expire", days * 24 * HOUR_US + self._hours(0, 2), None, tail=True)
        self.state = S.EXPIRED

    # whole stories
    def play(self, kind: str):
        self.create()
        if kind in ("draft", "cancelled_draft"):
            if kind == "cancelled_draft":
                self.cancel()
            return
        self.check()
        if kind == "checked":
            return
        if kind == "cancelled_checked":
            self.cancel()
            return
        self.approve()
        if kind == "checked_approved":
            return
        self.submit(fails=kind == "submit_failed")
        if kind in ("submit_failed", "submitted"):
            return
        if kind == "submitted_delayed":
            self.delayed()
            return
        if kind == "withdrawn":
            self.withdraw()
            return
        rounds = {"published_after_rejection": 1, "published_after_two_rejections": 2, "resubmitted": 1}
        for _ in range(rounds.get(kind, 0)):
            self.rejected()
            self.remediate()
            self.submit()
        if kind == "resubmitted":
            return
        if kind in ("rejected", "expired", "rejected_cancelled"):
            self.rejected()
            if kind == "rejected":
                self.remediate(complete=False)
            elif kind == "expired":
                self.expire()
            else:
                self.cancel()
            return
        self.approved()
        if kind == "approved":
            return
        if kind == "approved_cancelled":
            self.cancel()
            return
        self.publish(fails=kind == "publish_failed")
        if kind == "rolled_back":
            self.rollback()

    def timeline(self, created_us: int, deadline_us: int, now_us: int) -> None:
        """Give every step its time: from `created_us`, squeezed to end before `deadline_us`."""
        squeezed = sum(s.gap_us for s in self.steps if not s.tail)
        window = deadline_us - created_us
        factor = min(1.0, window * 0.98 / squeezed) if squeezed > 0 else 1.0
        at = created_us
        for step in self.steps:
            if step.code == "create":
                step.at = at
                continue
            gap = step.gap_us if step.tail else max(1_000, int(step.gap_us * factor))
            at = at + gap
            if step.tail and at > now_us - 60_000_000:
                at = max(self.steps[-2].at + 1_000, now_us - 60_000_000 - self.rng.randrange(3_600_000_000))
            step.at = at


# -- the world: ids, lookups and the rows to write -----------------------------------------


class World:
    def __init__(self, options: Options, teams: list[TeamInfo], apps: list[App], now_us: int):
        self.options = options
        self.teams = teams
        self.apps = apps
        self.now_us = now_us
        by_team = {info.team.pk: info for info in teams}
        self.team_of_app = [by_team[app.team_id] for app in apps]
        self.usernames = {pk: name for info in teams for pk, name in info.usernames.items()}
        self.catalogue = reason_catalogue()
        self._classified: dict[str, tuple[list, list]] = {}
        self.steps = {c.value: _steps(c.value) for c in RejectionCategory}
        self.checks = [(key, check) for key, check in REGISTRY.items()]

    def pick_reasons(self, rng: random.Random) -> list[dict]:
        count = 1 if rng.random() < 0.75 else 2
        return rng.sample(self.catalogue, count)

    def classified(self, reason: str) -> tuple[list, list]:
        if reason not in self._classified:
            items = classify_reason(reason)
            categories = list(dict.fromkeys(item["category"] for item in items)) or [OTHER]
            self._classified[reason] = (items, categories)
        return self._classified[reason]

    def plan(self, tasks: dict[str, dict], rejection: dict) -> tuple[list[str], list[str]]:
        """releases.remediation.plan_tasks on plain dicts: new keys created, done ones reopened."""
        created, reopened = [], []
        position = max((t["position"] for t in tasks.values()), default=0)
        for category in rejection["categories"]:
            version, steps = self.steps[category]
            for step in steps:
                task = tasks.get(step["key"])
                if task is None:
                    position += 1
                    tasks[step["key"]] = {
                        **step,
                        "category": category,
                        "position": position,
                        "version": version.pk if version is not None else None,
                        "rejection": rejection,
                        "done": False,
                        "done_by": None,
                        "note": "",
                        "done_step": None,
                        "created_step": None,
                    }
                    created.append(step["key"])
                elif task["rejection"] is not rejection and task["done"]:
                    task.update(rejection=rejection, done=False, done_by=None, note="", done_step=None)
                    reopened.append(step["key"])
        return created, reopened


def _kind(rng: random.Random, table: dict[str, int]) -> str:
    return rng.choices(list(table), weights=list(table.values()))[0]


def _release_plan(world: World, rng: random.Random, per_app: int, start_us: int):
    """(app index, release number, kind, created, deadline) for every release, in app order."""
    now_us = world.now_us
    spacing = (now_us - start_us) // per_app
    plan = []
    for app_index in range(len(world.apps)):
        previous = start_us
        for number in range(per_app):
            last = number == per_app - 1
            if last:
                kind = _kind(rng, LATEST)
                recent = min(spacing, 6 * 24 * HOUR_US)
                created = max(previous + HOUR_US, now_us - rng.randrange(HOUR_US, max(recent, 2 * HOUR_US)))
                deadline = now_us - 60_000_000
            else:
                kind = _kind(rng, HISTORY)
                if kind == "expired" and number > per_app - 4:
                    kind = "published"
                created = start_us + number * spacing + rng.randrange(max(1, spacing * 3 // 10))
                deadline = start_us + (number + 1) * spacing
            plan.append((app_index, number, kind, created, deadline))
            previous = created
    return plan


def _version(number: int) -> str:
    return f"{1 + number // 100}.{(number // 10) % 10}.{number % 10}"


# -- writing ---------------------------------------------------------------------------------

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False).translate(_COPY_ESCAPES)
    return str(value).translate(_COPY_ESCAPES)


class Writer:
    """Rows into one table: COPY on PostgreSQL, batched INSERTs elsewhere (SQLite, for small runs)."""

    BATCH = 50_000

    def __init__(self, model, columns: list[str]):
        self.model = model
        self.columns = columns
        self.fields = [model._meta.get_field(c) for c in columns]
        self.table = model._meta.db_table
        self.postgres = connection.vendor == "postgresql"
        self.buffer: list = []
        self.count = 0

    def add(self, row: tuple) -> None:
        self.buffer.append(row)
        if len(self.buffer) >= self.BATCH:
            self.flush()

    def add_line(self, line: str) -> None:
        """A row already in COPY's text format (the audit events, built in the hot loop)."""
        self.buffer.append(line)
        if len(self.buffer) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        quoted = ", ".join(connection.ops.quote_name(f.column) for f in self.fields)
        with connection.cursor() as cursor:
            if self.postgres:
                lines = (r if isinstance(r, str) else "\t".join(_text(v) for v in r) for r in self.buffer)
                data = io.StringIO("\n".join(lines) + "\n")
                cursor.cursor.copy_expert(f"COPY {self.table} ({quoted}) FROM STDIN", data)
            else:
                marks = ", ".join(["%s"] * len(self.fields))
                rows = [
                    [f.get_db_prep_save(v, connection) for f, v in zip(self.fields, r, strict=True)]
                    for r in self.buffer
                ]
                cursor.executemany(f"INSERT INTO {self.table} ({quoted}) VALUES ({marks})", rows)  # noqa: S608 -- our own names
        self.count += len(self.buffer)
        self.buffer = []


def _next_id(model) -> int:
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


class _Hashable:
    """The attributes releases.audit.event_mac reads, without building a model instance."""

    __slots__ = (
        "at", "actor_id", "actor_name", "action", "from_state", "to_state", "target_type",
        "target_id", "team_id", "app_id", "release_id", "data", "ip",
    )  # fmt: skip


# -- the run ---------------------------------------------------------------------------------


def already_seeded() -> bool:
    return App.objects.filter(appid__startswith=APPID_PREFIX).exists()


def seed_scale(options: Options, log: Callable[[str], None] = print) -> Result:
    """Generate the data set in one transaction; see the module docstring."""
    if min(options.apps, options.releases_per_app) < 1:
        raise ScaleError("Give at least one app and one release per app.")
    if already_seeded() and not options.force:
        raise ScaleError(
            "This database already holds generated scale data (apps whose appid starts with "
            f"{APPID_PREFIX!r}). Pass --force to add another set on top."
        )
    result = Result()
    clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        result.timings.append((name, now - clock))
        log(f"  {name}: {now - clock:.1f} s")
        clock = now

    with transaction.atomic():
        _lock_tables()
        rng = random.Random(options.seed)
        now_us = _us(timezone.now().replace(microsecond=0))
        start_us = now_us - YEAR_US
        seed_playbooks()
        demo = _ensure_demo_users()
        teams = _teams(demo)
        apps = _apps(options, teams, start_us, rng)
        result.apps = len(apps)
        world = World(options, teams, apps, now_us)
        lap(f"teams, users and {len(apps):,} apps")

        plan = _release_plan(world, rng, options.releases_per_app, start_us)
        app_events = 2 * len(teams) + len(apps)  # platform_account_create per account, app_create per app
        mandatory, checks = app_events, []
        for index, (app_index, _number, kind, _created, _deadline) in enumerate(plan):
            story = Story(world, random.Random(options.seed * 1_000_003 + index), app_index, None)
            story.play(kind)
            mandatory += len(story.steps)
            checks.append(story.checks)
        room = 5 * sum(checks)
        filler = options.events - mandatory
        if filler < 0:
            raise ScaleError(
                f"{len(plan):,} releases need at least {mandatory:,} audit events; "
                f"pass --events {mandatory} or more."
            )
        confirms = _confirms(plan, checks, min(filler, room))
        extra = max(0, filler - room)
        lap(f"planned {len(plan):,} releases ({mandatory:,} events by their stories, {filler:,} more)")

        rows = _Rows()
        events: list[tuple] = []
        # In creation order, so that ids grow with time as they do in a real database.
        for index in sorted(range(len(plan)), key=lambda i: plan[i][3]):
            app_index, number, kind, created, deadline = plan[index]
            story = Story(world, random.Random(options.seed * 1_000_003 + index), app_index, confirms[index])
            story.play(kind)
            story.timeline(created, deadline, now_us)
            rows.release(world, story, index, number)
            rel = rows.release_ids[index]
            for step in story.steps:
                events.append((step.at, rel, app_index, step.code, step.actor, step.arg))
        _app_level_events(world, rng, events, start_us, extra)
        lap(f"generated {len(events):,} events and the rows behind them")

        events.sort(key=itemgetter(0))
        lap("sorted the events by time")
        rows.write_releases(world)
        lap(f"wrote {len(plan):,} releases with their check runs, approvals and ticks")
        with _indexes_deferred(AuditEvent, len(events)):
            written = _write_events(world, rows, events)
        del events
        lap(f"wrote and hash-chained {written:,} audit events")
        rows.write_reviews(world)
        _quota(world, rows)
        lap(
            f"wrote {len(rows.rejections):,} rejections, {rows.tasks.count:,} remediation tasks, "
            "watches and quota snapshots"
        )
        _reset_sequences()
        result.releases = len(plan)
        result.events = written
        result.rejections = len(rows.rejections)
        result.tasks = rows.tasks.count
        result.approvals = rows.approvals.count
        result.check_runs = rows.check_runs.count
        result.checklist_ticks = rows.ticks.count
    if connection.vendor == "postgresql":
        # Fresh statistics for every table (apps and memberships too: with the old ones the planner
        # takes 1,700 apps for 10), and outside a transaction a VACUUM as well, which sets the
        # visibility map index-only scans need, as autovacuum would have done on a year-old table.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")
        lap("vacuumed and analyzed the database")
    return result


def _lock_tables() -> None:
    """No other writer may take ids or extend the audit chain while this runs (reads go on)."""
    AuditChainHead.objects.get_or_create(pk=1)
    AuditChainHead.objects.select_for_update().get(pk=1)
    if connection.vendor != "postgresql":
        return
    tables = [
        m._meta.db_table
        for m in (Release, AuditEvent, Approval, CheckRun, CheckResult, ChecklistTick)
        + (Rejection, RemediationTask, ReviewWatch)
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE")


def _confirms(plan: list, checks: list[int], total: int) -> list[int]:
    """Checklist confirmations per release: five per check for the newest releases first."""
    confirms = [0] * len(plan)
    order = sorted(range(len(plan)), key=lambda i: plan[i][3], reverse=True)
    for index in order:
        if total <= 0:
            break
        give = min(total, 5 * checks[index])
        confirms[index] = give
        total -= give
    return confirms


def _app_level_events(world: World, rng: random.Random, events: list, start_us: int, extra: int) -> None:
    """platform_account_create, app_create, and app_update for whatever the target still asks."""
    for info in world.teams:
        for account in (info.wechat, info.manual):
            events.append(
                (
                    start_us - 60 * 86_400 * 1_000_000,
                    None,
                    None,
                    "platform_account_create",
                    info.admin,
                    account,
                )
            )
    for app_index, app in enumerate(world.apps):
        info = world.team_of_app[app_index]
        events.append((_us(app.created_at), None, app_index, "app_create", info.admin, None))
    for number in range(extra):
        app_index = number % len(world.apps)
        info = world.team_of_app[app_index]
        at = start_us + rng.randrange(world.now_us - start_us)
        events.append((at, None, app_index, "app_update", rng.choice(info.managers), number))


class _Rows:
    """Every row but the events, with ids taken after the current last ones."""

    def __init__(self):
        self.release_ids: dict[int, int] = {}
        self.next = {
            m: _next_id(m) for m in (Release, Approval, CheckRun, CheckResult, ChecklistTick, Rejection)
        }
        self.next[RemediationTask] = _next_id(RemediationTask)
        self.releases = Writer(
            Release,
            [
                "id", "app", "version", "release_notes", "review_notes", "build_report", "author", "owner",
                "state", "revision", "in_flight_from", "last_error", "last_error_code", "platform_audit_id",
                "submitted_at", "decided_at", "rejection_reason", "review_delayed_at", "review_delay_reason",
                "state_changed_at", "created_at", "updated_at",
                "step_attempts", "step_claimed_by", "step_checkpoint",  # no step under way, no lease
            ],
        )  # fmt: skip
        self.approvals = Writer(
            Approval,
            ["id", "release", "approver", "revision", "capacity", "override", "comment", "created_at"],
        )
        self.check_runs = Writer(
            CheckRun,
            ["id", "release", "revision", "content_hash", "actor", "passed", "created_at", "finished_at"],
        )
        self.results = Writer(
            CheckResult, ["id", "run", "key", "title", "kind", "severity", "status", "message", "evidence"]
        )
        self.ticks = Writer(
            ChecklistTick,
            ["id", "release", "revision", "content_hash", "key", "label", "confirmed_by", "confirmed_at"],
        )
        self.tasks = Writer(
            RemediationTask,
            [
                "id", "release", "rejection", "playbook_version", "key", "category", "position", "title",
                "description", "required", "check_key", "evidence", "done", "done_by", "done_at", "note",
                "waived_by", "waived_at", "waive_reason", "created_at",
            ],
        )  # fmt: skip
        self.rejections: list[dict] = []
        self.pending: list[tuple[Story, int]] = []  # stories with rejections, for after the events
        self.watches: list[tuple] = []
        self.submissions_by_account: Counter = Counter()

    def _id(self, model) -> int:
        value = self.next[model]
        self.next[model] += 1
        return value

    def release(self, world: World, story: Story, index: int, number: int) -> None:
        rid = self._id(Release)
        self.release_ids[index] = rid
        app = story.app
        version = _version(number)
        steps = story.steps
        by_code: dict[str, Step] = {}
        for step in steps:
            by_code[step.code] = step  # the last of each
        state_steps = [s for s in steps if s.code not in ("checklist_confirm", "approve", "review_delayed")]
        state_steps = [s for s in state_steps if not s.code.startswith("remediation_")]
        submitted = by_code.get("submit_succeeded")
        decided = [s for s in steps if s.code in ("review_approved", "review_rejected")]
        decided_after = decided[-1] if decided and (not submitted or decided[-1].at > submitted.at) else None
        delay = by_code.get("review_delayed")
        rejection_reason = story.rejections[-1]["reason"] if story.rejections else ""
        build_report = {
            "packages": [{"name": "__FULL__", "size": 1_500_000 + (rid * 7919) % 2_500_000}],
            "first_screen_ms": 800 + (rid * 31) % 1200,
            "error_monitoring": "sentry",
        }
        create = steps[0]
        for step in steps:
            step.arg = (version, step.arg) if step.code == "create" else step.arg
        release_notes = f"Version {version}: fixes and improvements."
        review_notes = f"What changed in {version} is under 我的 > 更新. Test login: demo / 123456."
        content = SimpleNamespace(
            version=version, release_notes=release_notes, review_notes=review_notes, build_report=build_report
        )
        checked = content_hash(content)  # what its runs and ticks saw (one revision, never edited)
        self.releases.add(
            (
                rid, app.pk, version,
                release_notes,
                review_notes,
                build_report, story.author, None, story.state, 1, story.in_flight_from,
                story.error[1], story.error[0], getattr(story, "audit_id", "") if submitted else "",
                _dt(submitted.at) if submitted else None,
                _dt(decided_after.at) if decided_after else None,
                rejection_reason,
                _dt(delay.at) if delay else None,
                DELAY_REASON if delay else "",
                _dt(state_steps[-1].at), _dt(create.at), _dt(steps[-1].at),
                0, "", {},
            )
        )  # fmt: skip
        if submitted is not None:
            account = app.platform_account_id
            for step in steps:
                if step.code == "submit_succeeded" and _month(step.at) == _month(world.now_us):
                    self.submissions_by_account[account] += 1
        checklist = DEFAULT_CHECKLIST
        latest_run = None
        for step in steps:
            if step.code == "checklist_confirm":
                key, label = checklist[step.arg]
                self.ticks.add(
                    (self._id(ChecklistTick), rid, 1, checked, key, label, step.actor, _dt(step.at))
                )
            elif step.code == "check":
                run = self._id(CheckRun)
                latest_run = run
                step.arg = run
                started = _dt(step.at - 2_000_000)
                self.check_runs.add((run, rid, 1, checked, step.actor, True, started, _dt(step.at)))
            elif step.code == "approve":
                comment = APPROVAL_COMMENTS[step.arg]
                step.arg = comment
                self.approvals.add(
                    (
                        self._id(Approval),
                        rid,
                        step.actor,
                        1,
                        Capacity.RELEASE_MANAGER,
                        False,
                        comment,
                        _dt(step.at),
                    )
                )
        if latest_run is not None and number == world.options.releases_per_app - 1:
            platform = "wechat" if story.wechat else "manual"
            for key, check in world.checks:
                if platform in check.platforms:
                    self.results.add(
                        (
                            self._id(CheckResult),
                            latest_run,
                            key,
                            check.title,
                            "auto",
                            check.severity,
                            "passed",
                            "",
                            {},
                        )
                    )
        for rejection in story.rejections:
            rejection["id"] = self._id(Rejection)
            rejection["release"] = rid
            rejection["app"] = app.pk
        if story.rejections:
            self.pending.append((story, rid))
        if story.state == S.SUBMITTED and story.wechat:
            polls = 1 + (world.now_us - submitted.at) // (2 * HOUR_US)
            self.watches.append((rid, story.audit_id, polls, submitted.at))

    def write_releases(self, world: World) -> None:
        for writer in (self.releases, self.check_runs, self.results, self.approvals, self.ticks):
            writer.flush()

    def write_reviews(self, world: World) -> None:
        rejections = Writer(
            Rejection,
            ["id", "release", "app_id", "audit_event_id", "audit_id", "reason", "items", "categories"]
            + ["screenshots", "at", "created_at"],
        )
        unclassified: dict[str, list] = {}
        for story, rid in self.pending:
            for rejection in story.rejections:
                # releases.remediation takes WeChat's own time (platform_at, whole seconds) when given.
                at_us = rejection["step"].at
                at = _dt(at_us - at_us % 1_000_000 if rejection["wechat"] else at_us)
                self.rejections.append(rejection)
                rejections.add(
                    (
                        rejection["id"], rid, rejection["app"], rejection["event_id"], rejection["audit_id"],
                        rejection["reason"], rejection["items"], rejection["categories"],
                        rejection["screenshots"], at, _dt(rejection["planned"].at),
                    )
                )  # fmt: skip
                for item in rejection["items"]:
                    if item["category"] == OTHER:
                        entry = unclassified.setdefault(item["text"], [0, at, at, rid])
                        entry[0] += 1
                        entry[2], entry[3] = max(entry[2], at), rid
            for task in story.tasks.values():
                done = task["done_step"]
                created = task["rejection"]["planned"]
                self.tasks.add(
                    (
                        self._id(RemediationTask), rid, task["rejection"]["id"], task["version"], task["key"],
                        task["category"], task["position"], task["title"], task["description"],
                        task["required"], task["check_key"], task["evidence"], task["done"],
                        task["done_by"], _dt(done.at) if done else None, task["note"], None, None, "",
                        _dt(created.at),
                    )
                )  # fmt: skip
        rejections.flush()
        self.tasks.flush()
        for text, (count, first, last, rid) in unclassified.items():
            key = hashlib.sha256(normalise(text).encode()).hexdigest()
            row, created = UnclassifiedReason.objects.get_or_create(
                key=key, defaults={"text": text, "first_seen_at": first, "last_seen_at": last}
            )
            row.count += count
            row.last_seen_at = max(row.last_seen_at, last)
            row.last_release_id = rid
            row.save()
        ReviewWatch.objects.bulk_create(
            [
                ReviewWatch(
                    release_id=rid,
                    audit_id=audit_id,
                    polls=polls,
                    next_poll_at=_dt(world.now_us + 600_000_000 + (rid % 3_000) * 1_000_000),
                    last_polled_at=_dt(world.now_us - (rid % 3_000) * 1_000_000),
                    last_status=2,
                    active=True,
                )
                for rid, audit_id, polls, _ in self.watches
            ],
            batch_size=1_000,
        )


def _month(us: int) -> tuple[int, int]:
    moment = _dt(us).astimezone(SHANGHAI)
    return moment.year, moment.month


def _quota(world: World, rows: _Rows) -> None:
    """A quota snapshot per WeChat account that has none, counting this month's submissions."""
    now = _dt(world.now_us)
    for info in world.teams:
        account = info.wechat
        used = rows.submissions_by_account[account.pk]
        limit = max(100, -(-used * 3 // 200) * 100)
        QuotaSnapshot.objects.get_or_create(
            account=account,
            defaults={
                "rest": max(0, limit - used),
                "limit": limit,
                "speedup_rest": 10,
                "speedup_limit": 10,
                "refreshed_at": now - timedelta(minutes=5),
            },
        )


# -- the audit events --------------------------------------------------------------------------


def _platform_at(us: int) -> str:
    return _dt(us - us % 1_000_000).astimezone(SHANGHAI).isoformat()


def _data(code: str, arg, at_us: int) -> dict:
    if code == "create":
        return {"version": arg[0]}
    if code == "checklist_confirm":
        key, label = DEFAULT_CHECKLIST[arg]
        return {"key": key, "label": label, "revision": 1}
    if code == "check":
        return {"check_run": arg}
    if code == "approve":
        return {"revision": 1, "comment": arg}
    if code == "submit":
        return {"revision": 1}
    if code == "submit_succeeded":
        return {"audit_id": arg}
    if code in ("submit_failed", "publish_failed"):
        return {"code": arg[0], "message": arg[1]}
    if code in ("review_approved", "review_rejected", "review_delayed"):
        source, audit_id = arg[0], arg[1]
        data = {}
        if source:
            screenshots = arg[2]["screenshots"] if code == "review_rejected" else []
            data = {"source": source, "screenshots": screenshots, "audit_id": audit_id}
            if code != "review_delayed":
                data["platform_at"] = _platform_at(at_us)
        if code == "review_rejected":
            data["reason"] = arg[2]["reason"]
        elif code == "review_delayed":
            data["reason"] = DELAY_REASON
        return data
    if code == "remediation_planned":
        rejection, created, reopened = arg
        return {
            "rejection": rejection["id"],
            "categories": rejection["categories"],
            "created": created,
            "reopened": reopened,
        }
    if code == "remediation_done":
        return {"key": arg[0], "note": arg[1]}
    if code == "expire":
        return {"decided_at": None}  # replaced by the caller with the rejection's time
    return {}


def _write_events(world: World, rows: _Rows, events: list[tuple]) -> int:
    """Number, hash-chain and COPY the events (sorted by time); link them to the chain head."""
    writer = Writer(
        AuditEvent,
        [
            "id", "at", "actor_id", "actor_name", "action", "from_state", "to_state", "target_type",
            "target_id", "team_id", "app_id", "release_id", "data", "ip", "prev_hash", "hash", "key_id",
        ],
    )  # fmt: skip
    head = AuditChainHead.objects.select_for_update().get(pk=1)
    key = signing_key()
    prev = head.last_hash
    next_id = _next_id(AuditEvent)
    first_id = next_id
    usernames = world.usernames
    apps = world.apps
    decided_at: dict[int, int] = {}
    state_of: dict[int, str] = {}
    escape = _COPY_ESCAPES
    ev = _Hashable()
    ev.ip = None
    for at_us, release_id, app_index, code, actor, arg in events:
        at = _dt(at_us)
        if code in ("platform_account_create", "app_create", "app_update"):
            team_id, app_id = (
                (arg.team_id, None)
                if code == "platform_account_create"
                else (apps[app_index].team_id, apps[app_index].pk)
            )
            from_state = to_state = ""
            if code == "platform_account_create":
                target_type, target_id = "platformaccount", arg.pk
                data = {"name": arg.name, "platform": arg.platform}
            elif code == "app_create":
                target_type, target_id = "app", app_id
                data = {"name": apps[app_index].name, "appid": apps[app_index].appid}
            else:
                target_type, target_id = "app", app_id
                data = {
                    "before": {"privacy_policy_url": f"https://example.com/apps/{app_id}/privacy"},
                    "after": {"privacy_policy_url": f"https://example.com/apps/{app_id}/privacy?v={arg}"},
                }
            action = code
        else:
            app = apps[app_index]
            team_id, app_id = app.team_id, app.pk
            target_type, target_id = "release", release_id
            action = code
            from_state, to_state = ACTIONS[code]
            current = state_of.get(release_id, "")
            if from_state is None:
                from_state = current
            if code in ("remediation_planned", "remediation_done"):
                from_state = to_state = ""
            elif code == "cancel":
                from_state = current
            else:
                state_of[release_id] = to_state
            data = _data(code, arg, at_us)
            if code in ("review_approved", "review_rejected"):
                decided_at[release_id] = at_us
            if code == "expire":
                data = {"decided_at": _django_json_datetime(_dt(decided_at[release_id]))}
            if code == "review_rejected":
                arg[2]["event_id"] = next_id
        ev.at = at
        ev.actor_id = actor
        ev.actor_name = usernames.get(actor, "") if actor is not None else ""
        ev.action = action
        ev.from_state = str(from_state)
        ev.to_state = str(to_state)
        ev.target_type = target_type
        ev.target_id = target_id
        ev.team_id = team_id
        ev.app_id = app_id
        ev.release_id = release_id
        ev.data = data
        ip = (
            f"10.{20 + team_id % 200}.{actor % 250}.{(at_us // 1_000_000) % 250 + 1}"
            if actor is not None and action in HUMAN
            else None
        )
        ev.ip = ip
        digest = event_mac(ev, prev, key)
        if not writer.postgres:
            writer.add(
                (next_id, at, actor, ev.actor_name, action, ev.from_state, ev.to_state, target_type)
                + (target_id, team_id, app_id, release_id, data, ip, prev, digest, key.id)
            )
            prev = digest
            next_id += 1
            continue
        writer.add_line(
            "\t".join(
                (
                    str(next_id), at.isoformat(), "\\N" if actor is None else str(actor),
                    ev.actor_name.translate(escape), action, ev.from_state, ev.to_state, target_type,
                    _text(target_id), _text(team_id), _text(app_id), _text(release_id),
                    json.dumps(data, ensure_ascii=False).translate(escape), _text(ip), prev, digest, key.id,
                )
            )
        )  # fmt: skip
        prev = digest
        next_id += 1
    writer.flush()
    count = next_id - first_id
    if count:  # the head only moves forward (a trigger refuses an update that does not add events)
        AuditChainHead.objects.filter(pk=1).update(**head_values(head.count + count, prev, key))
    return count


@contextmanager
def _indexes_deferred(model, rows: int):
    """Load a big batch without maintaining the table's secondary indexes, then build them once.

    PostgreSQL only, from 100,000 rows: the unique constraints (the audit hash) and plain indexes
    are dropped and recreated from their own definitions (pg_get_*def) inside the transaction, so
    a failure restores them; the table is locked against readers meanwhile.
    """
    if connection.vendor != "postgresql" or rows < 100_000:
        yield
        return
    table = model._meta.db_table
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'u'",
            [table],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = %s::regclass AND NOT x.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
            [table],
        )
        indexes = cursor.fetchall()
        for name, _ in constraints:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for name, definition in constraints:
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
        for _, definition in indexes:
            cursor.execute(definition)


def _django_json_datetime(moment: datetime) -> str:
    from django.core.serializers.json import DjangoJSONEncoder

    return json.loads(json.dumps(moment, cls=DjangoJSONEncoder))


def _reset_sequences() -> None:
    models = [Release, AuditEvent, Approval, CheckRun, CheckResult, ChecklistTick, Rejection]
    models += [RemediationTask, ReviewWatch]
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def summary(result: Result) -> Iterable[str]:
    yield (
        f"Generated {result.apps:,} apps, {result.releases:,} releases, {result.events:,} audit events, "
        f"{result.rejections:,} rejections, {result.tasks:,} remediation tasks, "
        f"{result.approvals:,} approvals, "
        f"{result.check_runs:,} check runs, {result.checklist_ticks:,} checklist ticks."
    )
    yield f"Total {sum(t for _, t in result.timings):.1f} s."
