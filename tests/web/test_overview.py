"""The overview (home page): the pipeline, what needs me, reviews in working days, quota and
limits, recent events; only ever the user's teams, in a fixed number of queries."""

import hashlib
import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from releases import app_services, services
from releases.errors import Refused
from releases.limits.quota import quota_record
from releases.models import (
    App,
    Approval,
    AuditEvent,
    Capacity,
    ChecklistTick,
    CheckResult,
    CheckRun,
    Membership,
    PlatformAccount,
    Rejection,
    Release,
    RemediationTask,
    Role,
    State,
)
from releases.rejection_recording import on_rejected
from releases.remediation import remediation_complete
from web import needs_action as needs_action_module
from web.language import set_preferred_language
from web.needs_action import Access, needs_action
from web.overview import SHOWN_ACTIONS, overview, reviews_in_progress

BJ = ZoneInfo("Asia/Shanghai")
# The same bound for one app and for fifty apps with five hundred releases: it must not grow.
# "Needs your action" reads its candidates, then each kind of gate fact about all of them at once
# (up to eleven: writers, approvals, runs, content, in review, ticks, tasks, qualifications,
# streaks, quota snapshots and spending), only the kinds its rules ask for.
OVERVIEW_QUERIES = 24


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=BJ)


@pytest.fixture
def versions():
    counter = itertools.count()
    return lambda: f"3.0.{next(counter)}"


@pytest.fixture
def quinn(team):
    """A developer who approves as QA."""
    user = get_user_model().objects.create_user(username="quinn", password="pw-quinn")
    Membership.objects.create(team=team, user=user, role=Role.DEVELOPER, capacities=[Capacity.QA.value])
    return user


def _items(user, now=None):
    return {(item.version, item.kind): item for item in needs_action(Access.of(user), user, now)}


def _section(html: str, heading_id: str) -> str:
    start = html.index(f'aria-labelledby="{heading_id}"')
    return html[start : html.find("</section>", start)]


# -- access -------------------------------------------------------------------------------------


def test_the_overview_is_the_home_page_and_the_app_list_moved_to_apps(client, login, alice, app):
    assert reverse("web:dashboard") == "/"
    assert reverse("web:app-list") == "/apps/"
    assert client.get("/").url == "/login/?next=/"
    page = login(alice).get("/")
    assert page.status_code == 200
    assert "reviews/dashboard.html" in [t.name for t in page.templates]
    assert 'href="/apps/"' in page.content.decode()  # the top bar still reaches the app list


def test_logging_in_lands_on_the_overview(client, alice):
    response = client.post("/login/", {"username": "alice", "password": "pw-alice"})
    assert response.url == reverse("web:dashboard")


def test_it_shows_nothing_of_another_team(login, make_release, mike, olga, other_app):
    make_release("1.0.0", upto="checked")
    services.release_create(app=other_app, actor=olga, version="9.9.9", release_notes="secret plan")
    page = login(mike).get("/").content.decode()
    assert "9.9.9" not in page and "Secret" not in page
    outsider = login(olga).get("/").content.decode()
    assert "Shop" not in outsider and "1.0.0" not in outsider
    assert "9.9.9" in outsider


def test_a_user_in_no_team_gets_an_empty_overview(login, make_release):
    make_release("1.0.0", upto="checked")
    loner = get_user_model().objects.create_user(username="loner")
    response = login(loner).get("/")
    assert response.status_code == 200
    assert (response.context["app_count"], response.context["actions_total"], response.context["events"]) == (
        0,
        0,
        [],
    )
    assert "1.0.0" not in response.content.decode()


# -- the pipeline -------------------------------------------------------------------------------


def test_the_pipeline_counts_releases_per_state_and_links_to_the_filtered_list(login, make_release, mike):
    make_release("1.0.0", upto="published")
    make_release("1.1.0", upto="submitted")
    make_release("1.2.0")
    make_release("1.3.0")
    response = login(mike).get("/")
    lanes = {s["state"]: s for lane in response.context["pipeline"] for s in lane["states"]}
    assert (lanes["draft"]["count"], lanes["submitted"]["count"]) == (2, 1)
    assert (lanes["published"]["count"], lanes["published"]["recent"]) == (1, True)  # ended: the last 30 days
    assert lanes["rejected"]["count"] == 0
    html = _section(response.content.decode(), "pipeline-title")
    assert 'href="/releases/?state=draft" aria-label="Draft: 2 releases"' in html
    assert "/releases/?state=rejected" not in html  # nothing to list
    assert 'aria-label="Published in the last 30 days: 1 release"' in html


def test_an_ended_state_counts_only_the_last_30_days(login, make_release, mike):
    old = make_release("1.0.0", upto="published")
    Release.objects.filter(pk=old.pk).update(state_changed_at=timezone.now() - timedelta(days=31))
    make_release("1.1.0", upto="published")
    lanes = {s["state"]: s for lane in login(mike).get("/").context["pipeline"] for s in lane["states"]}
    assert lanes["published"]["count"] == 1


# -- needs my action ------------------------------------------------------------------------------


def test_a_release_manager_is_asked_to_approve_a_checked_release_but_its_author_is_not(
    make_release, mike, alice
):
    make_release("1.0.0", upto="checked")
    item = _items(mike)[("1.0.0", "approve")]
    assert item.reason == "Checked by alice; waiting for your approval as Release manager."
    assert item.url == reverse("web:release-detail", args=[item.release_id])
    assert ("1.0.0", "approve") not in _items(alice)


def test_a_qa_approver_is_asked_once_the_release_manager_has_approved(make_release, app, adam, mike, quinn):
    app_services.app_set_approval_policy(app=app, actor=adam, required=["release_manager", "qa"])
    release = make_release("1.0.0", upto="checked")
    assert _items(quinn)[("1.0.0", "approve")].reason.endswith("as QA (also missing: Release manager).")
    services.release_approve(release=release, actor=mike)
    assert ("1.0.0", "approve") not in _items(mike)  # mike has approved this revision
    assert ("1.0.0", "submit") not in _items(mike)  # QA is still missing
    services.release_approve(release=release, actor=quinn, capacity="qa")
    assert ("1.0.0", "approve") not in _items(quinn)
    assert _items(mike)[("1.0.0", "submit")].reason.startswith("Revision 1 has every approval it needs")


def test_an_author_is_told_to_run_the_checks_fix_them_and_tick_the_checklist(
    make_release, alice, mike, app, tick_checklist
):
    make_release("1.0.0")
    assert _items(alice)[("1.0.0", "checks")].reason == (
        "Run the checks on revision 1. 5 checklist items to tick for revision 1."
    )
    failing = make_release("1.1.0", release_notes="全网最低价，销量第一")
    with pytest.raises(Refused):
        services.release_check(release=failing, actor=alice)
    assert _items(alice)[("1.1.0", "checks")].reason.startswith("1 blocking check failed: fix and run")
    passing = make_release("1.2.0")
    services.release_check(release=passing, actor=alice)
    services.release_confirm_check(release=passing, actor=alice, key=app.checklist[0]["key"])
    assert _items(alice)[("1.2.0", "checklist")].reason == "4 checklist items to tick for revision 1."
    assert not [key for key in _items(mike) if key[0] in ("1.0.0", "1.1.0", "1.2.0")]  # not his drafts


def test_after_a_rejection_the_author_sees_the_open_tasks_and_then_a_manager_is_asked_to_resubmit(
    make_release, alice, mike
):
    release = make_release("1.0.0", upto="submitted")
    services.release_record_outcome(release=release, actor=mike, outcome="rejected", reason="隐私政策不完善")
    release.refresh_from_db()
    on_rejected(release)
    open_tasks = RemediationTask.objects.filter(release=release, required=True)
    item = _items(alice)[("1.0.0", "remediate")]
    count = open_tasks.count()
    assert (
        item.reason
        == f"{count} required remediation task{'s' if count > 1 else ''} open after the rejection."
    )
    assert ("1.0.0", "resubmit") not in _items(mike)
    for task in open_tasks:
        remediation_complete(release=release, key=task.key, actor=alice, note="Fixed in the policy page.")
    assert ("1.0.0", "remediate") not in _items(alice)
    assert _items(mike)[("1.0.0", "resubmit")].reason.startswith(
        "Rejected; the remediation tasks are done: resubmit (the window closes in 6 d 23 h"
    )


def test_managers_are_asked_to_publish_approved_releases_and_retry_failed_steps(make_release, mike, alice):
    make_release("1.0.0", upto="approved")
    stuck = make_release("0.9.0")
    Release.objects.filter(pk=stuck.pk).update(
        state=State.PUBLISH_FAILED, last_error="WeChat said -1: system busy\nretry later"
    )
    items = _items(mike)
    assert (
        items[("1.0.0", "publish")].reason == "Approved by the platform: publish it when the team is ready."
    )
    assert (
        items[("0.9.0", "retry")].reason
        == "Publishing failed (WeChat said -1: system busy); retry it or give up."
    )
    ordered = [item.kind for item in needs_action(Access.of(mike), mike)]
    assert ordered.index("retry") < ordered.index("publish")  # failures first
    assert not [k for k in _items(alice) if k[1] in ("publish", "retry")]  # developers cannot


def test_a_manager_asked_to_submit_is_told_when_another_release_of_the_app_is_in_review(
    login, make_release, mike
):
    make_release("1.0.0", upto="approved_by_manager")
    assert _items(mike)[("1.0.0", "submit")].reason == (
        "Revision 1 has every approval it needs: submit it for review."
    )
    make_release("0.9.0", upto="submitted")
    assert _items(mike)[("1.0.0", "submit")].reason == (
        "Revision 1 has every approval it needs: submit it for review. "
        "Another release of this app is in review; submit when it ends."
    )
    html = _section(login(mike).get("/").content.decode(), "actions-title")
    assert "Another release of this app is in review; submit when it ends." in html


def test_every_item_is_counted_but_only_the_shown_ones_are_worded(team, alice, mike, nina, monkeypatch):
    populate(team, [alice, mike, nina], apps=20, per_app=10)
    worded = []
    for name in dir(needs_action_module):
        if name.startswith("_") and name.endswith("_reason"):
            function = getattr(needs_action_module, name)
            monkeypatch.setattr(
                needs_action_module, name, lambda *args, _f=function, _n=name: worded.append(_n) or _f(*args)
            )
    data = overview(mike)
    assert len(data["actions"]) == SHOWN_ACTIONS < data["actions_total"]
    assert data["actions_total"] == len(needs_action(Access.of(mike), mike))
    assert 0 < len(worded) <= 2 * SHOWN_ACTIONS  # an item has one or two reasons
    assert all(row["reason"] for row in data["actions"])


def test_a_viewer_has_nothing_to_do(login, make_release, vera):
    make_release("1.0.0", upto="checked")
    make_release("0.9.0", upto="approved")
    assert _items(vera) == {}
    assert "Nothing waits for you right now." in login(vera).get("/").content.decode()


def test_each_item_is_a_link_with_its_reason_on_the_page(login, make_release, mike):
    release = make_release("1.0.0", upto="checked")
    html = _section(login(mike).get("/").content.decode(), "actions-title")
    assert f'<a href="/releases/{release.pk}/">Shop <span class="version">1.0.0</span></a>' in html
    assert "waiting for your approval as Release manager." in html
    assert '<span class="badge kind-badge kind-badge-approve">Approve</span>' in html


# -- reviews in progress ------------------------------------------------------------------------


def _submitted_at(make_release, version, moment):
    release = make_release(version, upto="submitted")
    Release.objects.filter(pk=release.pk).update(submitted_at=moment)
    return release


def test_reviews_count_working_days_and_flag_the_late_and_the_overdue(make_release, mike, app, team):
    apps = [app] + [
        App.objects.create(team=team, platform_account=app.platform_account, name=f"App {n}", appid=f"wxr{n}")
        for n in range(3)
    ]

    def submitted(target, version, moment, **extra):
        release = make_release(version, upto="submitted", app=target)
        Release.objects.filter(pk=release.pk).update(submitted_at=moment, **extra)

    # 2026: Mid-Autumn on Friday 25 September, National Day 1 to 7 October, make-up working days on
    # Sunday 20 September and Saturday 10 October. "Now" is Friday 9 October, 15:00 Beijing time.
    submitted(apps[0], "1.0.0", bj(2026, 10, 8, 10, 0))  # 9 Oct
    submitted(apps[1], "1.1.0", bj(2026, 9, 29, 10, 0))  # 30 Sep, 8 and 9 Oct
    submitted(apps[2], "1.2.0", bj(2026, 9, 18, 10, 0))  # 20-24 Sep, 28-30 Sep, 8 and 9 Oct
    submitted(
        apps[3],
        "1.3.0",
        bj(2026, 10, 9, 9, 0),
        review_delayed_at=bj(2026, 10, 9, 11, 0),
        review_delay_reason="人工复核",
    )
    rows = reviews_in_progress(Access.of(mike), bj(2026, 10, 9, 15, 0))
    assert [(r["version"], r["elapsed"], r["tone"]) for r in rows] == [
        ("1.2.0", 10, "overdue"),
        ("1.3.0", 0, "late"),  # the platform said it is delayed
        ("1.1.0", 3, "on_time"),
        ("1.0.0", 1, "on_time"),
    ]


def test_the_most_urgent_reviews_are_read_in_one_query_in_the_order_of_the_full_list(
    make_release, mike, app, team, django_assert_num_queries
):
    apps = [app] + [
        App.objects.create(team=team, platform_account=app.platform_account, name=f"App {n}", appid=f"wxu{n}")
        for n in range(6)
    ]
    submitted = [  # National Day 2026 in the middle; "now" is Friday 9 October, 15:00 Beijing time
        (bj(2026, 10, 8, 10, 0), False),
        (bj(2026, 9, 29, 10, 0), False),
        (bj(2026, 9, 18, 10, 0), False),  # overdue
        (bj(2026, 9, 14, 10, 0), False),  # overdue, longer
        (bj(2026, 10, 9, 9, 0), True),  # delayed by the platform: late though the youngest
        (bj(2026, 9, 24, 10, 0), False),  # late
        (bj(2026, 10, 8, 10, 0), True),
    ]
    for n, (moment, delayed) in enumerate(submitted):
        release = make_release(f"4.0.{n}", upto="submitted", app=apps[n])
        Release.objects.filter(pk=release.pk).update(
            submitted_at=moment, review_delayed_at=moment if delayed else None
        )
    access, now = Access.of(mike), bj(2026, 10, 9, 15, 0)
    everything = reviews_in_progress(access, now)
    assert [row["tone"] for row in everything] == [
        "overdue",
        "overdue",
        "late",
        "late",
        "late",
        "on_time",
        "on_time",
    ]
    for limit in range(1, len(submitted) + 1):
        with django_assert_num_queries(1):
            head = reviews_in_progress(access, now, limit=limit)
        assert [row["pk"] for row in head] == [row["pk"] for row in everything[:limit]], limit


def test_the_reviews_table_says_late_and_overdue_in_words_not_only_colour(
    login, make_release, mike, time_machine
):
    time_machine.move_to(bj(2026, 11, 20, 15, 0), tick=False)
    _submitted_at(make_release, "1.0.0", bj(2026, 11, 10, 10, 0))
    html = _section(login(mike).get("/").content.decode(), "reviews-title")
    assert '<tr class="review-overdue">' in html
    assert (
        '<span class="badge tone-bad">Overdue</span> <span class="small">past 7 working days</span>' in html
    )
    assert '<span class="days">8</span>' in html


# -- quota and limits ---------------------------------------------------------------------------


def test_quota_meters_show_what_is_left_and_when_it_resets(login, make_release, mike, team, time_machine):
    time_machine.move_to(bj(2026, 11, 20, 15, 0), tick=False)
    wechat = PlatformAccount.objects.create(team=team, platform="wechat", name="Third-party platform")
    App.objects.create(team=team, platform_account=wechat, name="Mini", appid="wxmini0001")
    quota_record(wechat, rest=3, limit=30, speedup_rest=0, speedup_limit=3)
    response = login(mike).get("/")
    (row,) = [r for r in response.context["accounts"] if r["account"].pk == wechat.pk]
    assert (row["review"]["used"], row["review"]["remaining"], row["review"]["countdown"]) == (
        27,
        3,
        "in 10 d 9 h",
    )
    assert row["speedup"]["remaining"] == 0
    html = _section(response.content.decode(), "quota-title")
    assert f'<label class="meter-label" for="meter-review-{wechat.pk}">Reviews this month</label>' in html
    assert f'id="meter-review-{wechat.pk}" min="0" max="30" value="27"' in html
    assert '<strong class="danger-text">none left</strong>' in html
    assert "Sluice does not track this account's quota." in html  # the manual account


def test_an_app_locked_after_repeated_rejections_is_listed_under_its_account(
    login, make_release, mike, app, time_machine
):
    time_machine.move_to(bj(2026, 3, 10, 9, 0), tick=False)
    for version in ("1.0.0", "1.0.1"):
        release = make_release(version, upto="submitted")
        services.release_record_outcome(
            release=release, actor=mike, outcome="rejected", reason="隐私政策不完善"
        )
        release.refresh_from_db()
        on_rejected(release)
        services.release_cancel(release=release, actor=mike)
    time_machine.move_to(bj(2026, 3, 10, 10, 0), tick=False)
    html = _section(login(mike).get("/").content.decode(), "quota-title")
    assert f'<a href="/apps/{app.pk}/">Shop</a>:' in html
    assert "submissions locked after repeated rejections for the same reason" in html
    assert ">in 23 h 0 min</time>" in html


def test_an_app_out_of_withdrawals_is_listed_under_its_account_in_the_readers_language(
    client, make_release, mike, app, settings
):
    settings.WITHDRAW_DAILY_LIMIT = 1
    services.release_withdraw(release=make_release("1.0.0", upto="submitted"), actor=mike)
    client.force_login(mike)
    html = _section(client.get("/").content.decode(), "quota-title")
    assert f'<a href="/apps/{app.pk}/">Shop</a>: withdrawals today used up (1/1)' in html
    set_preferred_language(mike, "zh-hans")
    client.force_login(mike)
    html = _section(client.get("/").content.decode(), "quota-title")
    assert "今日撤回次数已用完（1/1）" in html


def test_the_overview_stays_within_its_queries_when_every_part_has_something_to_read(
    login, make_release, mike, app, team, settings, django_assert_max_num_queries
):
    wechat = PlatformAccount.objects.create(team=team, platform="wechat", name="Third-party platform")
    quota_record(wechat, rest=3, limit=30, speedup_rest=0, speedup_limit=3)  # its meters are read
    settings.WITHDRAW_DAILY_LIMIT = 1
    services.release_withdraw(release=make_release("0.8.0", upto="submitted"), actor=mike)
    make_release("0.9.0", upto="submitted")  # in review: the submit item below says so
    make_release("1.0.0", upto="approved_by_manager")
    services.release_create(app=app, actor=mike, version="2.0.0")  # mike's own draft
    client = login(mike)
    with django_assert_max_num_queries(OVERVIEW_QUERIES):
        response = client.get("/")
    kinds = {(item["version"], item["kind"]) for item in response.context["actions"]}
    assert {("1.0.0", "submit"), ("2.0.0", "checks")} <= kinds
    assert "Another release of this app is in review" in response.content.decode()
    assert any(row["apps_at_limit"] for row in response.context["accounts"])


# -- recent events --------------------------------------------------------------------------------


def test_recent_events_are_the_latest_twenty_of_my_teams_with_a_link_to_the_release(
    login, make_release, mike, olga, other_app
):
    for n in range(6):
        make_release(f"1.{n}.0", upto="checked")  # 8 events each
    services.release_create(app=other_app, actor=olga, version="9.9.9")
    rows = login(mike).get("/").context["events"]
    assert len(rows) == 20
    ids = [row["event"].pk for row in rows]
    assert ids == sorted(ids, reverse=True)
    assert rows[0]["release"]["version"] == "1.5.0"
    assert rows[0]["url"] == reverse("web:release-detail", args=[rows[0]["event"].release_id])
    assert all(row["event"].team_id == mike.memberships.get().team_id for row in rows)


# -- a fixed number of queries ----------------------------------------------------------------------

STATES = [
    State.DRAFT,
    State.CHECKED,
    State.SUBMITTED,
    State.APPROVED,
    State.REJECTED,
    State.PUBLISH_FAILED,
    State.PUBLISHED,
    State.CANCELLED,
    State.DRAFT,
    State.WITHDRAWN,
]


def _hash(n: int) -> str:
    return hashlib.sha256(f"bulk-{n}".encode()).hexdigest()


def populate(team, authors, *, apps: int, per_app: int) -> None:
    """Many apps with releases in every state, approvals, check runs, ticks, rejections with tasks,
    quota reads and audit events, written in bulk (the page must not care how much there is)."""
    now = datetime.now(tz=BJ)
    accounts = [
        PlatformAccount.objects.create(team=team, platform=platform, name=f"Bulk {platform} {n}")
        for n, platform in enumerate(["wechat", "wechat", "manual"])
    ]
    for account in accounts[:2]:
        quota_record(account, rest=10, limit=30, speedup_rest=1, speedup_limit=3)
    created = App.objects.bulk_create(
        App(team=team, platform_account=accounts[n % 3], name=f"Bulk app {n:03}", appid=f"wxbulk{n:05}")
        for n in range(apps)
    )
    releases = Release.objects.bulk_create(
        Release(
            app=app,
            version=f"1.{k}.0",
            author=authors[k % len(authors)],
            owner=authors[(k + 1) % len(authors)],
            state=STATES[k % len(STATES)],
            submitted_at=now - timedelta(days=k),
            review_delayed_at=now if k % 3 == 0 else None,
            decided_at=now - timedelta(hours=k),
            last_error="busy" if STATES[k % len(STATES)] == State.PUBLISH_FAILED else "",
        )
        for app in created
        for k in range(per_app)
    )
    runs = CheckRun.objects.bulk_create(
        CheckRun(release=r, revision=1, passed=False, finished_at=now)
        for r in releases
        if r.state == State.DRAFT
    )
    CheckResult.objects.bulk_create(
        CheckResult(run=run, key="ad_claims", title="Claims", severity="error", status="failed")
        for run in runs
    )
    ChecklistTick.objects.bulk_create(
        ChecklistTick(release=r, revision=1, key="tested_ios", label="iOS", confirmed_by=authors[0])
        for r in releases
        if r.state == State.DRAFT
    )
    Approval.objects.bulk_create(
        Approval(release=r, approver=authors[-1], revision=1)
        for r in releases[::2]
        if r.state == State.CHECKED
    )
    rejected = [r for r in releases if r.state == State.REJECTED]
    rejections = Rejection.objects.bulk_create(
        Rejection(release=r, app_id=r.app_id, reason="隐私政策不完善", categories=["privacy_policy"], at=now)
        for r in rejected
    )
    Rejection.objects.bulk_create(  # a second rejection for the same reason: every app is locked
        Rejection(release=r, app_id=r.app_id, reason="隐私政策缺失", categories=["privacy_policy"], at=now)
        for r in releases
        if r.state == State.CANCELLED
    )
    RemediationTask.objects.bulk_create(
        RemediationTask(
            release=r, rejection=j, key=f"k{i}", category="privacy_policy", title="Fix", required=True
        )
        for r, j in zip(rejected, rejections, strict=True)
        for i in range(2)
    )
    actions = ["create", "submit_succeeded", "withdraw_succeeded", "review_rejected", "approve"]
    AuditEvent.objects.bulk_create(
        AuditEvent(
            at=now - timedelta(minutes=n),
            actor_id=authors[0].pk,
            actor_name=authors[0].username,
            action=actions[n % len(actions)],
            target_type="release",
            target_id=r.pk,
            team_id=team.pk,
            app_id=r.app_id,
            release_id=r.pk,
            prev_hash=_hash(n - 1),
            hash=_hash(n),
        )
        for n, r in enumerate(releases * 3)
    )


@pytest.mark.parametrize("apps, per_app", [(1, 10), (50, 10)])
def test_the_overview_runs_the_same_number_of_queries_for_one_app_or_fifty(
    login, team, alice, mike, nina, django_assert_max_num_queries, apps, per_app
):
    populate(team, [alice, mike, nina], apps=apps, per_app=per_app)
    assert Release.objects.count() == apps * per_app
    client = login(mike)
    with django_assert_max_num_queries(OVERVIEW_QUERIES):
        response = client.get("/")
    assert response.status_code == 200
    context = response.context
    assert context["app_count"] == apps
    assert context["actions_total"] > 0 and context["reviews_total"] == apps
    assert len(context["events"]) == 20
    assert sum(len(row["apps_at_limit"]) for row in context["accounts"]) >= apps  # every app is locked


def test_the_overview_parts_agree_with_the_data_at_scale(team, alice, mike, nina):
    populate(team, [alice, mike, nina], apps=20, per_app=10)
    data = overview(mike)
    lanes = {s["state"]: s["count"] for lane in data["pipeline"] for s in lane["states"]}
    assert lanes["draft"] == 40 and lanes["publish_failed"] == 20
    kinds = [item.kind for item in needs_action(Access.of(mike), mike)]
    assert kinds.count("retry") == 20 and kinds.count("publish") == 20
    assert kinds.index("retry") == 0


def test_a_release_superseded_by_a_newer_published_version_stops_asking(make_release, alice, mike, app):
    """1.1.0 was drafted, then 1.2.0 was published: 1.1.0 can never ship, so nobody is asked to
    check, approve or submit it, and its submit is refused naming why."""
    stale_draft = make_release("1.1.0")
    stale_checked = make_release("1.1.5", upto="checked")
    make_release("1.2.0", upto="published")
    assert {version for version, _ in _items(alice)} & {"1.1.0", "1.1.5"} == set()
    assert {version for version, _ in _items(mike)} & {"1.1.0", "1.1.5"} == set()
    with pytest.raises(Refused) as refused:
        services.release_submit(release=stale_checked, actor=mike)
    assert refused.value.code == "superseded"
    assert stale_draft.pk
