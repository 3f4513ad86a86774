"""One release's story, step by step, as a real run through the services would record it; and the
plan of every release (which story, when) over the year."""

import random
from dataclasses import dataclass

from django.conf import settings

from bench.scale.clock import HOUR_US
from bench.scale.shape import (
    APPROVAL_COMMENTS,
    DONE_NOTES,
    EXPLAIN_NOTES,
    HISTORY,
    LATEST,
    PUBLISH_ERROR,
    SUBMIT_ERROR,
    S,
)
from bench.scale.world import World
from releases.models import DEFAULT_CHECKLIST
from releases.remediation import EXPLAIN_KEY
from simulator.services import format_reasons


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


def _kind(rng: random.Random, table: dict[str, int]) -> str:
    return rng.choices(list(table), weights=list(table.values()))[0]


def release_plan(world: World, rng: random.Random, per_app: int, start_us: int):
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


def version_name(number: int) -> str:
    return f"{1 + number // 100}.{(number // 10) % 10}.{number % 10}"
