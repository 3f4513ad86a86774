"""Every release of my teams in one filterable list (web/release_list.py)."""

from releases import services
from releases.models import App, Release, State

LIST = "/releases/"


# -- the release list -------------------------------------------------------------------------


def test_the_release_list_needs_a_login(client):
    assert client.get(LIST).url == f"/login/?next={LIST}"


def test_it_lists_the_releases_of_my_teams_only_newest_first(login, make_release, alice, olga, other_app):
    make_release("1.0.0")
    make_release("1.1.0")
    services.release_create(app=other_app, actor=olga, version="9.9.9")
    response = login(alice).get(LIST)
    assert [r.version for r in response.context["page"]] == ["1.1.0", "1.0.0"]
    assert "9.9.9" not in response.content.decode()


def test_it_filters_by_state_app_and_text(login, make_release, alice, app, manual_account):
    other = App.objects.create(
        team=app.team, platform_account=manual_account, name="Blog", appid="wxblog0001"
    )
    make_release("1.0.0", upto="submitted")
    make_release("1.1.0")
    make_release("2.0.0", app=other)
    client = login(alice)

    def versions(query: str) -> list[str]:
        return sorted(r.version for r in client.get(f"{LIST}?{query}").context["page"])

    assert versions("state=draft") == ["1.1.0", "2.0.0"]
    assert versions("state=submitted") == ["1.0.0"]
    assert versions(f"app={other.pk}") == ["2.0.0"]
    assert versions(f"state=draft&app={app.pk}") == ["1.1.0"]
    assert versions("q=blog") == ["2.0.0"]
    assert versions("q=1.1") == ["1.1.0"]
    assert versions("state=nonsense") == ["1.0.0", "1.1.0", "2.0.0"]  # an unknown state is ignored
    page = client.get(f"{LIST}?state=draft").content.decode()
    assert '<option value="draft" selected>Draft</option>' in page
    assert '<h1>Releases <span class="muted">· Draft</span></h1>' in page


def test_filtering_by_another_teams_app_is_a_404(login, alice, other_app):
    assert login(alice).get(f"{LIST}?app={other_app.pk}").status_code == 404


def test_it_pages_fifty_at_a_time_keeping_the_filter(login, app, alice):
    Release.objects.bulk_create(
        Release(app=app, version=f"1.0.{n}", author=alice, state=State.DRAFT) for n in range(60)
    )
    client = login(alice)
    first = client.get(f"{LIST}?state=draft")
    assert len(first.context["page"].object_list) == 50
    assert '<a href="?state=draft&amp;page=2" rel="next">Older →</a>' in first.content.decode()
    second = client.get(f"{LIST}?state=draft&page=2")
    assert len(second.context["page"].object_list) == 10


def test_the_release_list_runs_a_fixed_number_of_queries(
    login, app, alice, manual_account, django_assert_max_num_queries
):
    client = login(alice)
    Release.objects.create(app=app, version="0.0.1", author=alice)
    with django_assert_max_num_queries(6):
        assert client.get(f"{LIST}?app={app.pk}").status_code == 200
    apps = App.objects.bulk_create(
        App(team=app.team, platform_account=manual_account, name=f"App {n}", appid=f"wxl{n}")
        for n in range(30)
    )
    Release.objects.bulk_create(
        Release(app=a, version=f"1.{k}.0", author=alice, state=State.DRAFT) for a in apps for k in range(10)
    )
    with django_assert_max_num_queries(6):
        assert client.get(f"{LIST}?app={app.pk}").status_code == 200
    with django_assert_max_num_queries(6):
        assert client.get(f"{LIST}?state=draft&q=App&page=3").status_code == 200
