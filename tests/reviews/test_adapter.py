"""The WeChat adapter against the simulator over real HTTP (Django's live server).

Every operation of the code-management API and the errcodes a release manager meets are
exercised through the same path production takes: adapter -> tokens -> httpx -> /sim/.
The simulator's call log is what WeChat would have received.
"""

import json
from datetime import timedelta

import django_rq
from django.utils import timezone

from releases.models import AuditEvent, Release, State
from releases.platforms import adapter_for
from releases.services import release_step_perform
from reviews.models import ReviewWatch
from reviews.platforms.wechat.adapter import WeChatAdapter
from reviews.platforms.wechat.client import WeChatClient
from reviews.platforms.wechat.errors import ERRCODES
from reviews.platforms.wechat.schemas import Answer, AuditStatus
from simulator.models import SimSubmission
from simulator.services import sim_configure, sim_decide
from tests.reviews.wechat_helpers import (
    REJECTION,
    adapter,
    calls,
    in_flight,
    refused,
    released_version,
    submitted,
)

# -- the adapter is the one settings name for wechat --------------------------------------


def test_the_wechat_account_resolves_to_the_wechat_adapter(wechat_account):
    resolved = adapter_for(wechat_account)
    assert isinstance(resolved, WeChatAdapter)
    assert not resolved.runs_inline and not resolved.outcomes_recorded_by_hand


# -- submitting ---------------------------------------------------------------------------


def test_a_submit_sends_the_review_notes_as_version_desc_and_no_feedback(sim, wechat_release):
    release = in_flight(wechat_release)
    submission = adapter(sim).submit(release)
    held = SimSubmission.objects.get(auditid=int(submission.audit_id))
    assert held.version_desc == release.review_notes
    body = json.loads(calls("wxa/submit_audit").get().body)
    assert body == {"version_desc": release.review_notes}


def test_a_resubmission_after_a_rejection_sends_feedback_info(sim, wechat_release):
    sim_decide(auditid=submitted(sim), outcome="rejected", reason=REJECTION)
    release = in_flight(wechat_release, came_from=State.REJECTED)
    submission = adapter(sim).submit(release)
    held = SimSubmission.objects.get(auditid=int(submission.audit_id))
    assert held.feedback_info == release.review_notes[:200]


def test_the_submit_step_records_the_audit_id_and_starts_following_the_review(sim, wechat_release):
    release = release_step_perform(release_id=in_flight(wechat_release).pk)
    assert release.state == State.SUBMITTED
    assert SimSubmission.objects.filter(auditid=int(release.platform_audit_id)).exists()
    watch = ReviewWatch.objects.get(release=release)
    assert watch.active and watch.audit_id == release.platform_audit_id
    assert django_rq.get_queue("platform").scheduled_job_registry.count == 1


def test_a_second_submission_while_one_is_in_review_fails_the_step_with_85009(sim, wechat_release):
    submitted(sim)  # in review, made in WeChat's console before this attempt
    SimSubmission.objects.update(submitted_at=timezone.now() - timedelta(hours=1))
    release = release_step_perform(release_id=in_flight(wechat_release).pk)
    assert release.state == State.SUBMIT_FAILED
    assert release.last_error_code == "wechat_85009"
    assert release.last_error == ERRCODES[85009].sentence
    event = AuditEvent.objects.get(release_id=release.pk, action="submit_failed")
    assert event.data["code"] == "wechat_85009"


def test_a_spent_monthly_quota_is_85085(sim):
    sim_configure(quota_limit=0)
    refused(85085, adapter(sim).submit_audit, sim.app, version_desc="notes")


# -- reconciling after a crash -------------------------------------------------------------


def test_find_submission_is_none_when_the_app_was_never_submitted(sim, wechat_release):
    assert adapter(sim).find_submission(in_flight(wechat_release)) is None


def test_find_submission_returns_a_submission_made_since_the_attempt_began(sim, wechat_release):
    release = in_flight(wechat_release)
    auditid = submitted(sim)  # the call whose answer a dead worker never recorded
    assert adapter(sim).find_submission(release).audit_id == str(auditid)


def test_find_submission_ignores_an_older_submission(sim, wechat_release):
    sim_decide(auditid=submitted(sim), outcome="rejected", reason=REJECTION)
    SimSubmission.objects.update(submitted_at=timezone.now() - timedelta(days=2))
    assert adapter(sim).find_submission(in_flight(wechat_release, came_from=State.REJECTED)) is None


# -- following the review -------------------------------------------------------------------


def test_get_auditstatus_reports_a_rejection_with_reason_and_screenshots(sim):
    auditid = submitted(sim)
    sim_decide(auditid=auditid, outcome="rejected", reason=REJECTION, screenshots=["m1", "m2"])
    answer = adapter(sim).get_auditstatus(sim.app, auditid)
    assert answer.status == AuditStatus.REJECTED
    assert answer.reason == REJECTION
    assert answer.screenshots == ["m1", "m2"]


def test_get_latest_auditstatus_reads_the_capitalised_screenshot_key(sim):
    auditid = submitted(sim)
    sim_decide(auditid=auditid, outcome="rejected", reason=REJECTION, screenshots=["m1"])
    latest = adapter(sim).get_latest_auditstatus(sim.app)
    assert (latest.auditid, latest.status, latest.screenshots) == (auditid, AuditStatus.REJECTED, ["m1"])
    assert latest.submit_audit_time is not None


def test_speedupaudit_speeds_up_once(sim):
    auditid = submitted(sim)
    adapter(sim).speedupaudit(sim.app, auditid)
    refused(89404, adapter(sim).speedupaudit, sim.app, auditid)


def test_queryquota_counts_the_submissions_of_the_month(sim):
    before = adapter(sim).queryquota(sim.app)
    submitted(sim)
    after = adapter(sim).queryquota(sim.app)
    assert after.limit == before.limit
    assert after.rest == before.rest - 1


def test_get_code_privacy_info_lists_what_is_missing(sim):
    info = adapter(sim).get_code_privacy_info(sim.app)
    assert info.without_auth_list == [] and info.without_conf_list == []


def test_commit_uploads_the_trial_version_named_on_later_submissions(sim):
    adapter(sim).commit(sim.app, template_id="1", ext_json="{}", user_version="1.4.0", user_desc="points")
    auditid = submitted(sim)
    assert adapter(sim).get_latest_auditstatus(sim.app).user_version == "1.4.0"
    assert SimSubmission.objects.get(auditid=auditid).user_version == "1.4.0"


# -- withdrawing ----------------------------------------------------------------------------


def test_withdraw_undoes_the_audit_and_a_retried_withdraw_does_not_call_again(sim, wechat_release):
    auditid = submitted(sim)
    release = in_flight(wechat_release, State.WITHDRAWING, came_from=State.SUBMITTED, audit_id=str(auditid))
    adapter(sim).withdraw(release)
    adapter(sim).withdraw(release)  # the job ran again after a crash
    assert SimSubmission.objects.get(auditid=auditid).status == SimSubmission.Status.WITHDRAWN
    assert calls("wxa/undocodeaudit").count() == 1


def test_a_sixth_withdrawal_in_a_day_is_87013(sim):
    for _ in range(5):
        submitted(sim)
        adapter(sim).undocodeaudit(sim.app)
    submitted(sim)
    error = refused(87013, adapter(sim).undocodeaudit, sim.app)
    assert error.permanent


# -- publishing -----------------------------------------------------------------------------


def test_publish_posts_exactly_an_empty_object_and_a_retry_is_harmless(sim, wechat_release):
    auditid = submitted(sim)
    sim_decide(auditid=auditid, outcome="approved")
    release = in_flight(wechat_release, State.PUBLISHING, came_from=State.APPROVED, audit_id=str(auditid))
    adapter(sim).publish(release)
    adapter(sim).publish(release)  # 85052 already released: the crashed attempt had succeeded
    assert [c.body for c in calls("wxa/release")] == ["{}", "{}"]
    assert SimSubmission.objects.get(auditid=auditid).released_at is not None


def test_a_release_without_a_body_is_44002(sim):
    token = adapter(sim).tokens.authorizer_token(sim.app)
    client = WeChatClient()
    refused(44002, client.call, "POST", "/wxa/release", Answer, params={"access_token": token}, content=b"")


def test_a_release_with_nothing_reviewed_is_85019(sim):
    refused(85019, adapter(sim).release, sim.app)


def test_a_release_of_a_version_still_in_review_is_85020(sim):
    submitted(sim)
    refused(85020, adapter(sim).release, sim.app)


def test_a_failed_publish_step_shows_the_sentence_on_the_release(sim, wechat_release):
    submitted(sim)
    release = in_flight(wechat_release, State.PUBLISHING, came_from=State.APPROVED)
    release = release_step_perform(release_id=release.pk)
    assert release.state == State.PUBLISH_FAILED
    assert (release.last_error_code, release.last_error) == ("wechat_85020", ERRCODES[85020].sentence)


# -- phased release and rollback ------------------------------------------------------------


def test_a_gray_release_grows_and_is_cancelled(sim):
    released_version(sim)
    sim_decide(auditid=submitted(sim), outcome="approved")
    adapter(sim).grayrelease(sim.app, 10, support_debuger_first=True)
    plan = adapter(sim).getgrayreleaseplan(sim.app).gray_release_plan
    assert (plan.status, plan.gray_percentage, plan.support_debuger_first) == (1, 10, True)
    refused(85082, adapter(sim).grayrelease, sim.app, 5)
    adapter(sim).revertgrayrelease(sim.app)
    assert adapter(sim).getgrayreleaseplan(sim.app).gray_release_plan.status == 4


def test_rollback_goes_back_once_and_lists_the_history(sim, wechat_release):
    released_version(sim)
    released_version(sim)
    history = adapter(sim).get_history_versions(sim.app)
    assert [v.app_version for v in history.version_list] == [1]
    release = in_flight(wechat_release, State.ROLLING_BACK, came_from=State.PUBLISHED)
    adapter(sim).rollback(release)
    refused(87012, adapter(sim).rollback, release)
    assert calls("wxa/revertcoderelease").filter(query__action="get_history_version").count() == 1


def test_rollback_to_a_named_version(sim):
    released_version(sim)
    released_version(sim)
    released_version(sim)
    adapter(sim).revertcoderelease(sim.app, app_version=1)
    assert calls("wxa/revertcoderelease").last().query["app_version"] == "1"


def test_rollback_during_a_gray_release_is_87011(sim):
    released_version(sim)
    sim_decide(auditid=submitted(sim), outcome="approved")
    adapter(sim).grayrelease(sim.app, 10)
    refused(87011, adapter(sim).revertcoderelease, sim.app)


def test_rollback_with_no_earlier_version_is_87012(sim):
    released_version(sim)
    refused(87012, adapter(sim).revertcoderelease, sim.app)


def test_find_submission_ignores_the_rejected_submission_of_a_quick_resubmission(sim, wechat_release):
    auditid = submitted(sim)
    sim_decide(auditid=auditid, outcome="rejected", reason=REJECTION)
    release = in_flight(wechat_release, came_from=State.REJECTED, audit_id=str(auditid))
    assert adapter(sim).find_submission(release) is None


def test_find_submission_never_adopts_the_submission_another_release_recorded(sim, wechat_release):
    previous = in_flight(wechat_release, state=State.SUBMITTING)
    release_step_perform(release_id=previous.pk)
    previous.refresh_from_db()
    sim_decide(auditid=int(previous.platform_audit_id), outcome="approved")
    Release.objects.filter(pk=previous.pk).update(state=State.PUBLISHED)
    newer = in_flight(lambda **kw: wechat_release(version="1.1.0", **kw))
    assert adapter(sim).find_submission(newer) is None
