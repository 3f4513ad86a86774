"""Pages served again from the cache while nothing they show has changed (releases/pagecache.py)."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from releases import services
from releases.models import Qualification
from web import generations
from web.pagecache import PLACEHOLDER


@pytest.fixture
def login():
    def make(user, **kwargs):
        client = Client(**kwargs)
        client.force_login(user)
        return client

    return make


def _detail(release) -> str:
    return reverse("web:release-detail", args=[release.pk])


def _queries(client, url) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_a_reload_with_nothing_changed_costs_no_page_query(login, make_release, alice):
    release = make_release("1.0.0")
    client = login(alice)
    rendered, first = _queries(client, _detail(release))
    served, again = _queries(client, _detail(release))
    assert served <= 3 < rendered  # session, user, memberships: what every page pays
    assert _untokened(again) == _untokened(first)


def _untokened(page: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)


def test_pages_render_every_time_when_the_cache_is_off(login, make_release, alice, settings):
    settings.PAGE_CACHE_SECONDS = 0
    release = make_release("1.0.0")
    client = login(alice)
    first, _ = _queries(client, _detail(release))
    second, _ = _queries(client, _detail(release))
    assert second == first > 3


def test_a_change_through_a_service_shows_on_the_next_load(login, make_release, alice):
    release = make_release("1.0.0", review_notes="First notes for the reviewer, long enough.")
    client = login(alice)
    assert "First notes" in client.get(_detail(release)).content.decode()
    services.release_update(
        release=release, actor=alice, changes={"review_notes": "Second notes for the reviewer, also long."}
    )
    page = client.get(_detail(release)).content.decode()
    assert "Second notes" in page and "First notes" not in page


def test_a_change_written_straight_to_a_row_shows_too(login, make_release, alice, app):
    """A worker or the admin saving a row (no request of this user involved) moves the counter."""
    client = login(alice)
    url = reverse("web:app-detail", args=[app.pk])
    assert "ICP filing 88" not in client.get(url).content.decode()
    Qualification.objects.create(
        app=app,
        kind=Qualification.Kind.choices[0][0],
        name="ICP filing 88",
        number="88",
        expires_on=timezone.localdate() + timedelta(days=200),
        created_by=alice,
    )
    assert "ICP filing 88" in client.get(url).content.decode()


def test_a_release_moving_on_shows_in_the_release_list(login, make_release, alice):
    make_release("1.0.0")
    client = login(alice)
    assert "Checked" not in _states(client.get(reverse("web:release-list")).content.decode())
    make_release("1.1.0", upto="checked")
    assert "Checked" in _states(client.get(reverse("web:release-list")).content.decode())


def _states(page: str) -> str:
    return " ".join(re.findall(r'class="badge tone-[^"]*"[^>]*>([^<]+)<', page))


def test_each_user_gets_their_own_page(login, make_release, alice, mike):
    release = make_release("1.0.0", upto="checked")
    author_page = login(alice).get(_detail(release)).content.decode()
    manager_page = login(mike).get(_detail(release)).content.decode()
    assert "Signed in" in author_page and ">alice<" in author_page
    assert ">mike<" in manager_page and ">alice<" not in manager_page.split("</header>")[0]
    assert "Approve revision 1" in manager_page


def test_a_cached_page_carries_the_requesters_own_csrf_token(login, make_release, alice):
    release = make_release("1.0.0")
    login(alice, enforce_csrf_checks=True).get(_detail(release))  # stored by one session
    other = login(alice, enforce_csrf_checks=True)
    page = other.get(_detail(release)).content.decode()  # served to another
    assert PLACEHOLDER not in page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    switched = other.post(
        reverse("web:language"), {"csrfmiddlewaretoken": token, "language": "zh-hans", "next": "/"}
    )
    assert switched.status_code == 302


def test_flash_messages_show_once_and_are_never_stored(login, make_release, alice):
    release = make_release("1.0.0")
    client = login(alice)
    client.get(_detail(release))
    after = client.post(reverse("web:release-action", args=[release.pk, "check"]), follow=True)
    assert 'class="messages"' in after.content.decode()
    assert 'class="messages"' not in client.get(_detail(release)).content.decode()


def test_the_page_moves_on_with_the_clock(login, alice, time_machine):
    time_machine.move_to(timezone.now().replace(second=5), tick=False)
    client = login(alice)
    first = client.get("/").content.decode()
    time_machine.shift(timedelta(minutes=1))
    second = client.get("/").content.decode()
    assert re.search(r'<time datetime="([^"]+)"', first).group(1) != re.search(
        r'<time datetime="([^"]+)"', second
    ).group(1)


def test_the_language_is_part_of_the_key(login, alice):
    client = login(alice)
    assert "Overview" in client.get("/").content.decode()
    client.post(reverse("web:language"), {"language": "zh-hans", "next": "/"})
    assert "概览" in client.get("/").content.decode()


def test_the_api_answer_changes_with_the_release(api_client, make_release, alice):
    release = make_release("1.0.0", review_notes="First notes for the reviewer, long enough.")
    path = f"/releases/{release.pk}"
    assert api_client("get", path, user=alice).json()["review_notes"].startswith("First")
    services.release_update(
        release=release, actor=alice, changes={"review_notes": "Second notes for the reviewer, also long."}
    )
    assert api_client("get", path, user=alice).json()["review_notes"].startswith("Second")


def test_a_committed_change_moves_its_teams_counter_only(make_release, team, other_team, app):
    before = generations.current([team.pk]), generations.current([other_team.pk])
    make_release("1.0.0")
    after = generations.current([team.pk]), generations.current([other_team.pk])
    assert after[0] != before[0]
    assert after[1] == before[1]


def test_review_polling_bookkeeping_leaves_the_pages_alone(make_release, team):
    from reviews.models import ReviewWatch

    release = make_release("1.0.0")
    before = generations.current([team.pk])
    ReviewWatch.objects.create(release=release, next_poll_at=timezone.now())
    assert generations.current([team.pk]) == before


def test_a_rejection_reads_as_lines_not_br_tags(login, make_release, alice, mike):
    release = make_release("1.0.0", upto="submitted")
    reason = "1:服务类目不符<br>(1):请选择与内容相符的类目<br/><script>x</script>"
    services.release_record_outcome(release=release, actor=mike, outcome="rejected", reason=reason)
    page = login(alice).get(_detail(release)).content.decode()
    alert = page.split('id="platform-reason-title"')[1].split("</section>")[0]
    assert "&lt;br" not in alert and "<br" not in alert
    assert "1:服务类目不符\n(1):请选择与内容相符的类目\n&lt;script&gt;" in alert


def test_an_api_answer_is_never_served_to_another_user(api_client, make_release, alice, olga):
    release = make_release("1.0.0")
    path = f"/releases/{release.pk}"
    assert api_client("get", path, user=alice).status_code == 200
    assert api_client("get", path, user=olga).status_code == 404  # another team: still refused
    assert api_client("get", path).status_code == 401


@pytest.fixture
def cache_down():
    """The cache server unreachable: every call of the cache backend fails as Redis's would."""
    from unittest import mock

    from django.core.cache import caches

    backend = type(caches["default"])
    down = mock.Mock(side_effect=ConnectionError("Connection refused"))
    names = ("get", "set", "add", "incr", "get_many")
    with mock.patch.multiple(backend, **{name: down for name in names}):
        yield down


def test_with_the_cache_down_writes_succeed_and_pages_render(login, make_release, alice, cache_down):
    release = make_release("1.0.0", review_notes="First notes for the reviewer, long enough.")
    services.release_update(
        release=release, actor=alice, changes={"review_notes": "Second notes for the reviewer, also long."}
    )
    page = login(alice).get(_detail(release))
    assert page.status_code == 200 and "Second notes" in page.content.decode()
    assert cache_down.called
