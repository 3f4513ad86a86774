"""A Douyin platform account through the API and the account page: its four credentials, write-only,
and the two callback URLs Douyin pushes to (one message URL for every app: the AppId is signed)."""

from django.urls import reverse

from releases.models import PlatformAccount

DOUYIN = {
    "platform": "douyin",
    "name": "Acme on Douyin",
    "component_appid": "tt5823bf96d3bd56c7",
    "component_appsecret": "douyin-s3cret",
    "message_token": "QDG6eK",
    "encoding_aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
}


def test_an_admin_adds_a_douyin_account_through_the_api_and_gets_its_callback_urls(api, adam, team):
    response = api("post", "/platform-accounts", user=adam, **DOUYIN)
    assert response.status_code == 201, response.content
    body = response.json()
    account = PlatformAccount.objects.get(pk=body["id"])
    assert body["platform"] == "douyin"
    assert body["callback_urls"]["authorization"].endswith(f"/callbacks/douyin/{account.callback_key}/auth")
    assert body["callback_urls"]["messages"].endswith(f"/callbacks/douyin/{account.callback_key}/events")
    assert all(body["secrets_set"].values())
    assert "douyin-s3cret" not in response.content.decode()
    assert account.component_appsecret == "douyin-s3cret"


def test_a_douyin_account_without_its_key_is_a_400_and_nothing_is_stored(api, adam, team):
    response = api("post", "/platform-accounts", user=adam, **{**DOUYIN, "encoding_aes_key": "short"})
    assert response.status_code in (400, 422)
    assert not PlatformAccount.objects.exists()


def test_the_account_page_adds_a_douyin_account_and_shows_the_douyin_urls(login, adam, team):
    response = login(adam).post(reverse("web:account-create", args=[team.pk]), DOUYIN, follow=True)
    account = PlatformAccount.objects.get(name="Acme on Douyin")
    page = response.content.decode()
    assert f"/callbacks/douyin/{account.callback_key}/events" in page
    assert "Douyin console" in page
    assert "douyin-s3cret" not in page
