"""Onboarding in pages (issue 15): an admin adds a platform account and sees the callback URLs to
paste, tests the connection, a release manager adds an app, members and roles are managed, and
a developer makes an API token for CI. No admin site, no API needed."""

import pytest
from django.urls import reverse

from releases.models import ApiToken, App, AuditEvent, Membership, PlatformAccount, Role
from tests.fixtures.wechat import COMPONENT_APPID, COMPONENT_SECRET, ENCODING_AES_KEY, MESSAGE_TOKEN

WECHAT = {
    "platform": "wechat",
    "name": "Acme platform",
    "component_appid": "wxcomponent777",
    "component_appsecret": "s3cret-appsecret",
    "message_token": "tok-en",
    "encoding_aes_key": "A" * 43,
}


def test_an_admin_adds_a_wechat_account_and_gets_the_callback_urls_to_paste(login, adam, team):
    client = login(adam)
    response = client.post(reverse("web:account-create", args=[team.pk]), WECHAT, follow=True)
    account = PlatformAccount.objects.get(name="Acme platform")
    assert response.redirect_chain[-1][0] == reverse("web:account", args=[account.pk])
    page = response.content.decode()
    assert f"/callbacks/wechat/{account.callback_key}/auth" in page
    assert f"/callbacks/wechat/{account.callback_key}/$APPID$/events" in page
    for secret in ("s3cret-appsecret", "tok-en", "A" * 43):
        assert secret not in page  # write-only
    assert account.component_appsecret == "s3cret-appsecret"
    event = AuditEvent.objects.get(action="platform_account_create")
    assert "s3cret" not in str(event.data)


def test_a_wechat_account_without_its_secrets_is_refused_naming_the_field(login, adam, team):
    response = login(adam).post(
        reverse("web:account-create", args=[team.pk]), {**WECHAT, "message_token": ""}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["message_token"]
    assert not PlatformAccount.objects.exists()


@pytest.mark.parametrize("username", ["mike", "vera"])
def test_only_admins_see_or_change_accounts(
    login, username, team, wechat_account, django_user_model, mike, vera
):
    client = login(django_user_model.objects.get(username=username))
    assert client.get(reverse("web:account-create", args=[team.pk])).status_code == 404
    assert client.post(reverse("web:account-create", args=[team.pk]), WECHAT).status_code == 404
    assert client.get(reverse("web:account", args=[wechat_account.pk])).status_code == 404
    assert client.post(reverse("web:account-test", args=[wechat_account.pk])).status_code == 404
    assert not PlatformAccount.objects.filter(name="Acme platform").exists()


def test_another_teams_admin_cannot_reach_the_account(login, olga, wechat_account, other_team):
    Membership.objects.filter(user=olga).update(role=Role.ADMIN)
    assert login(olga).get(reverse("web:account", args=[wechat_account.pk])).status_code == 404


def test_saving_with_empty_secrets_keeps_them_and_the_audit_names_what_changed(login, adam, wechat_account):
    client = login(adam)
    form = {
        "name": "Renamed",
        "component_appid": COMPONENT_APPID,
        "component_appsecret": "",
        "message_token": "new-token",
        "encoding_aes_key": "",
    }
    client.post(reverse("web:account", args=[wechat_account.pk]), form)
    wechat_account.refresh_from_db()
    assert (wechat_account.name, wechat_account.component_appsecret) == ("Renamed", COMPONENT_SECRET)
    assert (wechat_account.message_token, wechat_account.encoding_aes_key) == ("new-token", ENCODING_AES_KEY)
    event = AuditEvent.objects.get(action="platform_account_update")
    assert event.data["changed"] == ["message_token", "name"]
    assert "new-token" not in str(event.data) and MESSAGE_TOKEN not in str(event.data)


def test_the_connection_test_says_which_part_works(login, adam, sim):
    page = login(adam).post(reverse("web:account-test", args=[sim.account.pk])).content.decode()
    assert page.count("Works") == 2, page
    assert "issued an access token" in page


def test_the_connection_test_names_a_wrong_appsecret(login, adam, sim):
    PlatformAccount.objects.filter(pk=sim.account.pk).update(component_appsecret="wrong")
    response = login(adam).post(reverse("web:account-test", args=[sim.account.pk]))
    probes = {probe.what: probe for probe in response.context["probes"]}
    assert probes["component_verify_ticket"].ok
    assert not probes["component_access_token"].ok
    assert "errcode" in probes["component_access_token"].detail


def test_a_release_manager_adds_an_app(login, mike, manual_account):
    client = login(mike)
    form = {
        "platform_account": manual_account.pk,
        "name": "Demo Cafe",
        "appid": "wxcafe000001",
        "privacy_policy_url": "https://cafe.example.com/privacy",
        "repository_url": "https://github.com/acme/cafe",
        "categories": "餐饮 > 点餐平台\n",
    }
    response = client.post(reverse("web:app-create"), form, follow=True)
    app = App.objects.get(appid="wxcafe000001")
    assert response.redirect_chain[-1][0] == reverse("web:app-detail", args=[app.pk])
    assert (app.repository_url, app.categories) == ("https://github.com/acme/cafe", ["餐饮 > 点餐平台"])
    assert AuditEvent.objects.filter(action="app_create", app_id=app.pk).exists()
    again = client.post(reverse("web:app-create"), form)
    assert again.status_code == 400 and "already registered" in again.content.decode()


def test_a_developer_cannot_add_apps(login, alice, manual_account):
    assert login(alice).get(reverse("web:app-create")).status_code == 404


def test_members_are_added_their_roles_changed_and_removed(login, adam, team, django_user_model):
    django_user_model.objects.create_user(username="newbie", password="x")
    client = login(adam)
    client.post(reverse("web:member-add", args=[team.pk]), {"username": "newbie", "role": "developer"})
    newbie = Membership.objects.get(team=team, user__username="newbie")
    assert newbie.role == Role.DEVELOPER
    client.post(reverse("web:member-role", args=[team.pk, newbie.user_id]), {"role": "release_manager"})
    newbie.refresh_from_db()
    assert newbie.role == Role.RELEASE_MANAGER
    client.post(reverse("web:member-remove", args=[team.pk, newbie.user_id]))
    assert not Membership.objects.filter(pk=newbie.pk).exists()
    actions = list(AuditEvent.objects.filter(team_id=team.pk).values_list("action", flat=True).order_by("id"))
    assert actions[-3:] == ["member_add", "member_role_update", "member_remove"]


def test_the_last_admin_stays_an_admin(login, adam, team):
    response = login(adam).post(
        reverse("web:member-role", args=[team.pk, adam.pk]), {"role": "viewer"}, follow=True
    )
    assert Membership.objects.get(user=adam, team=team).role == Role.ADMIN
    assert "last admin" in response.content.decode()


def test_an_unknown_user_is_named_on_the_form(login, adam, team):
    response = login(adam).post(
        reverse("web:member-add", args=[team.pk]), {"username": "ghost", "role": "viewer"}
    )
    assert response.status_code == 400
    assert "No active user named" in response.content.decode()


def test_a_developer_cannot_manage_members(login, alice, team, vera):
    client = login(alice)
    client.post(reverse("web:member-role", args=[team.pk, vera.pk]), {"role": "admin"})
    assert Membership.objects.get(user=vera, team=team).role == Role.VIEWER


def test_a_token_is_shown_once_works_and_stops_when_revoked(login, alice, app, client):
    page_client = login(alice)
    response = page_client.post(reverse("web:tokens"), {"name": "GitHub Actions: shop"})
    token = response.context["new_token"]
    assert token in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert token not in page_client.get(reverse("web:tokens")).content.decode()
    assert AuditEvent.objects.filter(action="api_token_create").exists()
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/apps", headers=auth).status_code == 200
    row = ApiToken.objects.get(user=alice, name="GitHub Actions: shop")
    page_client.post(reverse("web:token-revoke", args=[row.pk]))
    assert client.get("/api/v1/apps", headers=auth).status_code == 401


def test_nobody_revokes_someone_elses_token(login, alice, mike):
    row_id = ApiToken.objects.create(user=alice, name="x", prefix="slc_x", key_hash="h" * 64).pk
    login(mike).post(reverse("web:token-revoke", args=[row_id]))
    assert ApiToken.objects.filter(pk=row_id).exists()
