"""Every page about one app or one release costs the same number of queries for one app with a
few releases as for many apps with many: the bounds below hold on small and larger data."""

import pytest

from releases.group_services import release_group_create
from releases.models import App, Release, State
from releases.tokens import api_token_create
from tests.web.test_overview import populate

APP_LIST_QUERIES = 6
APP_PAGE_QUERIES = 20
RELEASE_PAGE_QUERIES = 20
API_RELEASE_QUERIES = 14
API_RELEASE_LIST_QUERIES = 6

SIZES = [(1, 10), (30, 40)]


def _busiest_app():
    return App.objects.filter(name__startswith="Bulk").order_by("pk").first()


@pytest.mark.parametrize("apps, per_app", SIZES)
def test_the_app_list_runs_a_fixed_number_of_queries_whatever_the_number_of_apps(
    login, team, alice, mike, nina, django_assert_max_num_queries, apps, per_app
):
    populate(team, [alice, mike, nina], apps=apps, per_app=per_app)
    client = login(mike)
    with django_assert_max_num_queries(APP_LIST_QUERIES):
        response = client.get("/apps/")
    assert response.status_code == 200
    rows = response.context["apps"]
    assert len(rows) == min(apps, 50)
    assert all(row.release_count == per_app for row in rows)


def test_the_app_list_pages_by_fifty_and_finds_an_app_by_name(login, team, alice, mike, nina):
    populate(team, [alice, mike, nina], apps=60, per_app=1)
    client = login(mike)
    first = client.get("/apps/")
    assert len(first.context["apps"]) == 50 and first.context["page"].paginator.count == 60
    assert 'href="?page=2"' in first.content.decode()
    assert len(client.get("/apps/?page=2").context["apps"]) == 10
    found = client.get("/apps/?q=app+007")
    assert [row.name for row in found.context["apps"]] == ["Bulk app 007"]
    assert "No app matches" in client.get("/apps/?q=nothing-like-this").content.decode()


@pytest.mark.parametrize("apps, per_app", SIZES)
def test_the_app_page_runs_a_fixed_number_of_queries_whatever_the_data(
    login, team, alice, mike, nina, django_assert_max_num_queries, apps, per_app
):
    populate(team, [alice, mike, nina], apps=apps, per_app=per_app)
    app = _busiest_app()
    client = login(mike)
    with django_assert_max_num_queries(APP_PAGE_QUERIES):
        response = client.get(f"/apps/{app.pk}/")
    assert response.status_code == 200
    assert len(response.context["members"]) == 3


@pytest.mark.parametrize("apps, per_app", SIZES)
@pytest.mark.parametrize("state", [State.REJECTED, State.PUBLISHED, State.CHECKED])
def test_the_release_page_runs_a_fixed_number_of_queries_whatever_the_data(
    login, team, alice, mike, nina, django_assert_max_num_queries, apps, per_app, state
):
    populate(team, [alice, mike, nina], apps=apps, per_app=per_app)
    release = Release.objects.filter(app=_busiest_app(), state=state).order_by("-pk").first()
    client = login(mike)
    with django_assert_max_num_queries(RELEASE_PAGE_QUERIES):
        response = client.get(f"/releases/{release.pk}/")
    assert response.status_code == 200
    with django_assert_max_num_queries(API_RELEASE_QUERIES):
        answer = client.get(
            f"/api/v1/releases/{release.pk}",
            headers={"Authorization": f"Bearer {api_token_create(user=mike)}"},
        )
    assert answer.status_code == 200 and answer.json()["state"] == state


@pytest.mark.parametrize("apps, per_app", [(1, 10), (3, 120)])
def test_the_api_release_list_runs_a_fixed_number_of_queries_and_pages_by_fifty(
    client, team, alice, mike, nina, django_assert_max_num_queries, apps, per_app
):
    populate(team, [alice, mike, nina], apps=apps, per_app=per_app)
    app = _busiest_app()
    headers = {"Authorization": f"Bearer {api_token_create(user=mike)}"}
    with django_assert_max_num_queries(API_RELEASE_LIST_QUERIES):
        answer = client.get(f"/api/v1/apps/{app.pk}/releases", headers=headers)
    assert answer.status_code == 200
    body = answer.json()
    assert len(body["results"]) == min(per_app, 50)
    newest = Release.objects.filter(app=app).order_by("-created_at", "-pk").first()
    assert body["results"][0]["id"] == newest.pk
    seen = [row["id"] for row in body["results"]]
    while body["next"]:
        body = client.get(body["next"], headers=headers).json()
        seen += [row["id"] for row in body["results"]]
    assert sorted(seen) == sorted(Release.objects.filter(app=app).values_list("pk", flat=True))


def test_the_api_release_list_says_whether_each_release_is_approved(client, make_release, mike):
    approved = make_release("1.0.0", upto="approved_by_manager")
    draft = make_release("1.1.0")
    headers = {"Authorization": f"Bearer {api_token_create(user=mike)}"}
    listed = client.get(f"/api/v1/apps/{draft.app_id}/releases", headers=headers).json()
    rows = {r["id"]: r for r in listed["results"]}
    full = client.get(f"/api/v1/releases/{approved.pk}", headers=headers).json()
    assert rows[approved.pk]["approved"] is full["approved"] is True
    assert rows[draft.pk]["approved"] is False
    assert rows[draft.pk]["url"] == f"/api/v1/releases/{draft.pk}"
    assert listed["next"] is None


def test_a_release_in_a_group_links_its_group_and_the_other_platforms_within_the_same_cap(
    login, alice, mike, wechat_app, douyin_app, django_assert_max_num_queries
):
    group = release_group_create(apps=[wechat_app, douyin_app], actor=alice, version="2.0.0")
    mine, other = (m.release for m in group.members.order_by("release__app__name"))
    client = login(mike)
    with django_assert_max_num_queries(RELEASE_PAGE_QUERIES):
        page = client.get(f"/releases/{other.pk}/").content.decode()
    assert f'href="/release-groups/{group.pk}/"' in page
    assert 'data-platform="douyin"' in page and f'href="/releases/{mine.pk}/"' in page
