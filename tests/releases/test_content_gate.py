"""The gate is bound to content (issue 11): an edit names the revision it was based on and a stale
one is refused without changing anything; a check run, checklist ticks and an approval count only
for the exact content they saw, and a transition judges the release as it is now, not as a caller
loaded it."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from releases import services
from releases.errors import Refused
from releases.models import AuditEvent, Release, State
from tests.conftest import _member

BAD = "全网最低价，销量第一"  # what the content check refuses (absolute claims)
CONTENT = ("version", "release_notes", "review_notes", "build_report", "revision", "state")


@pytest.fixture
def dora(team):
    """A second developer, editing the same release as alice."""
    return _member(team, "dora", "developer")


def _stored(release) -> tuple[dict, int]:
    """The release's content and state as stored, and the length of the audit trail."""
    return Release.objects.values(*CONTENT).get(pk=release.pk), AuditEvent.objects.count()


def _refused(call) -> Refused:
    with pytest.raises(Refused) as err:
        call()
    return err.value


def _login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _hidden_revision(html: str) -> str:
    return re.search(r'<input type="hidden" name="revision" value="(\d+)"', html).group(1)


# -- the story: a stale save must not ride on checks that another edit passed ---------------


def test_a_stale_save_cannot_ride_on_the_checks_another_edit_passed(make_release, alice, dora):
    release = make_release()
    seen_by_alice = Release.objects.get(pk=release.pk)  # both editors open revision 1
    seen_by_dora = Release.objects.get(pk=release.pk)
    services.release_update(release=seen_by_alice, actor=alice, changes={"release_notes": "Points page."})
    services.release_check(release=Release.objects.get(pk=release.pk), actor=alice)  # revision 2 passes
    before = _stored(release)

    err = _refused(
        lambda: services.release_update(release=seen_by_dora, actor=dora, changes={"release_notes": BAD})
    )

    assert (err.code, err.status) == ("stale_revision", 409)
    assert "revision 2" in err.message and "alice" in err.message
    assert _stored(release) == before
    for item in release.app.checklist:  # the last tick moves the release on: with alice's content
        services.release_confirm_check(release=release, actor=alice, key=item["key"])
    release.refresh_from_db()
    assert (release.state, release.revision, release.release_notes) == (State.CHECKED, 2, "Points page.")


def test_a_stale_patch_is_a_409_and_changes_nothing(api_client, make_release, alice, dora):
    release = make_release()
    first = api_client("patch", f"/releases/{release.pk}", user=alice, revision=1, release_notes="Points.")
    assert first.status_code == 200 and first.json()["revision"] == 2
    before = _stored(release)

    stale = api_client("patch", f"/releases/{release.pk}", user=dora, revision=1, release_notes=BAD)

    assert stale.status_code == 409
    error = stale.json()["error"]
    assert error["code"] == "stale_revision"
    assert error["details"] == {"revision": 1, "current_revision": 2}
    assert _stored(release) == before


def test_a_patch_must_name_the_revision_it_is_based_on(api_client, make_release, alice):
    release = make_release()
    before = _stored(release)
    response = api_client("patch", f"/releases/{release.pk}", user=alice, release_notes="No base given.")
    assert response.status_code == 400
    assert "revision" in response.json()["error"]["details"]
    assert _stored(release) == before


def test_a_current_patch_with_nothing_to_change_is_still_checked_against_the_revision(
    api_client, make_release, alice
):
    release = make_release(release_notes="Same.")
    services.release_update(release=release, actor=alice, changes={"release_notes": "Other."})
    stale = api_client("patch", f"/releases/{release.pk}", user=alice, revision=1, release_notes="Other.")
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_revision"
    same = api_client("patch", f"/releases/{release.pk}", user=alice, revision=2, release_notes="Other.")
    assert same.status_code == 200 and same.json()["revision"] == 2


def test_the_edit_form_refuses_a_stale_save_and_keeps_what_was_typed(make_release, alice, dora):
    release = make_release()
    url = reverse("web:release-edit", args=[release.pk])
    alice_page, dora_page = _login(alice), _login(dora)
    assert _hidden_revision(alice_page.get(url).content.decode()) == "1"
    assert _hidden_revision(dora_page.get(url).content.decode()) == "1"
    form = {"version": release.version, "review_notes": release.review_notes, "build_report": ""}
    form["revision"] = 1  # what both pages carried
    alice_page.post(url, {**form, "release_notes": "Points page."})
    before = _stored(release)

    response = dora_page.post(url, {**form, "release_notes": BAD})

    assert response.status_code == 200  # the form again, not a redirect to a saved release
    page = response.content.decode()
    assert "alice (edited it) changed this release to revision 2 while you had revision 1 open" in page
    assert "nothing was saved" in page
    assert BAD in page  # dora's text is kept, to compare and save again on purpose
    assert _hidden_revision(page) == "2"
    assert _stored(release) == before


# -- a run, ticks and an approval count for the content they saw ------------------------------------


def test_a_run_and_ticks_count_only_for_the_content_they_checked(make_release, mike):
    release = make_release(upto="approved_by_manager")
    assert release.has_passed_checks() and release.is_checklist_complete()
    # Content changed behind the services' back (a direct database write): same revision, new text.
    Release.objects.filter(pk=release.pk).update(release_notes=BAD)
    release.refresh_from_db()

    assert not release.has_passed_checks()
    assert not release.is_checklist_complete()
    assert _refused(lambda: services.release_submit(release=release, actor=mike)).code == "checks_not_passed"


def test_an_approval_from_a_page_of_an_earlier_revision_is_refused_and_reverts_nothing(
    make_release, alice, mike, tick_checklist
):
    release = make_release(upto="checked")
    seen_by_mike = Release.objects.get(pk=release.pk)  # mike opens revision 1 to approve it
    services.release_update(release=release, actor=alice, changes={"release_notes": "Rewritten."})
    release.refresh_from_db()
    tick_checklist(release, alice)
    services.release_check(release=release, actor=alice)  # revision 2 checked
    before = _stored(release)

    err = _refused(lambda: services.release_approve(release=seen_by_mike, actor=mike))

    assert err.code == "stale_revision"
    assert _stored(release) == before  # neither approved nor rolled back to revision 1's text
    assert not release.approvals.exists()


def test_the_approve_button_approves_the_revision_on_the_page_only(make_release, alice, mike, tick_checklist):
    release = make_release(upto="checked")
    manager = _login(mike)
    page = manager.get(reverse("web:release-detail", args=[release.pk])).content.decode()
    revision = _hidden_revision(page)
    services.release_update(release=release, actor=alice, changes={"release_notes": "Rewritten."})
    release.refresh_from_db()
    tick_checklist(release, alice)
    services.release_check(release=release, actor=alice)

    action = reverse("web:release-action", args=[release.pk, "approve"])
    response = manager.post(action, {"comment": "Fine.", "revision": revision}, follow=True)

    assert "stale_revision" not in response.content.decode()  # a sentence, not a code
    assert "changed this release to revision 2 while you had revision 1 open; nothing was approved" in (
        response.content.decode()
    )
    assert not release.approvals.exists()


def test_the_api_refuses_an_approval_of_a_revision_that_is_no_longer_current(
    api_client, make_release, alice, mike, tick_checklist
):
    release = make_release(upto="checked")
    services.release_update(release=release, actor=alice, changes={"release_notes": "Rewritten."})
    release.refresh_from_db()
    tick_checklist(release, alice)
    services.release_check(release=release, actor=alice)

    stale = api_client("post", f"/releases/{release.pk}/approve", user=mike, revision=1)
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_revision"
    assert not release.approvals.exists()
    current = api_client("post", f"/releases/{release.pk}/approve", user=mike, revision=2)
    assert current.status_code == 200 and current.json()["approved"] is True
