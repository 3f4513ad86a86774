"""Reads never write (issue 10): loading any page, live endpoint or API GET changes nothing in the
database, whoever asks and whatever the release's story.

The routes are not listed by hand: every page comes from the URL resolver and every API GET from
the ninja router, their path parameters filled from one shared world (a rejected release with its
rejection and tasks, one rejected by older code whose rejection was never recorded, a published
one, one in review, a WeChat app, suppressions, qualifications, the audit chain's status...). A new
route is loaded as soon as it exists; a new path parameter fails here until it gets a value.

Nothing is ignored: a signed-in page writes no session row (force_login saved it before, and a read
leaves it unmodified), and axes only writes on a login attempt, which no read is.
"""

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver

from notify.models import Channel, Delivery
from releases import actions, app_services, outcome_services, services
from releases.audit_verification import audit_verify_and_record
from releases.campaigns.driver import campaign_drive
from releases.campaigns.services import campaign_create, campaign_start
from releases.group_services import release_group_create
from releases.health_services import release_health_report
from releases.limits import transition_refusal
from releases.models import ApiToken, App, PlatformAccount, Qualification, Rejection, Release
from releases.playbooks.seed import seed_playbooks
from releases.tokens import _digest, api_token_create
from reviews.models import CodeTemplate, TemplateDraft
from web.api import api

# Recognised items (privacy policy, first screen) and one no rule knows, for /playbooks/.
REASON = "1:隐私政策不完善:<br>(1):未说明获取手机号的用途<br>2:首屏加载时间过长<br>3:页面里有一只会说话的猫"
WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|MERGE|TRUNCATE)\b|\bFOR (NO KEY )?UPDATE\b", re.IGNORECASE)

# Not the product's pages: Django's admin (its own views; staff only) and the WeChat simulator
# (a development stand-in for the platform, installed in demo mode and tests only).
NOT_OURS = ("admin/", "sim/")
API_PREFIX = "api/v1/"
QUERIES = [  # the same pages with their filters: each filter is its own read path
    "/releases/?state=rejected",
    "/releases/?q=1.1&page=2",
    "/audit/?action=review_rejected",
    "/audit/export.csv?action=remediation_planned",
    "/analytics/?days=30",
    "/api/v1/releases?state=rejected&limit=1",
]


@pytest.fixture
def world(settings, monkeypatch, make_release, app, mike, alice, nina, vera, adam, olga, wechat_release):
    """Everything a page can be about, made through the services (as the product makes it)."""
    settings.DEMO = True  # the demo privacy policies answer too
    seed_playbooks()
    published = make_release("1.0.0", upto="published")
    phased = make_release("1.6.0", upto="approved")  # in a phased release, with a health report
    services.release_publish(
        release=phased, actor=mike, rollout=[{"percentage": 5, "hold_minutes": 60}, {"percentage": 100}]
    )
    release_health_report(release=phased, actor=mike, metric="js_error_rate", value=0.01)
    rejected = make_release("1.1.0", upto="submitted")
    services.release_record_outcome(release=rejected, actor=mike, outcome="rejected", reason=REASON)
    legacy = make_release("1.2.0", upto="submitted")
    with monkeypatch.context() as older_code:  # recorded as older code did: the event, no Rejection
        older_code.setattr(outcome_services, "_record_rejection", lambda release, event: None)
        services.release_record_outcome(release=legacy, actor=mike, outcome="rejected", reason="图片违规")
    submitted = make_release("1.3.0", upto="submitted")
    releases = [
        published,
        rejected,
        legacy,
        submitted,
        make_release("1.4.0", upto="checked"),
        make_release("1.5.0"),
        phased,
        wechat_release("2.0.0"),
    ]
    assert Rejection.objects.filter(release=rejected).exists() and not legacy.rejections.exists()
    picture = _screenshots(Rejection.objects.get(release=rejected))
    suppression = app_services.app_suppress_check(
        app=app,
        actor=mike,
        key="review_notes",
        reason="Legal cleared it.",
        expires_on=date.today() + timedelta(3),
    )
    qualification = app_services.app_add_qualification(
        app=app, actor=mike, kind=Qualification.Kind.values[0], number="91110000000000000X"
    )
    channel = Channel.objects.create(
        team=app.team, kind="wecom", name="Robot", url="http://127.0.0.1:9/x?key=k"
    )
    sent = Delivery.objects.create(
        channel=channel, team=app.team, event="approved", source="s", status="failed"
    )
    campaign, _plan = campaign_create(
        account=app.platform_account,
        actor=alice,
        template_id="7",
        version="9.0.0",
        review_notes="{{ merchant_name }} 的春季菜单",
        targets={"apps": [app.pk]},
    )
    campaign_start(campaign=campaign, actor=alice)
    campaign_drive(campaign.pk)  # its release is created, its checks fail: held, with the reason
    wechat_account = releases[-1].app.platform_account
    TemplateDraft.objects.create(account=wechat_account, draft_id=7, user_version="2.1.0", user_desc="积分")
    template = CodeTemplate.objects.create(
        account=wechat_account, template_id=12, draft_id=6, user_version="2.0.0", user_desc="会员"
    )
    douyin = App.objects.create(  # a Douyin app (issue 16) in a group beside the WeChat one
        team=app.team,
        platform_account=PlatformAccount.objects.create(team=app.team, platform="douyin", name="抖音"),
        name="咖啡（抖音）",
        appid="ttcafe0001",
    )
    group = release_group_create(
        apps=[douyin, releases[-1].app],
        actor=alice,
        version="3.0.0",
        review_notes="新增积分页面，入口在 我的 > 积分。",
    )
    audit_verify_and_record()
    return {
        "release_id": [r.pk for r in releases] + [m.release_id for m in group.members.all()],
        "app_id": [app.pk, releases[-1].app_id, douyin.pk],
        "suppression_id": [suppression.pk],
        "qualification_id": [qualification.pk],
        "membership_id": [mike.memberships.get().pk],
        "team_id": [app.team_id],
        "username": [alice.username],
        "user_id": [alice.pk],
        "account_id": [
            app.platform_account_id,
            releases[-1].app.platform_account_id,
            douyin.platform_account_id,
        ],
        "token_id": [ApiToken.objects.get(key_hash=_digest(api_token_create(user=adam, name="ci"))).pk],
        "key": ["explain_to_reviewer"],
        "name": ["approve", "publish", "rollback", "rollout-revert"],
        "action": ["approve"],
        "fmt": ["csv", "json"],
        "callback_key": [releases[-1].app.platform_account.callback_key],
        "appid": [releases[-1].app.appid],
        "channel_id": [channel.pk],
        "delivery_id": [sent.pk],
        "campaign_id": [campaign.pk],
        "template_id": [template.template_id],
        "group_id": [group.pk],
        "picture_id": [picture.pk],
    }


def _screenshots(rejection):
    """The rejection's screenshots: one fetched (returned), one given up, one still being fetched."""
    from reviews.models import RejectionScreenshot
    from simulator.pictures import screenshot

    shots = [
        RejectionScreenshot(
            rejection=rejection,
            position=0,
            media_id="m1",
            state="fetched",
            content_type="image/png",
            data=screenshot("m1"),
        ),
        RejectionScreenshot(
            rejection=rejection, position=1, media_id="m2", state="failed", last_error="40007"
        ),
        RejectionScreenshot(rejection=rejection, position=2, media_id="m3"),
    ]
    RejectionScreenshot.objects.bulk_create(shots)
    type(rejection).objects.filter(pk=rejection.pk).update(screenshots=["m1", "m2", "m3"])
    return RejectionScreenshot.objects.get(rejection=rejection, position=0)


def _routes(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\{(\w+)\}")


def _fill(route: str, world: dict) -> list[str]:
    """The route with every combination of the world's values for its parameters."""
    names = [a or b for a, b in PARAM.findall(route)]
    missing = [name for name in names if name not in world]
    assert not missing, f"{route}: give the world a value for {missing} (tests/web/test_reads_never_write.py)"
    paths = [route]
    for name in names:
        slot = re.compile(rf"<(?:\w+:)?{name}>|\{{{name}\}}")
        paths = [slot.sub(str(value), path, count=1) for path in paths for value in world[name]]
    return paths


def page_paths(world: dict) -> list[str]:
    """Every page of the site (not the API, the admin or the simulator), parameters filled."""
    routes = sorted(set(_routes(get_resolver().url_patterns)))
    paths = []
    for route in routes:
        if route.startswith(NOT_OURS) or route.startswith(API_PREFIX):
            continue
        paths += ["/" + path for path in _fill(route, world)]
    return paths


def api_get_paths(world: dict) -> list[str]:
    """Every GET operation of the API, parameters filled, and its OpenAPI document."""
    paths = ["/api/v1/openapi.json"]
    for prefix, router in api._routers:
        for route, view in router.path_operations.items():
            if any("GET" in operation.methods for operation in view.operations):
                paths += ["/api/v1" + prefix + path for path in _fill(route, world)]
    return paths


def _load(client: Client, path: str, **headers):
    """GET the path and read it to the end (a streamed export writes, if at all, while streaming)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, headers=headers)
        if response.streaming:
            b"".join(response.streaming_content)
    writes = [q["sql"] for q in queries.captured_queries if WRITES.search(q["sql"])]
    return response.status_code, writes


def test_the_routes_are_enumerated_with_the_pages_that_matter(world):
    pages, reads = page_paths(world), api_get_paths(world)
    release_id = world["release_id"][1]
    for path in ("/", "/apps/", f"/releases/{release_id}/", f"/releases/{release_id}/live", "/live/overview"):
        assert path in pages
    for path in ("/audit/", "/audit/export.csv", "/analytics/", "/playbooks/", "/ping/"):
        assert path in pages
    assert f"/api/v1/releases/{release_id}" in reads and f"/api/v1/apps/{world['app_id'][0]}/limits" in reads


@pytest.mark.parametrize("username", ["vera", "mike", "adam"])
def test_no_page_writes_to_the_database_whoever_reads_it(world, username, django_user_model):
    user = django_user_model.objects.get(username=username)
    client = Client()
    client.force_login(user)
    statuses, written = {}, {}
    for path in page_paths(world) + [q for q in QUERIES if not q.startswith("/api/")]:
        statuses[path], writes = _load(client, path)
        if writes:
            written[path] = writes
    assert written == {}
    assert not {path: code for path, code in statuses.items() if code >= 500}
    answered = {path for path, code in statuses.items() if code == 200}
    for release_id in world["release_id"]:  # the release pages really ran, not a 404 in front of them
        assert {f"/releases/{release_id}/", f"/releases/{release_id}/live"} <= answered


@pytest.mark.parametrize("username", ["vera", "mike", "adam"])
def test_no_api_get_writes_to_the_database_not_even_the_tokens_last_use(world, username, django_user_model):
    token = api_token_create(user=django_user_model.objects.get(username=username))
    client = Client()
    statuses, written = {}, {}
    for path in api_get_paths(world) + [q for q in QUERIES if q.startswith("/api/")]:
        statuses[path], writes = _load(client, path, Authorization=f"Bearer {token}")
        if writes:
            written[path] = writes
    assert written == {}
    assert {path: code for path, code in statuses.items() if code != 200} == {}


def test_no_guard_and_no_action_list_writes_to_the_database(world, django_user_model):
    """What the buttons and the API's `actions` ask, asked directly: each condition of every
    transition from the release's state, the limits of the limited ones, and the action list."""
    users = list(django_user_model.objects.all())
    written = {}
    for release in Release.objects.filter(pk__in=world["release_id"]).select_related("app"):
        with CaptureQueriesContext(connection) as queries:
            for name in services.DOING:
                transition = getattr(release, name)._django_fsm.get_transition(release.state)
                for condition in transition.conditions if transition else []:
                    condition(release)
            for name in services.LIMITED_TRANSITIONS:
                transition_refusal(release, name)
            for user in users:
                actions.available_actions(release, user)
        writes = [q["sql"] for q in queries.captured_queries if WRITES.search(q["sql"])]
        if writes:
            written[f"{release} ({release.state})"] = writes
    assert written == {}
