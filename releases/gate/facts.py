"""What the gate rules read, loaded for one release or for many in the same number of queries.

A `Batch` holds releases (one for a guard or a release page, hundreds for the overview). Each
kind of fact (the latest check run, the ticks, the approvals...) is read for every release of
the batch the first time any rule asks for it, in one query, and kept for the batch's life. So a
rule is one Python function of `Facts` whatever the number of releases it judges: the guard, the
button, the API's 409 and the overview's counts cannot disagree, because they run the same code
on the same facts. A batch is a snapshot: services build a fresh one under their row lock; a
page builds one per request (releases.memo).
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import F, Func, OuterRef, Subquery
from django.utils import timezone

from releases import fingerprint
from releases.approvals import EDIT_ACTION
from releases.limits import clock
from releases.memo import memoized
from releases.models import (
    IN_REVIEW,
    App,
    Approval,
    AuditEvent,
    ChecklistTick,
    CheckResult,
    CheckRun,
    Qualification,
    Release,
    RemediationTask,
)

ATTACHED = "_gate_facts"
# The newest first: what "the latest check run" means everywhere.
LATEST_RUN = ("-created_at", "-pk")


def checklist_of(app: App) -> list[dict]:
    """The app's manual checklist items that can be ticked (those with a key), in order."""
    return [item for item in app.checklist or [] if isinstance(item, dict) and item.get("key")]


def latest_check_runs(release_ids: Iterable[int], *, results: bool = False) -> dict[int, CheckRun]:
    """{release id: its newest check run}, one query (two with `results`). Each run carries
    `blocking` (its failed blocking results), `actor_name`, and with `results` its
    `result_list` in run order."""
    ids = list(release_ids)
    if not ids:
        return {}
    newest = CheckRun.objects.filter(release=OuterRef("pk")).order_by(*LATEST_RUN).values("pk")[:1]
    wanted = Release.objects.filter(pk__any_of=ids).annotate(run=Subquery(newest)).values("run")
    blocking = (
        CheckResult.objects.filter(run=OuterRef("pk"), severity="error", status__in=["failed", "error"])
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT"))  # no GROUP BY: one row, 0 when there is none
        .values("n")
    )
    username = f"actor__{get_user_model().USERNAME_FIELD}"
    runs = list(
        CheckRun.objects.filter(pk__in=wanted)
        .annotate(blocking=Subquery(blocking), actor_name=F(username))
        .order_by()
    )
    if results:
        by_run = defaultdict(list)
        for result in CheckResult.objects.filter(run__in=runs).order_by("id"):
            by_run[result.run_id].append(result)
        for run in runs:
            run.result_list = by_run[run.pk]
    return {run.release_id: run for run in runs}


def _in_review(app_ids) -> dict[int, list[tuple[int, str, str]]]:
    """{app id: (pk, version, state) of its releases the platform holds, newest first}."""
    rows = (
        Release.objects.filter(app_id__any_of=app_ids, state__in=IN_REVIEW)
        .order_by("-created_at", "-pk")
        .values_list("app_id", "pk", "version", "state")
    )
    found = defaultdict(list)
    for app_id, *row in rows:
        found[app_id].append(tuple(row))
    return found


def releases_in_review(app_id: int) -> list[tuple[int, str, str]]:
    """(pk, version, state) of the app's releases the platform holds (one at a time, unless
    something went wrong), newest first; once per read scope."""
    return memoized(("releases_in_review", app_id), lambda: _in_review([app_id]).get(app_id, []))


class Batch:
    """Facts about some releases, each kind read for all of them on first use."""

    def __init__(self, releases: Iterable[Release], now: datetime | None = None, *, attach: bool = False):
        """`attach`: make these facts what facts_for() answers for these instances (the permission
        functions and the limits ask it too), until an instance is read again
        (Release.refresh_from_db drops them): for a read that judges many releases at once."""
        self.releases = {release.pk: release for release in releases}
        self.now = clock.now_or(now)
        self._kinds: dict[str, dict] = {}
        if attach:
            for release in self.releases.values():
                release.__dict__[ATTACHED] = Facts(self, release)

    def of(self, release: Release) -> "Facts":
        return Facts(self, self.releases.get(release.pk, release))

    def __iter__(self):
        return (Facts(self, release) for release in self.releases.values())

    def kind(self, name: str) -> dict:
        if name not in self._kinds:
            self._kinds[name] = getattr(self, f"_load_{name}")()
        return self._kinds[name]

    # -- loaders: one query each, for every release (or app) of the batch --

    def _app_ids(self) -> set[int]:
        return {release.app_id for release in self.releases.values()}

    def _load_content(self) -> dict[int, str]:
        deferred = [
            r.pk for r in self.releases.values() if r.get_deferred_fields() & set(fingerprint.HASHED_FIELDS)
        ]
        loaded = {}
        if deferred:
            for row in Release.objects.filter(pk__any_of=deferred).values("pk", *fingerprint.HASHED_FIELDS):
                loaded[row["pk"]] = fingerprint.content_hash(_Values(row))
        return {pk: loaded.get(pk) or fingerprint.content_hash(r) for pk, r in self.releases.items()}

    def _load_check_runs(self) -> dict[int, CheckRun]:
        if len(self.releases) == 1:  # a page's release: the run it shows (once per read scope)
            from releases.selectors import latest_check_run

            (release,) = self.releases.values()
            return {release.pk: latest_check_run(release)}
        return latest_check_runs(self.releases)

    def _load_ticks(self) -> dict[int, dict[str, ChecklistTick]]:
        ticks = (
            ChecklistTick.objects.filter(
                release_id__any_of=list(self.releases), revision=F("release__revision")
            )
            .select_related("confirmed_by")
            .order_by("confirmed_at", "pk")
        )
        hashes = self.kind("content")
        found: dict[int, dict[str, ChecklistTick]] = defaultdict(dict)
        for tick in ticks:
            if tick.content_hash == hashes[tick.release_id]:
                found[tick.release_id].setdefault(tick.key, tick)
        return found

    def _load_approvals(self) -> dict[int, list[Approval]]:
        rows = Approval.objects.filter(
            release_id__any_of=list(self.releases), revision=F("release__revision")
        ).order_by("created_at", "pk")
        if len(self.releases) == 1:  # a page lists them, with their approvers
            rows = rows.select_related("approver")
        else:  # the rules read only these
            rows = rows.only("release_id", "approver_id", "revision", "capacity", "override", "created_at")
        found = defaultdict(list)
        for approval in rows:
            found[approval.release_id].append(approval)
        return found

    def _load_writers(self) -> dict[int, set[int]]:
        """Everyone who wrote each release's content: its author and whoever edited any revision,
        read from the audit trail, where every edit is an `edit` event written in its own
        transaction (one record, which also covers edits made before the four-eyes rule)."""
        found = {pk: {release.author_id} for pk, release in self.releases.items()}
        edits = (
            AuditEvent.objects.filter(release_id__any_of=list(self.releases), action=EDIT_ACTION)
            .exclude(actor_id=None)
            .values_list("release_id", "actor_id")
            .distinct()
        )
        for release_id, actor_id in edits:
            found[release_id].add(actor_id)
        return found

    def _load_in_review(self) -> dict[int, list[tuple[int, str, str]]]:
        app_ids = self._app_ids()
        if len(app_ids) == 1:  # a page's app: what its limits panel reads too (once per read scope)
            (app_id,) = app_ids
            return {app_id: releases_in_review(app_id)}
        return _in_review(app_ids)

    def _load_open_tasks(self) -> dict[int, list[str]]:
        """{release id: titles of its required remediation tasks neither done nor waived}."""
        rows = (
            RemediationTask.objects.filter(
                release_id__any_of=list(self.releases), required=True, done=False, waived_at=None
            )
            .order_by("position", "pk")
            .values_list("release_id", "title")
        )
        found = defaultdict(list)
        for release_id, title in rows:
            found[release_id].append(title)
        return found

    def _load_qualifications(self) -> dict[int, list[dict]]:
        """{app id: its qualification problems at submission, honouring a suppression}."""
        from releases.checks.qualifications import submit_problems

        by_app = defaultdict(list)
        for qualification in Qualification.objects.filter(app_id__any_of=self._app_ids()):
            by_app[qualification.app_id].append(qualification)
        today = timezone.localdate(self.now)
        apps = {release.app_id: release.app for release in self.releases.values()}
        return {app_id: submit_problems(app, today, by_app[app_id]) for app_id, app in apps.items()}

    def _load_streaks(self) -> dict:
        """{app id: its same-reason streak} (releases.limits.counts, as for one app), for the apps
        rejected within the lock's length: no other app can be locked now, so the rest (most of a
        large batch) get no streak and cost no read of their rejection history."""
        from datetime import timedelta

        from releases.limits.counts import lock_hours, rejection_streaks
        from releases.limits.rules import rejection_streak
        from releases.models import Rejection

        if len(self.releases) == 1:  # a page's release: the streak its limits panel shows too
            (release,) = self.releases.values()
            return {release.app_id: rejection_streak(release.app)}
        since = self.now - timedelta(hours=lock_hours())
        recent = Rejection.objects.filter(app_id__any_of=self._app_ids(), at__gt=since)
        return rejection_streaks(recent.values_list("app_id", flat=True))

    def _load_published(self) -> dict[int, str]:
        """{app id: the version of its newest published release} (one query, a subquery per app,
        which SQLite runs too): a release at or below it can never ship (rule `superseded`)."""
        from releases.models import EVER_PUBLISHED

        newest = (
            Release.objects.filter(app=OuterRef("pk"), state__in=EVER_PUBLISHED)
            .order_by("-created_at", "-pk")
            .values("version")[:1]
        )
        rows = App.objects.filter(pk__any_of=list(self._app_ids())).annotate(v=Subquery(newest))
        return {pk: version for pk, version in rows.values_list("pk", "v") if version}

    def _load_budgets(self) -> dict:
        """{account id: its review and speed-up budgets} (releases.limits.quota, as for one).

        Only an account whose quota was ever read from the platform has a limit, so only such an
        account can refuse a submission: the others (manual accounts, hundreds of apps each) get
        an unknown budget without counting their month's submissions."""
        from releases.limits import clock
        from releases.limits.quota import AccountBudgets, Budget, account_budgets
        from releases.models import QuotaSnapshot

        accounts = {r.app.platform_account_id: r.app.platform_account for r in self.releases.values()}
        known = set(
            QuotaSnapshot.objects.filter(account_id__any_of=accounts).values_list("account_id", flat=True)
        )
        unknown = Budget(0, None, clock.next_month_start(self.now))
        found = {account_id: AccountBudgets(unknown, unknown) for account_id in accounts}
        return found | account_budgets([accounts[a] for a in known], self.now)


class _Values:
    def __init__(self, row: dict):
        self.__dict__.update(row)


class Facts:
    """The gate's view of one release of a batch."""

    __slots__ = ("batch", "release")

    def __init__(self, batch: Batch, release: Release):
        self.batch, self.release = batch, release

    @property
    def now(self) -> datetime:
        return self.batch.now

    @property
    def content_hash(self) -> str:
        return self.batch.kind("content")[self.release.pk]

    @property
    def check_run(self) -> CheckRun | None:
        return self.batch.kind("check_runs").get(self.release.pk)

    @property
    def ticks(self) -> dict[str, ChecklistTick]:
        """{key: tick} of this revision and exactly this content."""
        return self.batch.kind("ticks").get(self.release.pk, {})

    @property
    def unticked(self) -> list[dict]:
        ticked = self.ticks
        return [item for item in checklist_of(self.release.app) if item["key"] not in ticked]

    @property
    def approvals(self) -> list[Approval]:
        """The approvals of the current revision, oldest first."""
        return self.batch.kind("approvals").get(self.release.pk, [])

    @property
    def writers(self) -> set[int]:
        return self.batch.kind("writers")[self.release.pk]

    @property
    def others_in_review(self) -> list[tuple[int, str, str]]:
        rows = self.batch.kind("in_review").get(self.release.app_id, [])
        return [row for row in rows if row[0] != self.release.pk]

    @property
    def open_tasks(self) -> list[str]:
        return self.batch.kind("open_tasks").get(self.release.pk, [])

    @property
    def qualification_problems(self) -> list[dict]:
        return self.batch.kind("qualifications")[self.release.app_id]

    @property
    def streak(self):
        """The streak that can lock the app now (see Batch._load_streaks): for the lock's refusal."""
        from releases.limits.counts import NO_STREAK

        return self.batch.kind("streaks").get(self.release.app_id, NO_STREAK)

    @property
    def published_version(self) -> str | None:
        """The app's newest published version (None: nothing published yet)."""
        return self.batch.kind("published").get(self.release.app_id)

    @property
    def review_budget(self):
        return self.batch.kind("budgets")[self.release.app.platform_account_id].review


def facts_for(release: Release, now: datetime | None = None) -> Facts:
    """The facts of one release: those of the batch it was judged in (the overview), else once
    per read scope (a page, an API answer), else afresh (a service, under its row lock)."""
    attached = release.__dict__.get(ATTACHED)
    if attached is not None and now is None:
        return attached
    key = ("gate_facts", release.pk, release.revision, release.state)
    return memoized(key, lambda: Batch([release], now).of(release))


def fresh_facts(release: Release, now: datetime | None = None) -> Facts:
    """The facts of one release read now, never remembered: what a write decides on."""
    return Batch([release], now).of(release)
