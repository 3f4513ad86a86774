"""Four eyes on content (issue 11): nobody who created or changed the content of a release approves
it, in any capacity, by override included; the guard, the pages and the API say the same."""

import pytest
from django.test import Client
from django.urls import reverse

from releases import services
from releases.errors import Forbidden
from releases.models import Approval, AuditEvent, Release, State
from tests.conftest import _member
from web.needs_action import Access, needs_action


def _forbidden(call) -> Forbidden:
    with pytest.raises(Forbidden) as err:
        call()
    return err.value


def _edited_and_checked_by(release, editor, tick_checklist) -> Release:
    """`editor` changes the notes of someone else's release, runs the checks and ticks the list."""
    services.release_update(
        release=release, actor=editor, changes={"release_notes": f"Rewritten by {editor.username}."}
    )
    release.refresh_from_db()
    tick_checklist(release, editor)
    services.release_check(release=release, actor=editor)
    release.refresh_from_db()
    assert release.state == State.CHECKED
    return release


def test_a_manager_who_changed_the_content_cannot_approve_it(make_release, mike, nina, tick_checklist):
    release = _edited_and_checked_by(make_release(), mike, tick_checklist)
    events = AuditEvent.objects.count()

    err = _forbidden(lambda: services.release_approve(release=release, actor=mike))

    assert (err.code, err.status) == ("self_approval", 403)
    assert "You changed the content of this release" in err.message
    assert not release.approvals.exists() and AuditEvent.objects.count() == events
    services.release_approve(release=release, actor=nina)  # someone who did not write it can
    assert release.is_approved()


def test_an_earlier_edit_counts_too(make_release, alice, mike, nina, tick_checklist):
    release = _edited_and_checked_by(make_release(), mike, tick_checklist)
    release = _edited_and_checked_by(release, alice, tick_checklist)  # alice rewrote mike's change
    assert _forbidden(lambda: services.release_approve(release=release, actor=mike)).code == "self_approval"
    services.release_approve(release=release, actor=nina)


def test_an_admin_who_changed_the_content_cannot_override_but_another_admin_can(
    make_release, adam, team, tick_checklist
):
    release = _edited_and_checked_by(make_release(), adam, tick_checklist)
    err = _forbidden(
        lambda: services.release_approve_override(release=release, actor=adam, reason="Urgent hotfix.")
    )
    assert err.code == "self_approval"
    assert not AuditEvent.objects.filter(action="approval_override").exists()

    other = _member(team, "ada", "admin")
    services.release_approve_override(release=release, actor=other, reason="Adam is on call; I read it.")
    event = AuditEvent.objects.get(release_id=release.pk, action="approval_override")
    assert (event.actor_name, event.data["reason"]) == ("ada", "Adam is on call; I read it.")
    assert release.is_approved()


def test_the_issues_story_through_the_api(api_client, make_release, mike):
    """A manager PATCHes a developer's release, runs the checks, ticks the list and approves alone."""
    release = make_release()
    path = f"/releases/{release.pk}"
    assert api_client("patch", path, user=mike, revision=1, release_notes="Mine now.").status_code == 200
    assert api_client("post", f"{path}/check", user=mike).status_code == 200
    for item in release.app.checklist:
        api_client("post", f"{path}/checks/{item['key']}/confirm", user=mike)
    body = api_client("get", path, user=mike).json()
    assert body["state"] == "checked"
    assert "approve" not in [a["name"] for a in body["actions"] if a["enabled"]]

    response = api_client("post", f"{path}/approve", user=mike, revision=2)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "self_approval"
    assert not Approval.objects.filter(release=release).exists()


def test_the_release_page_and_the_overview_do_not_ask_an_editor_to_approve(
    make_release, mike, nina, tick_checklist
):
    release = _edited_and_checked_by(make_release(), mike, tick_checklist)
    client = Client()
    client.force_login(mike)
    page = client.get(reverse("web:release-detail", args=[release.pk])).content.decode()
    assert "Approve revision" not in page
    assert "Neither its author nor anyone who changed its content can approve it." in page
    kinds = {item.kind for item in needs_action(Access.of(mike), mike) if item.release_id == release.pk}
    assert "approve" not in kinds
    kinds = {item.kind for item in needs_action(Access.of(nina), nina) if item.release_id == release.pk}
    assert "approve" in kinds  # nina did not touch it: she is asked
