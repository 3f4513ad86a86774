"""Each guard refuses, names itself, and leaves the release and the audit trail untouched."""

import pytest

from releases import services
from releases.errors import Forbidden, Invalid, Refused
from releases.models import AuditEvent, CheckRun, Release, State
from tests.conftest import GOOD_REPORT


def _refused(call, code, release=None):
    before_events = AuditEvent.objects.count()
    before_state = release and Release.objects.get(pk=release.pk).state
    with pytest.raises((Refused, Forbidden, Invalid)) as err:
        call()
    assert err.value.code == code
    assert AuditEvent.objects.count() == before_events
    if release is not None:
        assert Release.objects.get(pk=release.pk).state == before_state
    return err.value


def test_it_refuses_submit_without_approval(make_release, mike):
    release = make_release(upto="checked")
    err = _refused(lambda: services.release_submit(release=release, actor=mike), "approval_required", release)
    assert err.status == 409


def test_it_refuses_submit_while_another_release_is_in_review(make_release, mike):
    make_release("1.0.0", upto="submitted")
    second = make_release("1.1.0", upto="approved_by_manager")
    _refused(lambda: services.release_submit(release=second, actor=mike), "review_in_progress", second)


def test_it_refuses_self_approval(app, mike, nina, tick_checklist):
    release = services.release_create(
        app=app, actor=mike, version="1.0.0", review_notes="Points page added.", build_report=GOOD_REPORT
    )
    tick_checklist(release, mike)
    services.release_check(release=release, actor=mike)
    err = _refused(lambda: services.release_approve(release=release, actor=mike), "self_approval", release)
    assert err.status == 403
    services.release_approve(release=release, actor=nina)
    assert release.is_approved()


def test_it_refuses_a_second_approval_of_the_same_revision(make_release, mike):
    release = make_release(upto="approved_by_manager")
    _refused(lambda: services.release_approve(release=release, actor=mike), "already_approved", release)


def test_it_refuses_approval_by_a_developer(make_release, alice):
    release = make_release(upto="checked")
    _refused(lambda: services.release_approve(release=release, actor=alice), "forbidden", release)


def test_a_viewer_cannot_run_checks(make_release, vera):
    release = make_release()
    _refused(lambda: services.release_check(release=release, actor=vera), "forbidden", release)


def test_it_refuses_publishing_a_draft(make_release, mike):
    release = make_release()
    _refused(lambda: services.release_publish(release=release, actor=mike), "invalid_state", release)


def test_failing_checks_keep_the_draft_and_store_the_run(make_release, alice):
    release = make_release(review_notes="test")
    err = _refused(lambda: services.release_check(release=release, actor=alice), "checks_failed", release)
    run = CheckRun.objects.get(pk=err.details["run_id"])
    failed = {r.key: r.message for r in run.results.all() if r.status == "failed"}
    assert "review_notes" in failed
    assert "placeholder" in failed["review_notes"]


def test_an_oversized_subpackage_fails_the_checks_with_its_size(make_release, alice):
    report = {"packages": [{"name": "__APP__", "size": 1_000_000}, {"name": "sub/big", "size": 2_600_000}]}
    release = make_release(build_report=report)
    err = _refused(lambda: services.release_check(release=release, actor=alice), "checks_failed", release)
    result = CheckRun.objects.get(pk=err.details["run_id"]).results.get(key="package_size")
    assert "sub/big is 2.48 MB" in result.message


def test_a_version_must_be_semantic_unique_and_above_the_published_one(app, alice, make_release):
    make_release("1.2.0", upto="published")
    _refused(lambda: services.release_create(app=app, actor=alice, version="1.2"), "invalid_version")
    _refused(lambda: services.release_create(app=app, actor=alice, version="1.2.0"), "version_exists")
    _refused(lambda: services.release_create(app=app, actor=alice, version="1.1.9"), "version_not_greater")
    assert services.release_create(app=app, actor=alice, version="1.10.0").state == State.DRAFT


def test_a_rejection_needs_the_platforms_reason(make_release, mike):
    release = make_release(upto="submitted")
    _refused(
        lambda: services.release_record_outcome(release=release, actor=mike, outcome="rejected", reason=" "),
        "reason_required",
        release,
    )


def test_editing_a_checked_release_sends_it_to_draft_and_voids_approvals(make_release, alice):
    release = make_release(upto="approved_by_manager")
    assert release.is_approved()
    services.release_update(release=release, actor=alice, changes={"release_notes": "Also: dark mode."})
    release.refresh_from_db()
    assert release.state == State.DRAFT
    assert release.revision == 2
    assert not release.is_approved()
    assert release.approvals.count() == 1  # history kept, just no longer valid
    assert AuditEvent.objects.filter(release_id=release.pk, action="edit", from_state="checked").count() == 1


def test_an_approver_can_send_a_release_back_with_a_comment(make_release, mike):
    release = make_release(upto="checked")
    _refused(
        lambda: services.release_send_back(release=release, actor=mike, comment=""),
        "comment_required",
        release,
    )
    services.release_send_back(release=release, actor=mike, comment="Login flow crashes on Android.")
    release.refresh_from_db()
    assert release.state == State.DRAFT
    event = AuditEvent.objects.filter(release_id=release.pk).last()
    assert event.action == "send_back"
    assert event.data == {"comment": "Login flow crashes on Android."}
