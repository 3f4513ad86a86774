"""The simulated WeChat for fleets (wechat-fleet.md §1-§3), over HTTP as Sluice sees it: its
answers, its errcodes, the recorded commit and the experience QR code."""

import json

import httpx
import pytest

from reviews.platforms.wechat.tokens import Tokens
from simulator.fleet import sim_add_draft, sim_seed_authorizers
from simulator.models import SimAuthorizer, SimComponent, SimTemplate
from tests.fixtures.wechat import APPID, COMPONENT_APPID


@pytest.fixture
def wechat(sim):
    """post(path, body, token="component"|"app") and get(path, token, **params) against /sim."""
    tokens = Tokens(sim.account)

    def token(kind):
        return tokens.component_token() if kind == "component" else tokens.authorizer_token(sim.app)

    def post(path, body, kind="component"):
        key = "component_access_token" if path.startswith("cgi-bin") else "access_token"
        return httpx.post(f"{sim.url}/sim/{path}", params={key: token(kind)}, content=json.dumps(body)).json()

    def get(api, kind="component", **params):
        return httpx.get(f"{sim.url}/sim/{api}", params={"access_token": token(kind), **params})

    return type("WeChat", (), {"post": staticmethod(post), "get": staticmethod(get)})


def test_the_authorizer_list_pages_and_refuses_a_page_over_500(wechat):
    sim_seed_authorizers(COMPONENT_APPID, 4)

    page = wechat.post(
        "cgi-bin/component/api_get_authorizer_list",
        {"component_appid": COMPONENT_APPID, "offset": 3, "count": 2},
    )

    assert page["total_count"] == 5
    assert [a["authorizer_appid"] for a in page["list"]] == ["wxfleet00000002", "wxfleet00000003"]
    assert all(a["refresh_token"] and a["auth_time"] for a in page["list"])
    too_many = {"component_appid": COMPONENT_APPID, "offset": 0, "count": 501}
    assert wechat.post("cgi-bin/component/api_get_authorizer_list", too_many)["errcode"] == 40097


def test_an_unknown_authorization_code_is_61009(wechat):
    answer = wechat.post(
        "cgi-bin/component/api_query_auth", {"component_appid": COMPONENT_APPID, "authorization_code": "nope"}
    )
    assert answer["errcode"] == 61009


def test_the_library_holds_at_most_200_and_a_missing_draft_is_85064(wechat):
    draft = sim_add_draft(COMPONENT_APPID, "2.0.0")
    assert wechat.post("wxa/addtotemplate", {"draft_id": draft.draft_id + 1})["errcode"] == 85064
    assert wechat.post("wxa/addtotemplate", {"draft_id": draft.draft_id})["errcode"] == 0
    component = SimComponent.objects.get(appid=COMPONENT_APPID)
    SimTemplate.objects.bulk_create(
        SimTemplate(component=component, template_id=5000 + n, draft_id=1, user_version="x")
        for n in range(199)
    )

    assert wechat.post("wxa/addtotemplate", {"draft_id": draft.draft_id})["errcode"] == 85065
    listed = wechat.get("wxa/gettemplatelist", template_type=0).json()["template_list"]
    assert len(listed) == 200 and listed[0]["user_version"] == "2.0.0"
    assert wechat.post("wxa/deletetemplate", {"template_id": 424242})["errcode"] == 85064


def test_commit_records_the_template_and_the_ext_json_string(wechat):
    sim_add_draft(COMPONENT_APPID, "3.0.0")
    wechat.post("wxa/addtotemplate", {"draft_id": 1})
    template_id = SimTemplate.objects.get().template_id
    ext = json.dumps({"extAppid": APPID, "ext": {"merchant": "咖啡"}}, ensure_ascii=False)
    body = {"template_id": template_id, "ext_json": ext, "user_version": "3.0.0", "user_desc": "d"}

    assert wechat.post("wxa/commit", {**body, "ext_json": {"ext": {}}}, "app")["errcode"] == 47001
    assert wechat.post("wxa/commit", {**body, "ext_json": "{not json"}, "app")["errcode"] == 85048
    assert wechat.post("wxa/commit", {**body, "template_id": template_id + 9}, "app")["errcode"] == 85014
    assert wechat.post("wxa/commit", body, "app")["errcode"] == 0

    authorizer = SimAuthorizer.objects.get(appid=APPID)
    assert (authorizer.trial_template_id, json.loads(authorizer.trial_ext_json)["ext"]) == (
        template_id,
        {"merchant": "咖啡"},
    )


def test_the_experience_qr_code_is_an_image_after_a_commit(wechat):
    before = wechat.get("wxa/get_qrcode", "app")
    assert before.headers["content-type"].startswith("application/json") and before.json()["errcode"] == 86001

    wechat.post(
        "wxa/commit", {"template_id": 1, "ext_json": "{}", "user_version": "1.0.1", "user_desc": ""}, "app"
    )
    image = wechat.get("wxa/get_qrcode", "app", path="pages/index/index?from=qa")

    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")


def test_the_adapter_fetches_the_qr_code_as_bytes_and_names_the_error_before_a_commit(sim):
    from releases.platforms import adapter_for
    from reviews.platforms.wechat.errors import WeChatError

    adapter = adapter_for(sim.account)
    with pytest.raises(WeChatError) as caught:
        adapter.get_qrcode(sim.app)
    assert caught.value.errcode == 86001

    adapter.commit(sim.app, template_id="1", ext_json="{}", user_version="1.0.2", user_desc="qa")
    assert adapter.get_qrcode(sim.app, "pages/index/index").startswith(b"\x89PNG")
