"""One shared world, healthchecks-style: a demo team with one user per role, and an outsider.

- alice: developer, author of releases
- mike: release manager, approves and submits
- vera: viewer
- adam: team admin
- olga: outsider, member of another team only
"""

import copy

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from releases import services
from releases.models import App, Membership, PlatformAccount, Release, Role, Team
from tests.fixtures import flush

flush.install()

# Shared fixtures: API and worker helpers (tests/fixtures/web.py), a WeChat account, app and
# simulator (tests/fixtures/wechat.py); every test directory may use them.
pytest_plugins = [
    "tests.fixtures.web",
    "tests.fixtures.wechat",
    "tests.fixtures.robots",
    "tests.fixtures.sqlite",
    "tests.fixtures.douyin",
    "tests.fixtures.parallel",
]

GOOD_NOTES = "New points page under 我的 > 积分; points are granted after payment."
# A build report that passes every automated check (the default for `make_release`).
GOOD_REPORT = {
    "packages": [
        {"name": "__FULL__", "size": 3_000_000},
        {"name": "__APP__", "size": 1_200_000},
        {"name": "pages/shop", "size": 1_800_000},
    ],
    "permissions": [],
    "apis": [],
    "pages": ["pages/index/index", "pages/shop/goods", "pages/shop/order"],
    "first_screen_ms": 1200,
    "error_monitoring": "sentry",
}


@pytest.fixture(autouse=True)
def empty_cache():
    """Every test starts and ends with an empty shared cache (analytics, platform tokens)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def team(db):
    return Team.objects.create(name="Shop team")


@pytest.fixture
def other_team(db):
    return Team.objects.create(name="Other team")


def _member(team, username, role):
    user = get_user_model().objects.create_user(username=username, password="pw-" + username)
    Membership.objects.create(team=team, user=user, role=role)
    return user


@pytest.fixture
def alice(team):
    return _member(team, "alice", Role.DEVELOPER)


@pytest.fixture
def mike(team):
    return _member(team, "mike", Role.RELEASE_MANAGER)


@pytest.fixture
def nina(team):
    """A second release manager, for approvals of mike's own releases."""
    return _member(team, "nina", Role.RELEASE_MANAGER)


@pytest.fixture
def vera(team):
    return _member(team, "vera", Role.VIEWER)


@pytest.fixture
def adam(team):
    return _member(team, "adam", Role.ADMIN)


@pytest.fixture
def olga(other_team):
    return _member(other_team, "olga", Role.ADMIN)


@pytest.fixture
def manual_account(team):
    return PlatformAccount.objects.create(team=team, platform="manual", name="Manual")


@pytest.fixture
def app(team, manual_account):
    return App.objects.create(team=team, platform_account=manual_account, name="Shop", appid="wxshop0001")


@pytest.fixture
def other_app(other_team):
    account = PlatformAccount.objects.create(team=other_team, platform="manual", name="Manual")
    return App.objects.create(team=other_team, platform_account=account, name="Secret", appid="wxsecret01")


@pytest.fixture
def make_release(app, alice):
    """A release created through the service (so it has its audit event), optionally
    driven to a later state through the services too."""

    def make(version="1.0.0", *, upto="draft", approver=None, **fields):
        fields.setdefault("review_notes", GOOD_NOTES)
        fields.setdefault("build_report", copy.deepcopy(GOOD_REPORT))
        release = services.release_create(app=fields.pop("app", app), actor=alice, version=version, **fields)
        steps = ["checked", "approved_by_manager", "submitted", "approved", "published"]
        if upto == "draft":
            return release
        manager = approver or _manager(release)
        for item in release.app.checklist:  # the check gate also needs the manual checklist ticked
            services.release_confirm_check(release=release, actor=alice, key=item["key"])
        run = services.release_check(release=release, actor=alice)
        if run.finished_at is None:  # slow checks (network platforms): finish them as the worker would
            services.release_check_finish(run_id=run.pk)
        for step in steps[1 : steps.index(upto) + 1]:
            if step == "approved_by_manager":
                services.release_approve(release=release, actor=manager)
            elif step == "submitted":
                services.release_submit(release=release, actor=manager)
            elif step == "approved":
                services.release_record_outcome(release=release, actor=manager, outcome="approved")
            elif step == "published":
                services.release_publish(release=release, actor=manager)
        release.refresh_from_db()
        return release

    return make


def _manager(release: Release):
    membership = release.app.team.memberships.filter(role=Role.RELEASE_MANAGER).first()
    if membership is None:
        membership = Membership.objects.create(
            team=release.app.team,
            user=get_user_model().objects.create_user(username="auto-manager"),
            role=Role.RELEASE_MANAGER,
        )
    return membership.user


@pytest.fixture
def tick_checklist():
    """tick_checklist(release, actor): confirm every manual checklist item of the current revision."""

    def tick(release, actor):
        for item in release.app.checklist:
            services.release_confirm_check(release=release, actor=actor, key=item["key"])
        release.refresh_from_db()
        return release

    return tick
