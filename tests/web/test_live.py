"""The endpoints open pages poll to update themselves, and the stamps they compare (web/live.py)."""

from datetime import UTC

from django.urls import reverse

from releases import services
from tests.conftest import GOOD_NOTES
from web.live import overview_stamp, release_stamp

# -- the release page's live endpoint ------------------------------------------------------------


def _live(release) -> str:
    return reverse("web:release-live", args=[release.pk])


def test_the_live_endpoint_needs_a_login_and_hides_other_teams_releases(client, login, make_release, olga):
    release = make_release()
    assert client.get(_live(release)).status_code == 302
    assert login(olga).get(_live(release)).status_code == 404
    assert login(olga).get(reverse("web:release-live", args=[999999])).status_code == 404


def test_the_live_endpoint_answers_the_state_and_a_stamp_that_moves_with_every_change(
    login, make_release, alice, mike
):
    release = make_release("1.0.0", upto="submitted")
    client = login(alice)
    first = client.get(_live(release))
    assert first["Cache-Control"] == "no-store"
    answer = first.json()
    assert (answer["state"], answer["state_label"]) == ("submitted", "In review")
    services.release_record_outcome(release=release, actor=mike, outcome="rejected", reason="隐私政策不完善")
    after = client.get(_live(release)).json()
    assert after["state"] == "rejected"
    assert after["stamp"] != answer["stamp"]
    assert client.get(_live(release)).json()["stamp"] == after["stamp"]  # nothing changed since


def test_the_stamp_moves_when_an_approval_or_a_tick_is_recorded_without_a_state_change(
    make_release, alice, mike, app
):
    draft = make_release("1.0.0")
    before = release_stamp(alice, draft.pk)["stamp"]
    services.release_confirm_check(release=draft, actor=alice, key=app.checklist[0]["key"])
    assert release_stamp(alice, draft.pk)["stamp"] != before
    checked = make_release("1.1.0", upto="checked")
    before = release_stamp(alice, checked.pk)["stamp"]
    services.release_approve(release=checked, actor=mike)
    assert release_stamp(alice, checked.pk)["state"] == "checked"
    assert release_stamp(alice, checked.pk)["stamp"] != before


def test_the_live_endpoint_runs_a_fixed_number_of_queries(
    login, make_release, alice, mike, django_assert_max_num_queries
):
    make_release("0.9.0", upto="published")  # something to roll back to
    release = make_release("1.0.0", upto="published")
    client = login(alice)
    with django_assert_max_num_queries(4):  # session, user, memberships, the release
        client.get(_live(release))
    for n in range(5):
        make_release(f"2.{n}.0", upto="checked")
    services.release_rollback(release=release, actor=mike, reason="checkout broken")
    with django_assert_max_num_queries(4):
        assert client.get(_live(release)).json()["state"] == "rolled_back"


def test_the_release_page_carries_its_stamp_and_the_live_script(login, make_release, alice):
    release = make_release()
    page = login(alice).get(reverse("web:release-detail", args=[release.pk])).content.decode()
    stamp = release_stamp(alice, release.pk)["stamp"]
    assert f'data-live-url="{_live(release)}" data-live-stamp="{stamp}"' in page
    assert '<p class="visually-hidden" role="status" aria-live="polite" data-live-status></p>' in page
    assert '<script src="/static/js/live.js" defer></script>' in page


def test_a_live_refresh_leaves_the_flash_messages_for_the_next_page(login, make_release, alice):
    release = make_release(review_notes=GOOD_NOTES)
    client = login(alice)
    client.post(reverse("web:release-action", args=[release.pk, "check"]))
    url = reverse("web:release-detail", args=[release.pk])
    live = client.get(url, headers={"X-Sluice-Live": "1"}).content.decode()
    assert 'class="messages"' not in live
    assert 'class="messages"' in client.get(url).content.decode()


# -- the overview's live endpoint -------------------------------------------------------------------


def test_the_overview_stamp_moves_with_my_teams_events_only(
    login, make_release, alice, olga, other_app, client
):
    assert client.get(reverse("web:overview-live")).status_code == 302
    release = make_release()
    mine = login(alice)
    before = mine.get(reverse("web:overview-live")).json()["stamp"]
    services.release_create(app=other_app, actor=olga, version="9.9.9")
    assert mine.get(reverse("web:overview-live")).json()["stamp"] == before
    services.release_update(release=release, actor=alice, changes={"release_notes": "New text."})
    assert mine.get(reverse("web:overview-live")).json()["stamp"] != before


def test_the_open_overview_carries_the_stamp_its_live_endpoint_answers(login, make_release, alice, olga):
    """The page reads the stamp from its own recent events: equal to /live/overview's, so an open
    overview reloads after a change of the team's and not before."""
    make_release(upto="checked")
    client = login(alice)
    stamp = client.get(reverse("web:overview-live")).json()["stamp"]
    assert f'data-live-stamp="{stamp}"' in client.get(reverse("web:dashboard")).content.decode()
    assert 'data-live-stamp="0|' in login(olga).get(reverse("web:dashboard")).content.decode()


def test_the_overview_stamp_also_moves_every_five_minutes_so_countdowns_stay_current(alice, app):
    from datetime import datetime, timedelta

    noon = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert overview_stamp(alice, noon) == overview_stamp(alice, noon + timedelta(minutes=4, seconds=59))
    assert overview_stamp(alice, noon) != overview_stamp(alice, noon + timedelta(minutes=5))


def test_the_overview_live_endpoint_runs_a_fixed_number_of_queries(
    login, make_release, alice, django_assert_max_num_queries
):
    client = login(alice)
    with django_assert_max_num_queries(4):  # session, user, memberships, the newest event
        client.get(reverse("web:overview-live"))
    for n in range(5):
        make_release(f"2.{n}.0", upto="checked")
    with django_assert_max_num_queries(4):
        client.get(reverse("web:overview-live"))
