"""Fleets in pages (issue 14): the account page's authorization link with its QR codes and the
authorizer import, the template library page, and an app's tags."""

import django_rq
from django.test import Client

from releases.models import App
from reviews.models import CodeTemplate
from simulator.fleet import sim_add_draft
from tests.fixtures.wechat import COMPONENT_APPID


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_admin_gets_an_authorization_link_with_two_inline_qr_codes(sim, adam):
    page = logged_in(adam).post(f"/accounts/{sim.account.pk}/authorization-link")

    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('<svg width="') == 2 and "<script" not in html.split("<svg", 1)[1].split("</svg>")[0]
    assert "componentloginpage?component_appid=" in html and "bindcomponent" in html
    assert "Content-Security-Policy" in page.headers


def test_only_admins_of_the_team_see_the_link_and_the_import(sim, mike, olga):
    for user in (mike, olga):
        client = logged_in(user)
        assert client.post(f"/accounts/{sim.account.pk}/authorization-link").status_code == 404
        assert client.post(f"/accounts/{sim.account.pk}/import").status_code == 404


def test_the_import_button_queues_the_import_job(sim, adam):
    page = logged_in(adam).post(f"/accounts/{sim.account.pk}/import", follow=True)

    assert page.status_code == 200
    (job,) = django_rq.get_queue("platform").jobs
    assert job.func_name == "reviews.jobs.import_authorizers" and job.args == (sim.account.pk,)


def test_the_redirect_landing_page_changes_nothing_and_needs_no_login(sim):
    page = Client().get(f"/accounts/{sim.account.pk}/authorized?auth_code=abc&expires_in=600")
    assert page.status_code == 200 and "Authorization received" in page.content.decode()


def test_the_template_page_syncs_and_adds_a_draft(sim, mike, vera):
    sim_add_draft(COMPONENT_APPID, "4.2.0", "loyalty")
    manager = logged_in(mike)
    manager.post(f"/accounts/{sim.account.pk}/templates/sync")
    manager.post(f"/accounts/{sim.account.pk}/templates/add", {"draft_id": 1})

    page = logged_in(vera).get(f"/accounts/{sim.account.pk}/templates").content.decode()

    template = CodeTemplate.objects.get(account=sim.account)
    assert (template.user_version, template.user_desc) == ("4.2.0", "loyalty")
    assert "4.2.0" in page and "Add to the library" not in page  # a viewer reads, does not change
    assert logged_in(vera).post(f"/accounts/{sim.account.pk}/templates/sync").status_code == 404


def test_tags_are_typed_comma_separated_on_the_app_page_and_filter_the_list(app, mike):
    client = logged_in(mike)
    client.post(f"/apps/{app.pk}/tags", {"tags": "retail, tier-1 ,, east"})

    assert sorted(App.objects.get(pk=app.pk).tags.values_list("name", flat=True)) == [
        "east",
        "retail",
        "tier-1",
    ]
    assert "tier-1" in client.get(f"/apps/{app.pk}/").content.decode()
    assert f"/apps/{app.pk}/" in client.get("/apps/?tag=east").content.decode()
    assert f"/apps/{app.pk}/" not in client.get("/apps/?tag=west").content.decode()
