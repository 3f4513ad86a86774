"""A rejection is recorded whole, in the transition that rejects: its Rejection, classified items,
remediation tasks, unknown reasons and `remediation_planned` event commit with the
`review_rejected` event or not at all. When that fails, whoever delivered the rejection (a
person, a poll, a push) gets the error and the next delivery records it; nothing is swallowed
and left for a reader to catch up on (issue 10)."""

import time
from datetime import timedelta

import django_rq
import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from releases import outcome_services, rejection_recording, services
from releases.models import AuditEvent, Rejection, Release, RemediationTask, State, UnclassifiedReason
from releases.platforms import adapter_for
from releases.playbooks.seed import seed_playbooks
from releases.rejection_recording import sync_rejections
from releases.tokens import api_token_create
from reviews.models import CallbackDelivery, ReviewWatch
from reviews.original_ids import original_id_learn
from reviews.polling import review_poll, review_sweep, review_watch_start
from reviews.services import review_outcome_apply
from simulator.services import sim_configure, sim_decide
from tests.fixtures.wechat import ORIGINAL_ID

REASON = "1:隐私政策不完善:<br>(1):未说明获取手机号的用途<br>2:页面里有一只会说话的猫"


def _broken(release, reason):
    raise RuntimeError("rules.toml could not be read")


@pytest.fixture
def broken_rules(monkeypatch):
    """Classifying any rejection fails, until the test calls the returned repair()."""
    monkeypatch.setattr(rejection_recording, "rejection_items", _broken)
    return monkeypatch.undo


def _actions(release) -> list[str]:
    return list(
        AuditEvent.objects.filter(release_id=release.pk).order_by("id").values_list("action", flat=True)
    )


def _nothing_of_the_rejection(release) -> None:
    release.refresh_from_db()
    assert release.state == State.SUBMITTED and release.rejection_reason == ""
    assert not {"review_rejected", "remediation_planned"} & set(_actions(release))
    assert not Rejection.objects.filter(release=release).exists()
    assert not RemediationTask.objects.filter(release=release).exists()
    assert not UnclassifiedReason.objects.exists()


def _recorded(release) -> Rejection:
    release.refresh_from_db()
    assert release.state == State.REJECTED
    event = AuditEvent.objects.get(release_id=release.pk, action="review_rejected")
    rejection = Rejection.objects.get(release=release)
    assert rejection.audit_event_id == event.pk
    assert rejection.categories == ["privacy_policy", "other"]
    assert RemediationTask.objects.filter(release=release, rejection=rejection).exists()
    assert UnclassifiedReason.objects.get().text == "页面里有一只会说话的猫"
    assert _actions(release)[-2:] == ["review_rejected", "remediation_planned"]
    return rejection


def test_a_rejection_commits_with_its_items_tasks_and_planning_event(make_release, mike, db):
    seed_playbooks()
    release = make_release(upto="submitted")
    services.release_record_outcome(release=release, actor=mike, outcome="rejected", reason=REASON)
    _recorded(release)
    assert sync_rejections() == 0  # nothing left for the repair job


def test_when_classifying_fails_the_rejection_fails_whole_and_the_release_stays_submitted(
    make_release, mike, broken_rules
):
    release = make_release(upto="submitted")
    with pytest.raises(RuntimeError, match="rules.toml"):
        services.release_record_outcome(release=release, actor=mike, outcome="rejected", reason=REASON)
    _nothing_of_the_rejection(release)
    assert sync_rejections() == 0  # nothing half-recorded for a repair to find either

    broken_rules()  # the rules are fixed: the same delivery again records the rejection
    services.release_record_outcome(release=release, actor=mike, outcome="rejected", reason=REASON)
    _recorded(release)


def test_a_person_recording_a_rejection_sees_the_error_in_the_api(make_release, mike, broken_rules):
    release = make_release(upto="submitted")
    client = Client(raise_request_exception=False)
    response = client.post(
        f"/api/v1/releases/{release.pk}/record-outcome",
        {"outcome": "rejected", "reason": REASON},
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_token_create(user=mike)}"},
    )
    assert response.status_code == 500
    _nothing_of_the_rejection(release)


def test_a_polled_rejection_that_cannot_be_recorded_raises_to_the_poll(wechat_release, broken_rules):
    release = wechat_release()
    with pytest.raises(RuntimeError):
        review_outcome_apply(release=release, outcome="rejected", reason=REASON, source="poll")
    _nothing_of_the_rejection(release)
    broken_rules()
    assert review_outcome_apply(release=release, outcome="rejected", reason=REASON, source="poll") is not None
    _recorded(release)


@pytest.fixture
def in_review(sim, wechat_release):
    """A release the simulated WeChat rejected, followed by a watch, pushes believed for its app."""
    sim_configure(pushes_enabled=False)
    auditid = adapter_for(sim.account).submit_audit(sim.app, version_desc="notes").auditid
    release = wechat_release(audit_id=str(auditid))
    review_watch_start(release)
    assert original_id_learn(release.app) == ORIGINAL_ID
    sim_decide(auditid=auditid, outcome="rejected", reason=REASON, screenshots=["m1"])
    seed_playbooks()
    return release


def test_a_poll_that_cannot_record_the_rejection_fails_and_the_sweep_polls_again(in_review, monkeypatch):
    release = in_review
    ReviewWatch.objects.filter(release=release).update(next_poll_at=timezone.now())
    monkeypatch.setattr(rejection_recording, "rejection_items", _broken)
    with pytest.raises(RuntimeError):  # the job fails: RQ keeps it in its failed registry, logged
        review_poll(release.pk)
    _nothing_of_the_rejection(release)
    assert ReviewWatch.objects.get(release=release).active

    monkeypatch.undo()
    with time_machine.travel(timezone.now() + timedelta(minutes=10), tick=False):
        django_rq.get_queue("platform").empty()
        assert review_sweep() == 1  # the claim of the failed poll ran out: it is polled again
        assert review_poll(release.pk) == "polled"
    assert _recorded(release).screenshots == ["m1"]


def test_a_push_whose_rejection_cannot_be_recorded_is_answered_with_an_error_and_polled_at_once(
    in_review, client, wechat_push, monkeypatch
):
    release = in_review
    ReviewWatch.objects.filter(release=release).update(next_poll_at=timezone.now() + timedelta(hours=1))
    monkeypatch.setattr(rejection_recording, "rejection_items", _broken)
    client.raise_request_exception = False
    event = {
        "ToUserName": ORIGINAL_ID,
        "FromUserName": "od1P50M-fNQI5Gcq-trm4a7apsU8",
        "CreateTime": int(time.time()),
        "MsgType": "event",
        "Event": "weapp_audit_fail",
        "Reason": REASON,
        "FailTime": int(time.time()),
        "ScreenShot": "m1",
    }

    assert wechat_push("events", event).status_code == 500  # WeChat sees an error, not "success"

    _nothing_of_the_rejection(release)
    assert CallbackDelivery.objects.get().outcome == "deferred"  # not "processed": nothing was
    assert ReviewWatch.objects.get(release=release).next_poll_at <= timezone.now()  # the poll comes now
    monkeypatch.undo()
    assert review_poll(release.pk) == "polled"
    _recorded(release)


def test_a_rejection_stored_by_older_code_is_recorded_by_the_repair_not_by_reading_it(
    make_release, mike, monkeypatch
):
    seed_playbooks()
    release = make_release(upto="submitted")
    with monkeypatch.context() as older_code:
        older_code.setattr(outcome_services, "_record_rejection", lambda release, event: None)
        services.release_record_outcome(release=release, actor=mike, outcome="rejected", reason=REASON)
    client = Client()
    client.force_login(mike)
    assert client.get(f"/releases/{release.pk}/").status_code == 200
    token = api_token_create(user=mike)
    answer = client.get(f"/api/v1/releases/{release.pk}", headers={"Authorization": f"Bearer {token}"})
    assert answer.json()["state"] == "rejected" and answer.json()["rejection"] is None
    assert not Rejection.objects.filter(release=release).exists()  # reading it recorded nothing

    assert sync_rejections() == 1
    assert Release.objects.get(pk=release.pk).rejections.get().audit_event_id is not None
    assert sync_rejections() == 0
