"""Every row but the audit events: releases with their check runs, approvals and checklist ticks;
rejections, remediation tasks, review watches, unclassified reasons and quota snapshots."""

import hashlib
from collections import Counter
from datetime import timedelta
from types import SimpleNamespace

from bench.scale.clock import (
    HOUR_US,
    dt,
    month_of,
)
from bench.scale.shape import APPROVAL_COMMENTS, DELAY_REASON, S
from bench.scale.stories import Step, Story, version_name
from bench.scale.tables import (
    Writer,
    first_free_id,
)
from bench.scale.world import World
from releases.fingerprint import content_hash
from releases.models import (
    DEFAULT_CHECKLIST,
    Approval,
    Capacity,
    ChecklistTick,
    CheckResult,
    CheckRun,
    QuotaSnapshot,
    Rejection,
    Release,
    RemediationTask,
    UnclassifiedReason,
)
from reviews.models import ReviewWatch
from reviews.rejections import OTHER, normalise


class Rows:
    """Every row but the events, with ids taken after the current last ones."""

    def __init__(self):
        self.release_ids: dict[int, int] = {}
        self.next = {
            m: first_free_id(m) for m in (Release, Approval, CheckRun, CheckResult, ChecklistTick, Rejection)
        }
        self.next[RemediationTask] = first_free_id(RemediationTask)
        self.releases = Writer(
            Release,
            [
                "id", "app", "version", "release_notes", "review_notes", "build_report", "author", "owner",
                "state", "revision", "in_flight_from", "last_error", "last_error_code", "platform_audit_id",
                "submitted_at", "decided_at", "rejection_reason", "review_delayed_at", "review_delay_reason",
                "state_changed_at", "created_at", "updated_at",
                "step_attempts", "step_claimed_by", "step_checkpoint",  # no step under way, no lease
                "rollout",  # no phased release
                "build_commit", "build_branch", "build_ci_url",  # typed in, not posted by CI
                "template_id", "ext_json",  # uploaded outside Sluice, no template
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
        version = version_name(number)
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
                dt(submitted.at) if submitted else None,
                dt(decided_after.at) if decided_after else None,
                rejection_reason,
                dt(delay.at) if delay else None,
                DELAY_REASON if delay else "",
                dt(state_steps[-1].at), dt(create.at), dt(steps[-1].at),
                0, "", {},
                {},
                "", "", "",
                "", {},
            )
        )  # fmt: skip
        if submitted is not None:
            account = app.platform_account_id
            for step in steps:
                if step.code == "submit_succeeded" and month_of(step.at) == month_of(world.now_us):
                    self.submissions_by_account[account] += 1
        checklist = DEFAULT_CHECKLIST
        latest_run = None
        for step in steps:
            if step.code == "checklist_confirm":
                key, label = checklist[step.arg]
                self.ticks.add(
                    (self._id(ChecklistTick), rid, 1, checked, key, label, step.actor, dt(step.at))
                )
            elif step.code == "check":
                run = self._id(CheckRun)
                latest_run = run
                step.arg = run
                started = dt(step.at - 2_000_000)
                self.check_runs.add((run, rid, 1, checked, step.actor, True, started, dt(step.at)))
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
                        dt(step.at),
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
                at = dt(at_us - at_us % 1_000_000 if rejection["wechat"] else at_us)
                self.rejections.append(rejection)
                rejections.add(
                    (
                        rejection["id"], rid, rejection["app"], rejection["event_id"], rejection["audit_id"],
                        rejection["reason"], rejection["items"], rejection["categories"],
                        rejection["screenshots"], at, dt(rejection["planned"].at),
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
                        task["done_by"], dt(done.at) if done else None, task["note"], None, None, "",
                        dt(created.at),
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
                    next_poll_at=dt(world.now_us + 600_000_000 + (rid % 3_000) * 1_000_000),
                    last_polled_at=dt(world.now_us - (rid % 3_000) * 1_000_000),
                    last_status=2,
                    active=True,
                )
                for rid, audit_id, polls, _ in self.watches
            ],
            batch_size=1_000,
        )


def write_quotas(world: World, rows: Rows) -> None:
    """A quota snapshot per WeChat account that has none, counting this month's submissions."""
    now = dt(world.now_us)
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
