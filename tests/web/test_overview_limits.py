"""The overview for a release manager of many apps (issue 15): one table of every app's limits
(withdrawals left, the same-reason lock and its end, the publish window, the account's review
quota), counted by the one-app rules in a fixed number of queries, and "Needs your action"
naming the locks about to lift and the windows about to close on approved releases."""

import hashlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from releases import services
from releases.limits import release_limits
from releases.limits.quota import quota_record
from releases.models import App, AuditEvent, Membership, PlatformAccount, Rejection, Role, Team
from releases.rejection_recording import on_rejected
from tests.web.test_no_english_in_chinese_pages import english_words
from web.language import set_preferred_language
from web.needs_action import Access
from web.overview_limits import limits_table

BJ = ZoneInfo("Asia/Shanghai")
WINDOW = {"windows": [{"days": ["tue"], "from": "09:00", "to": "11:00"}]}


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=BJ)


def _section(html: str, heading_id: str) -> str:
    start = html.rindex("<section", 0, html.index(f'aria-labelledby="{heading_id}"'))
    return html[start : html.find("</section>", start)]


@pytest.fixture
def fleet(make_release, mike, app, team, manual_account, settings, time_machine):
    """On Tuesday 2026-03-10: Shop locked after two privacy rejections at 09:00; Mall with its
    withdrawal of the day spent, an approved release and a window closing at 11:00; Fleet on a
    WeChat account with 3 of its 30 reviews left. Seen at 10:00."""
    settings.WITHDRAW_DAILY_LIMIT = 1
    time_machine.move_to(bj(2026, 3, 10, 9, 0), tick=False)
    for version in ("1.0.0", "1.0.1"):
        release = make_release(version, upto="submitted")
        services.release_record_outcome(
            release=release, actor=mike, outcome="rejected", reason="隐私政策不完善"
        )
        release.refresh_from_db()
        on_rejected(release)
        services.release_cancel(release=release, actor=mike)
    mall = App.objects.create(
        team=team,
        platform_account=manual_account,
        name="Mall",
        appid="wxmall",
        settings={"publish_window": WINDOW},
    )
    services.release_withdraw(release=make_release("0.9.0", app=mall, upto="submitted"), actor=mike)
    approved = make_release("2.0.0", app=mall, upto="approved")
    wechat = PlatformAccount.objects.create(team=team, platform="wechat", name="Third-party platform")
    quota_record(wechat, rest=3, limit=30, speedup_rest=0, speedup_limit=3)
    fleet_app = App.objects.create(team=team, platform_account=wechat, name="Fleet", appid="wxfleet")
    time_machine.move_to(bj(2026, 3, 10, 10, 0), tick=False)
    return {"shop": app, "mall": mall, "fleet": fleet_app, "approved": approved}


def _rows(user) -> dict[str, dict]:
    return {row["app_name"]: row for row in limits_table(Access.of(user)).rows}


def test_one_table_shows_every_app_s_withdrawals_lock_window_and_quota(fleet, mike):
    rows = _rows(mike)
    assert [name for name in rows][:2] == ["Mall", "Shop"]  # the pressing ones first (Fleet: quota low)
    shop, mall, fleet_row = rows["Shop"], rows["Mall"], rows["Fleet"]
    assert (
        shop["lock"]["until"]["short"] == "03-11 09:00"
        and shop["lock"]["until"]["countdown"] == "in 23 h 0 min"
    )
    assert mall["lock"] is None and fleet_row["lock"] is None
    assert mall["withdrawals"]["text"] == "0 of 1 today · 9 of 10 this month"
    assert mall["withdrawals"]["tone"] == "danger"
    assert shop["withdrawals"]["text"] == "1 of 1 today · 10 of 10 this month"
    assert mall["window"]["text"] == "open, closes" and mall["window"]["at"]["short"] == "11:00"
    assert shop["window"]["text"] == "any time"
    assert fleet_row["quota"]["text"] == "3 of 30 left" and fleet_row["quota"]["tone"] == "warn"
    assert shop["quota"]["text"] == "not tracked (submitted by hand)"


def test_the_table_counts_what_each_app_s_own_rules_count(fleet, mike):
    """The same numbers as the app's limits (releases.limits.rules), which the guards enforce."""
    rows = _rows(mike)
    for name in ("Shop", "Mall"):
        app = fleet["shop"] if name == "Shop" else fleet["mall"]
        release = app.releases.order_by("-pk").first()
        own = {limit["key"]: limit for limit in release_limits(release)}
        left_today = own["withdraw_daily"]["remaining"]
        assert rows[name]["withdrawals"]["text"].startswith(f"{left_today} of ")
        assert (rows[name]["lock"] is not None) == bool(own["same_reason_lock"]["resets_at"])


def test_needs_my_action_names_the_lock_about_to_lift_and_the_window_closing_on_an_approved_release(
    fleet, mike, alice, client
):
    soon = limits_table(Access.of(mike)).soon
    assert [(item["kind"], item["title"]) for item in soon] == [("window", "Mall 2.0.0"), ("lock", "Shop")]
    assert (
        soon[0]["text"] == "Approved: the publish window closes in 1 h 0 min (11:00); publish before it does."
    )
    assert "the lock lifts in 23 h 0 min (03-11 09:00)" in soon[1]["text"]
    assert limits_table(Access.of(alice)).soon == []  # a developer manages neither

    client.force_login(mike)
    html = _section(client.get("/").content.decode(), "actions-title")
    assert (
        "Limits about to change" in html
        and f'href="/releases/{fleet["approved"].pk}/">Mall 2.0.0</a>' in html
    )
    assert "Nothing waits for you" not in html


def test_the_table_and_the_soon_items_read_in_chinese(fleet, mike, client):
    set_preferred_language(mike, "zh-hans")
    client.force_login(mike)
    html = client.get("/").content.decode()
    typed = {"Shop", "Mall", "Fleet", "Manual", "Third", "party", "platform", "team"}  # the team's names
    for section in ("limits-title", "actions-title"):
        words = [word for word in english_words(_section(html, section)) if word not in typed]
        assert not words, words
    assert "锁定" in _section(html, "limits-title")


def _fleet_of(team: Team, apps: int, now: datetime) -> None:
    """`apps` apps across a WeChat and a manual account, every third locked, every other with a
    withdrawal, a team publish window: everything the table reads, written in bulk."""
    wechat = PlatformAccount.objects.create(team=team, platform="wechat", name=f"{team.name} WeChat")
    manual = PlatformAccount.objects.create(team=team, platform="manual", name=f"{team.name} manual")
    quota_record(wechat, rest=10, limit=30)
    Team.objects.filter(pk=team.pk).update(publish_policy=WINDOW)
    created = App.objects.bulk_create(
        App(team=team, platform_account=(wechat, manual)[n % 2], name=f"App {n:03}", appid=f"wx{team.pk}x{n}")
        for n in range(apps)
    )
    from releases.models import Release

    author = get_user_model().objects.create_user(username=f"author-{team.pk}")
    releases = Release.objects.bulk_create(
        Release(app=app, version="1.0.0", author=author) for app in created
    )
    Rejection.objects.bulk_create(
        Rejection(
            release=r,
            app_id=r.app_id,
            reason="隐私",
            categories=["privacy_policy"],
            at=now - timedelta(hours=h),
        )
        for r in releases[::3]
        for h in (1, 2)
    )
    AuditEvent.objects.bulk_create(
        AuditEvent(
            at=now - timedelta(minutes=5),
            action="withdraw_succeeded",
            target_type="release",
            target_id=r.pk,
            team_id=team.pk,
            app_id=r.app_id,
            release_id=r.pk,
            prev_hash=hashlib.sha256(f"{team.pk}-{n}".encode()).hexdigest(),
            hash=hashlib.sha256(f"{team.pk}-{n + 1}".encode()).hexdigest(),
        )
        for n, r in enumerate(releases[::2])
    )


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)


def test_the_query_count_stays_flat_with_forty_times_more_apps(db, time_machine):
    now = bj(2026, 3, 10, 10, 0)
    time_machine.move_to(now, tick=False)
    managers = []
    for name, apps in (("Few", 3), ("Many", 120)):
        team = Team.objects.create(name=name)
        _fleet_of(team, apps, now)
        user = get_user_model().objects.create_user(username=f"rm-{name}")
        Membership.objects.create(team=team, user=user, role=Role.RELEASE_MANAGER)
        managers.append(user)
    few, many = managers
    assert len(limits_table(Access.of(many)).rows) == 120
    assert sum(1 for row in limits_table(Access.of(many)).rows if row["lock"]) == 40
    accesses = [Access.of(user) for user in managers]
    table = [_queries(lambda access=access: limits_table(access)) for access in accesses]
    assert table[0] == table[1]

    clients = []
    for user in managers:
        reader = Client()
        reader.force_login(user)
        assert reader.get("/").status_code == 200  # warm: sessions, caches
        clients.append(reader)
    pages = [_queries(lambda reader=reader: reader.get("/")) for reader in clients]
    assert pages[0] == pages[1]
