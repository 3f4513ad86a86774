"""Onboarding by authorization (issue 14, wechat-fleet.md §1): the authorization link, the pushes
WeChat sends once an administrator confirms or revokes, the import of every authorizer, and the
refresh token WeChat refuses (61023). Against the simulated WeChat over HTTP."""

import json
import re
import time
from urllib.parse import parse_qs, urlsplit

import django_rq
import httpx
import pytest

from config.workers import SimpleWorker
from releases.models import App, AuditEvent
from reviews.authorizations import authorizers_import
from reviews.models import AuthorizerIdentity
from reviews.platforms.wechat.errors import WeChatError
from reviews.platforms.wechat.tokens import Tokens
from simulator.fleet import sim_authorize, sim_seed_authorizers, sim_unauthorize
from simulator.models import SimAuthorizer, SimPreAuthCode
from simulator.services import sim_original_id
from tests.fixtures.wechat import APPID, COMPONENT_APPID
from tests.reviews.wechat_helpers import calls


def run_jobs() -> None:
    """The simulator's pushes (default queue), then what they queue in Sluice (platform queue)."""
    queues = [django_rq.get_queue("default"), django_rq.get_queue("platform")]
    for _ in range(3):
        SimpleWorker(queues, connection=queues[0].connection).work(burst=True)


def new_pre_auth_code() -> str:
    from simulator.models import SimComponent

    component = SimComponent.objects.get(appid=COMPONENT_APPID)
    return SimPreAuthCode.objects.create(component=component, code=f"preauthcode@@@{time.time_ns()}").code


def test_an_administrator_authorizes_through_the_link_and_the_app_appears_in_the_team(
    sim, api_client, adam, team
):
    link = api_client("post", f"/platform-accounts/{sim.account.pk}/authorization-links", user=adam)
    assert link.status_code == 201, link.content
    body = link.json()
    assert set(body) == {"pc_url", "mobile_url", "pre_auth_code", "expires_at"}
    pc = urlsplit(body["pc_url"])
    assert pc.path.endswith("/cgi-bin/componentloginpage")
    assert parse_qs(pc.query)["auth_type"] == ["2"]
    assert parse_qs(pc.query)["pre_auth_code"] == [body["pre_auth_code"]]
    assert "bindcomponent" in body["mobile_url"] and body["mobile_url"].endswith("#wechat_redirect")

    with httpx.Client(follow_redirects=False) as browser:
        page = browser.get(body["pc_url"])
        assert page.status_code == 200
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        form = dict(parse_qs(pc.query, keep_blank_values=True))
        confirmed = browser.post(
            sim.url + pc.path,
            data={
                **{k: v[0] for k, v in form.items()},
                "csrfmiddlewaretoken": token,
                "appid": "wxnewshop0000001",
                "nick_name": "New Shop",
            },
            headers={"Referer": body["pc_url"]},
        )
    assert confirmed.status_code == 302
    landing = urlsplit(confirmed.headers["location"])
    assert landing.path == f"/accounts/{sim.account.pk}/authorized"
    assert "auth_code" in parse_qs(landing.query)

    run_jobs()

    app = App.objects.get(platform_account=sim.account, appid="wxnewshop0000001")
    assert (app.team_id, app.name) == (team.pk, "New Shop")
    assert app.authorizer_refresh_token == SimAuthorizer.objects.get(appid=app.appid).refresh_token
    assert app.platform_profile["permission_sets"] == [17, 18, 25]
    assert app.platform_profile["code_management"] is True
    assert app.platform_profile["principal_name"]
    assert AuthorizerIdentity.objects.get(app=app).original_id == sim_original_id(app.appid)
    audited = AuditEvent.objects.get(action="app_authorized", app_id=app.pk)
    assert audited.data["created"] is True and audited.data["source"] == "push"
    assert app.authorizer_refresh_token not in str(audited.data)
    assert calls("cgi-bin/component/api_query_auth").count() == 1


def test_a_used_authorization_link_does_not_open_again(sim):
    code = new_pre_auth_code()
    sim_authorize(component_appid=COMPONENT_APPID, pre_auth_code=code, appid="wxonce00000001")
    page = httpx.get(
        f"{sim.url}/sim/cgi-bin/componentloginpage",
        params={"component_appid": COMPONENT_APPID, "pre_auth_code": code},
    )
    assert page.status_code == 400
    assert "used already" in page.text


def test_a_reauthorization_pushes_updateauthorized_and_clears_a_lost_authorization(sim):
    lost = {"authorization_lost_at": "2026-01-01T00:00Z", "authorization_problem": "revoked"}
    App.objects.filter(pk=sim.app.pk).update(**lost)
    sim_authorize(component_appid=COMPONENT_APPID, pre_auth_code=new_pre_auth_code(), appid=APPID)
    run_jobs()

    app = App.objects.get(pk=sim.app.pk)
    assert app.authorization_lost_at is None and app.authorization_problem == ""
    assert app.name == sim.app.name  # the name people gave it stays
    assert app.authorizer_refresh_token == SimAuthorizer.objects.get(appid=APPID).refresh_token != "refresh-1"
    assert AuditEvent.objects.get(action="app_authorized", app_id=app.pk).data["created"] is False


def test_the_documented_authorized_push_is_exchanged_with_api_query_auth(sim, wechat_push):
    """The push of wechat-fleet.md §1.4, field for field; the exchange runs in a worker."""
    code = sim_authorize(
        component_appid=COMPONENT_APPID, pre_auth_code=new_pre_auth_code(), appid="wxpushed000001"
    )
    django_rq.get_queue("default").empty()  # the simulator's own push: this test sends it by hand
    now = int(time.time())
    event = {
        "AppId": COMPONENT_APPID,
        "CreateTime": now,
        "InfoType": "authorized",
        "AuthorizerAppid": "wxpushed000001",
        "AuthorizationCode": code,
        "AuthorizationCodeExpiredTime": now + 3600,
        "PreAuthCode": "preauthcode@@@used",
    }
    assert wechat_push("auth", event).content == b"success"
    assert not App.objects.filter(appid="wxpushed000001").exists()  # not in the request

    assert wechat_push("auth", event).content == b"success"  # a repeat queues nothing more
    assert django_rq.get_queue("platform").count == 1
    run_jobs()

    assert App.objects.get(appid="wxpushed000001").authorizer_refresh_token


def test_an_unauthorized_push_flags_the_app_and_a_repeat_changes_nothing(sim):
    sim_unauthorize(APPID)
    run_jobs()

    app = App.objects.get(pk=sim.app.pk)
    assert app.authorization_lost_at is not None
    assert "revoked" in app.authorization_problem
    assert AuditEvent.objects.filter(action="app_authorization_lost", app_id=app.pk).count() == 1


def test_an_authorized_push_without_a_code_changes_nothing(sim, wechat_push):
    event = {"AppId": COMPONENT_APPID, "CreateTime": int(time.time()), "InfoType": "authorized"}
    assert wechat_push("auth", {**event, "AuthorizerAppid": "wxnocode000001"}).content == b"success"
    assert django_rq.get_queue("platform").count == 0


def test_the_import_pages_through_every_authorizer_and_is_idempotent(sim):
    sim_seed_authorizers(COMPONENT_APPID, 7)  # with the fixture's app: 8 authorizers

    first = authorizers_import(account=sim.account, page_size=3)

    assert first == {"imported": 7, "updated": 1, "total": 8}
    pages = [json.loads(c.body) for c in calls("cgi-bin/component/api_get_authorizer_list")]
    assert [(p["offset"], p["count"]) for p in pages] == [(0, 3), (3, 3), (6, 3)]
    assert App.objects.filter(platform_account=sim.account).count() == 8
    assert all(a.authorizer_refresh_token for a in App.objects.filter(appid__startswith="wxfleet"))

    assert authorizers_import(account=sim.account, page_size=3) == {"imported": 0, "updated": 8, "total": 8}
    assert App.objects.filter(platform_account=sim.account).count() == 8


def test_the_import_endpoint_answers_the_counts_for_admins_only(sim, api_client, adam, mike):
    sim_seed_authorizers(COMPONENT_APPID, 2)
    path = f"/platform-accounts/{sim.account.pk}/import-authorizers"

    assert api_client("post", path, user=mike).status_code == 403
    answer = api_client("post", path, user=adam)

    assert answer.status_code == 200
    assert answer.json() == {"imported": 2, "updated": 1, "total": 3}
    audited = AuditEvent.objects.get(action="authorizers_import")
    assert (audited.actor_id, audited.data) == (adam.pk, {"imported": 2, "updated": 1, "total": 3})


def test_a_refresh_token_refused_with_61023_flags_the_app(sim):
    SimAuthorizer.objects.filter(appid=APPID).update(refresh_token="re-authorized-elsewhere")

    with pytest.raises(WeChatError) as caught:
        Tokens(sim.account).authorizer_token(sim.app)

    assert caught.value.errcode == 61023
    app = App.objects.get(pk=sim.app.pk)
    assert app.authorization_lost_at is not None
    assert "must authorize the platform again" in app.authorization_problem
    event = AuditEvent.objects.get(action="app_authorization_lost", app_id=app.pk)
    assert event.data["source"] == "token"
