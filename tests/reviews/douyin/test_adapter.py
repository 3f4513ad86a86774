"""The Douyin adapter against the simulated Douyin over HTTP: every call, its error classes, and
steps retried after a worker died between Douyin's answer and the database write."""

import json
from datetime import timedelta

import pytest

from releases.models import AuditEvent, Release, State
from releases.platforms import adapter_for
from releases.services import release_step_perform
from reviews.platforms.douyin.errors import DouyinError
from simulator.douyin import operations as sim
from simulator.douyin import state as sim_state
from tests.fixtures.douyin import DY_APPID, ten_seconds_later

BIG_TEMPLATE = "9133504853504535288"  # beyond 2^53, as in Douyin's docs


def on_douyin() -> dict:
    return sim_state.load("app", DY_APPID)


def step(release) -> Release:
    release_step_perform(release_id=release.pk)
    return Release.objects.get(pk=release.pk)


def submitted(douyin_release, **fields) -> Release:
    release = douyin_release(
        in_flight_from=State.CHECKED, template_id=BIG_TEMPLATE, ext_json={"ext": {"shop": "咖啡"}}, **fields
    )
    return step(release)


def allow_next_submission() -> None:
    """Douyin allows one submission per 10 seconds (11301): the tests do not wait."""
    ten_seconds_later()


def test_submitting_uploads_the_template_code_then_submits_to_every_offered_host(douyin_sim, douyin_release):
    release = submitted(douyin_release)

    assert release.state == State.SUBMITTED
    app = on_douyin()
    assert app["latest"]["template_id"] == int(BIG_TEMPLATE)  # an exact int64, never a float
    assert json.loads(app["latest"]["ext_json"]) == {"ext": {"shop": "咖啡"}}
    assert app["audit"]["hosts"] == app["hosts"]
    assert app["audit"]["audit_note"] == release.review_notes[:200]
    assert release.platform_audit_id == str(app["audit"]["ctime"])


def test_the_host_apps_come_from_the_apps_settings(douyin_sim, douyin_release):
    douyin_sim.app.settings = {"douyin_host_names": ["douyin"]}
    douyin_sim.app.save()
    submitted(douyin_release)
    assert on_douyin()["audit"]["hosts"] == ["douyin"]


def test_a_host_douyin_does_not_offer_fails_the_step_for_good(douyin_sim, douyin_release):
    douyin_sim.app.settings = {"douyin_host_names": ["douyin", "weibo"]}
    douyin_sim.app.save()
    release = submitted(douyin_release)
    assert release.state == State.SUBMIT_FAILED
    assert release.last_error_code == "douyin_unknown_hosts"
    assert on_douyin()["audit"] is None


def test_a_pushed_approval_is_confirmed_with_versions_and_moves_the_release(douyin_sim, douyin_release):
    release = submitted(douyin_release)
    sim.decide(DY_APPID, approve=True)
    assert Release.objects.get(pk=release.pk).state == State.APPROVED


def test_a_rejection_found_by_the_poll_carries_douyins_reason(douyin_sim, douyin_release):
    release = submitted(douyin_release)
    sim.decide(DY_APPID, approve=False, reason="小程序服务类目与实际不符", push=False)  # the push is lost
    assert Release.objects.get(pk=release.pk).state == State.SUBMITTED

    from reviews.polling import review_ask

    review_ask(Release.objects.get(pk=release.pk), source="poll")
    release.refresh_from_db()
    assert release.state == State.REJECTED
    assert "服务类目与实际不符" in release.rejection_reason


def test_withdrawing_revokes_the_audit_and_a_retry_after_a_crash_is_done(douyin_sim, douyin_release):
    release = submitted(douyin_release)
    Release.objects.filter(pk=release.pk).update(state=State.WITHDRAWING, in_flight_from=State.SUBMITTED)
    adapter_for(douyin_sim.account).revoke_audit(douyin_sim.app)  # the crashed attempt's call

    assert step(release).state == State.WITHDRAWN
    assert on_douyin()["audit"]["status"] == 3


def test_a_submission_made_by_a_worker_that_died_is_adopted_not_repeated(douyin_sim, douyin_release):
    release = douyin_release(in_flight_from=State.CHECKED)
    adapter = adapter_for(douyin_sim.account)
    adapter.package_upload(
        douyin_sim.app, template_id="7", ext_json="{}", user_version="1.0.0", user_desc="x"
    )
    adapter.audit(douyin_sim.app, host_names=["douyin"])  # Douyin took it; the worker died before writing

    release = step(release)

    assert release.state == State.SUBMITTED  # not 11303 "already in review"
    assert release.platform_audit_id == str(on_douyin()["audit"]["ctime"])


def publish(release) -> Release:
    Release.objects.filter(pk=release.pk).update(state=State.PUBLISHING, in_flight_from=State.APPROVED)
    return step(release)


def test_publishing_releases_and_a_retry_after_a_crash_does_not_fail(douyin_sim, douyin_release):
    release = submitted(douyin_release)
    sim.decide(DY_APPID, approve=True)
    adapter_for(douyin_sim.account).release(douyin_sim.app)  # the crashed attempt's call

    assert publish(release).state == State.PUBLISHED
    assert on_douyin()["current"]["version"] == release.version


def released(douyin_release, version: str) -> Release:
    allow_next_submission()
    release = submitted(douyin_release, version=version)
    sim.decide(DY_APPID, approve=True)
    return publish(release)


def rollback(release) -> Release:
    Release.objects.filter(pk=release.pk).update(state=State.ROLLING_BACK, in_flight_from=State.PUBLISHED)
    return step(release)


def test_rollback_is_refused_from_the_first_version(douyin_sim, douyin_release):
    first = released(douyin_release, "1.0.0")
    failed = rollback(first)
    assert failed.state == State.ROLLBACK_FAILED
    assert failed.last_error_code == "douyin_cannot_roll_back"


def test_one_rollback_per_release_then_refused(douyin_sim, douyin_release):
    released(douyin_release, "1.0.0")
    second = released(douyin_release, "1.1.0")

    assert rollback(second).state == State.ROLLED_BACK
    assert on_douyin()["current"]["version"] == "1.0.0"
    with pytest.raises(DouyinError) as refused:
        adapter_for(douyin_sim.account).rollback_call(douyin_sim.app)
    assert refused.value.err_no == 10003 and refused.value.permanent


def test_a_rollback_retried_after_its_call_took_effect_is_done_not_refused(douyin_sim, douyin_release):
    released(douyin_release, "1.0.0")
    second = released(douyin_release, "1.1.0")
    Release.objects.filter(pk=second.pk).update(
        state=State.ROLLING_BACK,
        in_flight_from=State.PUBLISHED,
        step_checkpoint={
            "online": "1.1.0",
            "can_rollback": True,
            "last_version": "1.0.0",
            "taken_by": "dead",
        },
    )
    adapter_for(douyin_sim.account).rollback_call(douyin_sim.app)  # the dead attempt's call

    assert step(second).state == State.ROLLED_BACK


def test_a_submission_within_ten_seconds_of_one_made_elsewhere_is_transient_and_retried(
    douyin_sim, douyin_release
):
    submitted(douyin_release)
    sim.decide(DY_APPID, approve=False, reason="类目不符")
    again = Release.objects.filter(app=douyin_sim.app).get()
    # Sluice's own last submission is long past (it waits for that itself: test_submit_interval);
    # Douyin saw one just now, made outside Sluice.
    Release.objects.filter(pk=again.pk).update(
        state=State.SUBMITTING,
        in_flight_from=State.REJECTED,
        submitted_at=again.submitted_at - timedelta(minutes=5),
    )

    again = step(again)

    assert again.state == State.SUBMITTING  # 11301: tried again later, not failed
    assert AuditEvent.objects.filter(action="submit_failed").count() == 0
    assert again.last_error_code == "douyin_11301"


def test_an_unauthorized_permission_is_permanent_and_says_to_reauthorize(douyin_sim, douyin_release):
    with sim_state.changing("app", DY_APPID) as doc:
        doc["permissions"] = [2]
    release = submitted(douyin_release)
    assert release.state == State.SUBMIT_FAILED
    assert release.last_error_code == "douyin_28001018"
    assert "re-authorize" in release.last_error


def test_a_phased_publish_is_refused_for_douyin_before_anything_changes(douyin_sim, douyin_release, mike):
    from releases.errors import Invalid
    from releases.services import release_publish

    release = douyin_release(state=State.APPROVED)
    with pytest.raises(Invalid) as refused:
        release_publish(release=release, actor=mike, rollout=[{"percentage": 10}, {"percentage": 100}])
    assert refused.value.code == "invalid_rollout"
    assert Release.objects.get(pk=release.pk).state == State.APPROVED
