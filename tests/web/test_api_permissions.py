"""Who may do what is decided before the state of things: a viewer gets 403 whatever the release's
state or the body, another team's account is a 404, secrets of the callback URL stay with admins,
and a suppression cannot be forever."""

import datetime

import pytest
from django.utils import timezone

from releases import services
from releases.models import App, CheckSuppression, PlatformAccount
from tests.web.conftest import error_code

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@pytest.mark.parametrize("upto", ["draft", "checked", "submitted"])
@pytest.mark.parametrize("action", ["check", "submit", "send-back", "publish", "cancel", "override-approval"])
def test_a_viewer_gets_403_for_every_action_in_every_state(api, make_release, vera, upto, action):
    release = make_release(upto=upto)
    response = api("post", f"/releases/{release.pk}/{action}", user=vera)
    assert response.status_code == 403, response.content
    assert error_code(response) == "forbidden"


def test_a_developer_asking_to_submit_a_draft_is_told_it_is_not_theirs_to_do(api, make_release, alice):
    release = make_release()
    response = api("post", f"/releases/{release.pk}/submit", user=alice)
    assert response.status_code == 403


def test_the_author_still_hears_self_approval(api, app, mike):
    release = services.release_create(app=app, actor=mike, version="5.0.0")
    response = api("post", f"/releases/{release.pk}/approve", user=mike)
    assert response.status_code == 403
    assert error_code(response) == "self_approval"


def test_naming_another_teams_platform_account_is_a_404(api, mike, app, other_app):
    response = api(
        "post",
        "/apps",
        user=mike,
        name="Stolen",
        appid="wxstolen01",
        platform_account=other_app.platform_account_id,
    )
    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert not App.objects.filter(appid="wxstolen01").exists()


def test_an_appid_or_account_name_already_taken_is_a_409(api, adam, app, manual_account):
    taken = api("post", "/apps", user=adam, name="Again", appid=app.appid, platform_account=manual_account.pk)
    assert taken.status_code == 409
    assert error_code(taken) == "appid_taken"
    again = api("post", "/platform-accounts", user=adam, platform="manual", name=manual_account.name)
    assert again.status_code == 409
    assert error_code(again) == "name_taken"


def test_a_suppression_cannot_last_forever(api, mike, app):
    response = api(
        "post",
        f"/apps/{app.pk}/suppressions",
        user=mike,
        key="privacy_policy",
        reason="r",
        expires_on="9999-12-31",
    )
    assert response.status_code == 400
    assert error_code(response) == "invalid_date"
    assert not CheckSuppression.objects.exists()
    in_a_month = (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
    ok = api(
        "post",
        f"/apps/{app.pk}/suppressions",
        user=mike,
        key="privacy_policy",
        reason="r",
        expires_on=in_a_month,
    )
    assert ok.status_code == 201


def test_only_admins_see_the_callback_urls_that_carry_the_callback_key(api, adam, vera, alice, team):
    PlatformAccount.objects.create(
        team=team,
        platform="wechat",
        name="Agency",
        component_appid="wxcomponent01",
        component_appsecret="s",
        message_token="t",
        encoding_aes_key=AES_KEY,
    )
    key = PlatformAccount.objects.get(name="Agency").callback_key
    for user in (vera, alice):
        response = api("get", "/platform-accounts", user=user)
        assert key not in response.content.decode(), user
        assert all(a["callback_urls"] is None for a in response.json()["results"])
    assert key in api("get", "/platform-accounts", user=adam).content.decode()
