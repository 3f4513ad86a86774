"""The run: one transaction that locks the tables, plans the releases, generates the stories, writes
and chains everything, then analyzes the database."""

import random
import time
from collections.abc import Callable, Iterable
from operator import itemgetter

from django.db import connection, transaction
from django.utils import timezone

from bench.scale.audit_chain import app_level_events, write_events
from bench.scale.clock import YEAR_US, micros
from bench.scale.rows import Rows, write_quotas
from bench.scale.shape import APPID_PREFIX, Options, Result, ScaleError
from bench.scale.stories import Story, release_plan
from bench.scale.tables import indexes_deferred, reset_sequences
from bench.scale.world import World, ensure_demo_users, make_apps, make_teams
from releases.models import (
    App,
    Approval,
    AuditChainHead,
    AuditEvent,
    ChecklistTick,
    CheckResult,
    CheckRun,
    Rejection,
    Release,
    RemediationTask,
)
from releases.playbooks.seed import seed_playbooks
from reviews.models import ReviewWatch


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
        now_us = micros(timezone.now().replace(microsecond=0))
        start_us = now_us - YEAR_US
        seed_playbooks()
        demo = ensure_demo_users()
        teams = make_teams(demo)
        apps = make_apps(options, teams, start_us, rng)
        result.apps = len(apps)
        world = World(options, teams, apps, now_us)
        lap(f"teams, users and {len(apps):,} apps")

        plan = release_plan(world, rng, options.releases_per_app, start_us)
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

        rows = Rows()
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
        app_level_events(world, rng, events, start_us, extra)
        lap(f"generated {len(events):,} events and the rows behind them")

        events.sort(key=itemgetter(0))
        lap("sorted the events by time")
        rows.write_releases(world)
        lap(f"wrote {len(plan):,} releases with their check runs, approvals and ticks")
        with indexes_deferred(AuditEvent, len(events)):
            written = write_events(world, rows, events)
        del events
        lap(f"wrote and hash-chained {written:,} audit events")
        rows.write_reviews(world)
        write_quotas(world, rows)
        lap(
            f"wrote {len(rows.rejections):,} rejections, {rows.tasks.count:,} remediation tasks, "
            "watches and quota snapshots"
        )
        reset_sequences()
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


def summary(result: Result) -> Iterable[str]:
    yield (
        f"Generated {result.apps:,} apps, {result.releases:,} releases, {result.events:,} audit events, "
        f"{result.rejections:,} rejections, {result.tasks:,} remediation tasks, "
        f"{result.approvals:,} approvals, "
        f"{result.check_runs:,} check runs, {result.checklist_ticks:,} checklist ticks."
    )
    yield f"Total {sum(t for _, t in result.timings):.1f} s."
