"""Approvals: a per-app policy of capacities, never by the author, voided by edits, admin override."""

import pytest

from releases import app_services, services
from releases.errors import Forbidden, Invalid, Refused
from releases.models import AuditEvent, Membership, Release, State
from tests.conftest import GOOD_REPORT


@pytest.fixture
def qa_policy(app, adam):
    app_services.app_set_approval_policy(app=app, actor=adam, required=["qa"])
    app.refresh_from_db()
    return app


@pytest.fixture
def quinn(team, adam):
    """A developer who approves as QA."""
    from tests.conftest import _member

    user = _member(team, "quinn", "developer")
    app_services.member_set_capacities(team_id=team.pk, actor=adam, user=user, capacities=["qa"])
    return user


def _refused(call):
    with pytest.raises((Refused, Forbidden, Invalid)) as err:
        call()
    return err.value


def test_the_default_policy_is_one_release_manager(make_release, mike):
    release = make_release(upto="checked")
    assert release.app.required_approvals == ["release_manager"]
    services.release_approve(release=release, actor=mike)
    assert release.is_approved()


def test_with_qa_required_a_release_manager_alone_is_not_enough(qa_policy, make_release, mike, quinn):
    release = make_release(upto="approved_by_manager")
    err = _refused(lambda: services.release_submit(release=release, actor=mike))
    assert err.code == "approval_required"
    assert "still needs approval as: QA" in err.message
    approval = services.release_approve(release=release, actor=quinn, comment="Regression suite green.")
    assert approval.capacity == "qa"
    assert services.release_submit(release=release, actor=mike).state == State.SUBMITTED
    event = AuditEvent.objects.get(release_id=release.pk, action="approve", actor_name="quinn")
    assert event.data["capacity"] == "qa"


def test_a_developer_without_the_capacity_cannot_approve(qa_policy, make_release, alice, team, adam):
    from tests.conftest import _member

    other = _member(team, "dora", "developer")
    release = make_release(upto="checked")
    assert _refused(lambda: services.release_approve(release=release, actor=other)).code == "forbidden"


def test_the_author_cannot_approve_even_holding_a_capacity(qa_policy, app, quinn, tick_checklist):
    release = services.release_create(
        app=app, actor=quinn, version="1.0.0", review_notes="Points page added.", build_report=GOOD_REPORT
    )
    tick_checklist(release, quinn)
    services.release_check(release=release, actor=quinn)
    assert _refused(lambda: services.release_approve(release=release, actor=quinn)).code == "self_approval"


def test_a_person_approves_a_revision_once_and_only_a_missing_capacity(qa_policy, make_release, mike, nina):
    release = make_release(upto="approved_by_manager", approver=mike)
    assert _refused(lambda: services.release_approve(release=release, actor=mike)).code == "already_approved"
    err = _refused(lambda: services.release_approve(release=release, actor=nina))
    assert err.code == "approval_not_needed" and "QA" in err.message
    err = _refused(lambda: services.release_approve(release=release, actor=nina, capacity="qa"))
    assert err.code == "capacity_not_held"


def test_an_edit_voids_every_approval_of_the_policy(qa_policy, make_release, mike, quinn, alice):
    release = make_release(upto="approved_by_manager")
    services.release_approve(release=release, actor=quinn)
    assert release.is_approved()
    services.release_update(
        release=release, actor=alice, changes={"review_notes": "New notes, new revision."}
    )
    release.refresh_from_db()
    assert not release.is_approved() and release.state == State.DRAFT


def test_an_admin_override_needs_a_written_reason_and_is_audited(qa_policy, make_release, adam, mike):
    release = make_release(upto="approved_by_manager")
    err = _refused(lambda: services.release_approve_override(release=release, actor=adam, reason="  "))
    assert (err.code, err.status) == ("reason_required", 400)
    assert not AuditEvent.objects.filter(action="approval_override").exists()
    assert _refused(
        lambda: services.release_approve_override(release=release, actor=mike, reason="x")
    ).code == ("forbidden")
    services.release_approve_override(
        release=release, actor=adam, reason="QA lead on leave; hotfix tested on-call."
    )
    assert release.is_approved()
    event = AuditEvent.objects.get(release_id=release.pk, action="approval_override")
    assert event.actor_name == "adam"
    assert event.data == {
        "revision": 1,
        "reason": "QA lead on leave; hotfix tested on-call.",
        "missing": ["qa"],
    }
    assert services.release_submit(release=release, actor=mike).state == State.SUBMITTED


def test_an_admin_cannot_override_their_own_release(app, adam, tick_checklist, nina):
    release = services.release_create(
        app=app, actor=adam, version="1.0.0", review_notes="Points page added.", build_report=GOOD_REPORT
    )
    tick_checklist(release, adam)
    services.release_check(release=release, actor=adam)
    err = _refused(lambda: services.release_approve_override(release=release, actor=adam, reason="Urgent."))
    assert err.code == "self_approval"
    assert Release.objects.get(pk=release.pk).state == State.CHECKED


def test_only_an_admin_changes_the_policy_and_a_release_manager_is_always_required(app, mike, adam):
    assert _refused(
        lambda: app_services.app_set_approval_policy(app=app, actor=mike, required=["qa"])
    ).code == ("forbidden")
    assert app_services.app_set_approval_policy(app=app, actor=adam, required=["product"]) == [
        "release_manager",
        "product",
    ]
    assert _refused(
        lambda: app_services.app_set_approval_policy(app=app, actor=adam, required=["ceo"])
    ).code == ("invalid_capacity")
    assert AuditEvent.objects.filter(action="approval_policy_update").count() == 1


def test_the_api_shows_the_policy_progress_and_approves_in_a_capacity(
    api_client, qa_policy, make_release, mike, quinn, adam
):
    release = make_release(upto="approved_by_manager")
    body = api_client("get", f"/releases/{release.pk}", user=mike).json()
    assert body["approvals"]["required"] == ["release_manager", "qa"]
    assert (body["approvals"]["missing"], body["approved"]) == (["qa"], False)
    response = api_client("post", f"/releases/{release.pk}/approve", user=quinn, capacity="qa", comment="ok")
    assert response.json()["approvals"]["complete"] is True
    policy = api_client("get", f"/apps/{release.app_id}/approval-policy", user=mike).json()
    assert policy["approvers"]["qa"] == ["quinn"]
    assert "mike" in policy["approvers"]["release_manager"]
    member = api_client(
        "put", f"/teams/{release.app.team_id}/members/quinn", user=adam, capacities=["product"]
    )
    assert member.json()["capacities"] == ["product"]
    assert Membership.objects.get(user=quinn).capacities == ["product"]


def test_the_api_override_action_takes_a_reason(api_client, qa_policy, make_release, adam):
    release = make_release(upto="approved_by_manager")
    missing = api_client("post", f"/releases/{release.pk}/override-approval", user=adam)
    assert (missing.status_code, missing.json()["error"]["code"]) == (400, "reason_required")
    done = api_client("post", f"/releases/{release.pk}/override-approval", user=adam, reason="Release train.")
    assert done.status_code == 200 and done.json()["approved"] is True
    assert done.json()["approvals"]["current"][-1]["override"] is True
