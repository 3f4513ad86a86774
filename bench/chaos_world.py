"""The people and the platform of a chaos run (bench/chaos.py), and what is checked at its end.

Imported once Django is set up. The release managers act through the same services as the
pages and the API; WeChat's reviewers decide through the simulator's own API, as a person in
its console would. The verdict compares Sluice's releases with what the simulator holds.
"""

import random
import secrets
import string
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Q

from bench.content import NOTES, REPORT
from releases import services
from releases.audit import audit_verify
from releases.errors import Refused
from releases.models import (
    FAILED_TO_IN_FLIGHT,
    IN_FLIGHT,
    App,
    AuditEvent,
    Membership,
    PlatformAccount,
    Release,
    Role,
    State,
    Team,
)
from reviews.models import ComponentTicket
from simulator.models import SimAuthorizer, SimCall, SimPush, SimSubmission, SimVersion
from simulator.services import (
    format_reasons,
    reason_catalogue,
    sim_configure,
    sim_current_ticket,
    sim_decide,
    sim_push_ticket,
    sim_register_account,
    sim_register_authorizer,
)

# Each app's releases, one after the other; the last may be rolled back.
VERSIONS = ("1.0.0", "1.1.0", "1.2.0", "1.3.0")
REVIEW_AFTER = timedelta(seconds=3)  # how long the simulated reviewers take
OUTCOMES = {"approved": 65, "rejected": 25, "delayed": 10}
FAILED = set(FAILED_TO_IN_FLIGHT)
ACTIONABLE = {State.CHECKED, State.APPROVED, State.PUBLISHED, State.REJECTED, State.ROLLED_BACK, *FAILED}
Status = SimSubmission.Status


def _alnum(length: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(length))


def marker(appid: str, version: str) -> str:
    """Written into the review notes, so WeChat's copy (version_desc) names its release."""
    return f"[chaos {appid} {version}]"


@dataclass
class Lane:
    """One mini-program's releases, driven one after the other by its release manager."""

    releases: list[Release]
    roll_back: bool
    index: int = 0
    done: bool = False
    published: list[int] = field(default_factory=list)

    @property
    def current(self) -> Release:
        return self.releases[self.index]


@dataclass
class World:
    manager: object
    lanes: list[Lane]
    retries: int = 0
    actions: Counter = field(default_factory=Counter)


def seed(base_url: str, apps: int) -> World:
    """A team, a WeChat platform account registered with the simulator, `apps` mini-programs and their
    releases (VERSIONS), checked (the platform privacy scan over HTTP) and approved."""
    users = get_user_model().objects
    team = Team.objects.create(name="Chaos team")
    dev, manager = users.create_user("dev"), users.create_user("manager")
    Membership.objects.create(team=team, user=dev, role=Role.DEVELOPER)
    Membership.objects.create(team=team, user=manager, role=Role.RELEASE_MANAGER)
    account = PlatformAccount.objects.create(
        team=team,
        platform="wechat",
        name="WeChat (simulated)",
        component_appid="wxchaoscomponent0",
        component_appsecret=_alnum(32),
        message_token=_alnum(24),
        encoding_aes_key=_alnum(43),
    )
    sim_register_account(account, base_url)
    sim_configure(scripted_enabled=False, quota_limit=100_000, error_rate_pct=0, lost_push_pct=0)
    sim_push_ticket(account.component_appid)
    ComponentTicket.objects.create(account=account, ticket=sim_current_ticket(account.component_appid))
    lanes = []
    for n in range(apps):
        app = App.objects.create(
            team=team,
            platform_account=account,
            name=f"Chaos app {n:03d}",
            appid=f"wxchaos{n:010d}",
            authorizer_refresh_token="refreshtoken@@@" + _alnum(24),
        )
        sim_register_authorizer(
            component_appid=account.component_appid,
            appid=app.appid,
            refresh_token=app.authorizer_refresh_token,
        )
        releases = [_prepared(app, version, dev, manager) for version in VERSIONS]
        lanes.append(Lane(releases, roll_back=random.random() < 0.5))
    return World(manager=manager, lanes=lanes)


def _prepared(app: App, version: str, dev, manager) -> Release:
    notes = f"{NOTES} {marker(app.appid, version)}"
    release = services.release_create(
        app=app, actor=dev, version=version, review_notes=notes, build_report=REPORT
    )
    for item in app.checklist or []:  # the manual checklist, ticked by the developer
        services.release_confirm_check(release=release, actor=dev, key=item["key"])
    run = services.release_check(release=release, actor=dev)
    if run.finished_at is None:
        services.release_check_finish(run_id=run.pk)
    release.refresh_from_db()
    if release.state != State.CHECKED:
        failing = [(r.key, r.status, r.message) for r in run.results.all() if r.blocks]
        raise SystemExit(f"{app.appid} {version} did not pass its checks: {failing}")
    services.release_approve(release=release, actor=manager)
    release.refresh_from_db()
    assert release.state == State.CHECKED and release.is_approved(), (release, release.state)
    return release


# -- during the run ---------------------------------------------------------------------------


def review(now) -> int:
    """WeChat's reviewers: each submission is decided a few seconds after it arrives; a delayed
    one gets its final decision a few seconds later (as WeChat follows weapp_audit_delay)."""
    decided = 0
    waiting = SimSubmission.objects.filter(
        Q(status=Status.IN_REVIEW, submitted_at__lt=now - REVIEW_AFTER)
        | Q(status=Status.DELAYED, delayed_at__lt=now - REVIEW_AFTER)
    )
    for submission in waiting:
        odds = dict(OUTCOMES, delayed=0 if submission.status == Status.DELAYED else OUTCOMES["delayed"])
        outcome = random.choices(list(odds), weights=list(odds.values()))[0]
        reason = format_reasons([random.choice(reason_catalogue())]) if outcome == "rejected" else ""
        sim_decide(auditid=submission.auditid, outcome=outcome, reason=reason)
        decided += 1
    return decided


def manage(world: World) -> None:
    """The release managers: submit the next release, publish what is approved, roll back some last
    releases, retry a step that gave up (as a person seeing "WeChat is busy" would)."""
    lanes = [lane for lane in world.lanes if not lane.done]
    current = Release.objects.filter(pk__in=[lane.current.pk for lane in lanes])
    states = dict(current.values_list("pk", "state"))
    for lane in lanes:
        if states[lane.current.pk] not in ACTIONABLE:
            continue  # in flight or in review: nothing for a person to do
        release = lane.current
        release.refresh_from_db()
        try:
            _act(world, lane, release)
        except Refused as refused:  # e.g. a push moved it at the same moment: look again next time
            world.actions[f"refused:{refused.code}"] += 1


def _act(world: World, lane: Lane, release: Release) -> None:
    state, manager = release.state, world.manager
    if state == State.CHECKED:
        services.release_submit(release=release, actor=manager)
        world.actions["submit"] += 1
    elif state == State.APPROVED:
        services.release_publish(release=release, actor=manager)
        world.actions["publish"] += 1
    elif state == State.PUBLISHED and lane.index not in lane.published:
        lane.published.append(lane.index)
        _next(lane, rolled=False)
    elif state == State.PUBLISHED and lane.roll_back and len(lane.published) > 1:
        lane.roll_back = False
        services.release_rollback(release=release, actor=manager)
        world.actions["rollback"] += 1
    elif state in (State.PUBLISHED, State.REJECTED, State.ROLLED_BACK):
        _next(lane, rolled=True)
    elif state in FAILED and gave_up(release):
        services.release_retry(release=release, actor=manager)
        world.retries += 1
    elif state in FAILED:
        lane.done = True  # refused for good: the verdict reports it


def _next(lane: Lane, *, rolled: bool) -> None:
    """On to the next release; the last one stays for a possible rollback."""
    last = lane.index == len(lane.releases) - 1
    if not last:
        lane.index += 1
    elif rolled or not lane.roll_back or len(lane.published) < 2:
        lane.done = True


def gave_up(release: Release) -> bool:
    event = AuditEvent.objects.filter(release_id=release.pk, to_state=release.state).order_by("-pk").first()
    return bool(event and (event.data or {}).get("gave_up"))


def unattended(now, stale_seconds: int) -> dict[int, float]:
    """Seconds each in-flight release has had nobody on it: since its lease (or the reservation
    for its queued job) ran out; without either, since the sweep could have taken it."""
    seconds = {}
    for pk, lease, changed in Release.objects.filter(state__in=list(IN_FLIGHT)).values_list(
        "pk", "step_lease_until", "state_changed_at"
    ):
        since = lease if lease is not None else changed + timedelta(seconds=stale_seconds)
        seconds[pk] = max(0.0, (now - since).total_seconds())
    return seconds


def progress() -> str:
    states = Counter(Release.objects.values_list("state", flat=True))
    return ", ".join(f"{state} {n}" for state, n in sorted(states.items()))


def settled(world: World) -> bool:
    """Every lane finished and nothing in flight or waiting for a review."""
    busy = Release.objects.filter(state__in=[*IN_FLIGHT, State.SUBMITTED])
    return all(lane.done for lane in world.lanes) and not busy.exists()


# -- the verdict ------------------------------------------------------------------------------


def verdict(world: World) -> dict:
    """Sluice's releases against what the simulated WeChat holds."""
    releases = list(Release.objects.select_related("app"))
    by_marker = {marker(r.app.appid, r.version): r for r in releases}
    submissions: dict[int, list[SimSubmission]] = {r.pk: [] for r in releases}
    strangers = 0
    for submission in SimSubmission.objects.select_related("authorizer"):
        release = next((r for m, r in by_marker.items() if m in submission.version_desc), None)
        if release is None:
            strangers += 1
        else:
            submissions[release.pk].append(submission)
    double = [r for r in releases if len(submissions[r.pk]) > 1]
    lost = [
        r for r in releases if submissions[r.pk] and r.platform_audit_id != str(submissions[r.pk][-1].auditid)
    ]
    through = [r for r in releases if submissions[r.pk]]
    wrong = [(r, r.state, expected) for r in through if r.state != (expected := _decided(r, submissions))]
    errcodes = Counter(SimCall.objects.exclude(errcode=0).values_list("errcode", flat=True))
    audit_ok, audit_broken_at = _audit()
    return {
        "releases": len(releases),
        "through": len(through),
        "double": double,
        "lost": lost + [None] * strangers,
        "wrong": wrong,
        "states": Counter(r.state for r in releases),
        "in_flight": [r for r in releases if r.state in IN_FLIGHT],
        "gave_up": AuditEvent.objects.filter(data__gave_up=True).count(),
        "errcodes": errcodes,
        "calls": SimCall.objects.count(),
        "pushes": Counter(SimPush.objects.filter(kind=SimPush.Kind.EVENT).values_list("status", flat=True)),
        "audit_ok": audit_ok,
        "audit_broken_at": audit_broken_at,
    }


def _decided(release: Release, submissions) -> str:
    """The state the simulator's side implies for a release that reached it."""
    submission = submissions[release.pk][-1]
    if submission.status == Status.REJECTED:
        return State.REJECTED
    if submission.status == Status.WITHDRAWN:
        return State.WITHDRAWN
    if submission.status != Status.APPROVED:
        return State.SUBMITTED
    if submission.released_at is None:
        return State.APPROVED
    authorizer = SimAuthorizer.objects.get(pk=submission.authorizer_id)
    newest = SimVersion.objects.filter(authorizer=authorizer).order_by("-app_version").first()
    rolled_back = newest.submission_id == submission.pk and authorizer.online_version_id != newest.pk
    return State.ROLLED_BACK if rolled_back else State.PUBLISHED


def _audit() -> tuple[bool, int | None]:
    report = audit_verify()
    return report.ok, report.broken_id
