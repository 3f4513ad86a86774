"""Slow checks run in an RQ worker, not in the web request; the release moves on when they finish."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from releases import services
from releases.errors import Forbidden
from releases.models import AuditEvent, CheckRun, State
from tests.conftest import GOOD_REPORT

LOCATION_REPORT = {**GOOD_REPORT, "permissions": ["scope.userLocation"], "apis": ["wx.getLocation"]}


@pytest.fixture
def policy(app, demo_pages):
    def point(variant=""):
        app.privacy_policy_url = f"{demo_pages}/demo/privacy-policy/{variant}"
        app.save()

    return point


def _statuses(body, kind="auto"):
    return {c["key"]: c["status"] for c in body["checks"] if c["kind"] == kind}


def test_check_answers_pending_and_the_worker_moves_the_release_to_checked(
    api_client, app, alice, make_release, tick_checklist, drain, policy, django_capture_on_commit_callbacks
):
    policy()
    release = tick_checklist(make_release(build_report=LOCATION_REPORT), alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client("post", f"/releases/{release.pk}/check", user=alice)
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "draft"
    assert body["check_run"]["pending"] == 1 and body["check_run"]["passed"] is None
    assert _statuses(body)["privacy_policy"] == "pending"
    assert [k for k, s in _statuses(body).items() if s != "passed"] == ["privacy_policy"]

    assert drain() == 1
    body = api_client("get", f"/releases/{release.pk}", user=alice).json()
    assert body["state"] == "checked"
    assert body["check_run"]["pending"] == 0 and body["check_run"]["passed"] is True
    assert _statuses(body)["privacy_policy"] == "passed"
    event = AuditEvent.objects.get(release_id=release.pk, action="check")
    assert (event.actor_id, event.from_state, event.to_state) == (None, "draft", "checked")
    assert event.data["started_by"] == "alice"


def test_a_slow_check_that_fails_keeps_the_release_in_draft(
    app, alice, make_release, tick_checklist, drain, policy, django_capture_on_commit_callbacks
):
    policy("no-location/")
    release = tick_checklist(make_release(build_report=LOCATION_REPORT), alice)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.release_check(release=release, actor=alice)
    drain()
    run.refresh_from_db()
    release.refresh_from_db()
    assert run.finished_at is not None and not run.passed
    assert release.state == State.DRAFT
    result = run.results.get(key="privacy_policy")
    assert result.status == "failed" and result.evidence["missing"][0]["topic"] == "location"
    assert not AuditEvent.objects.filter(release_id=release.pk, action="check").exists()


def test_a_fast_failure_answers_409_at_once_and_the_slow_checks_still_finish(
    api_client, app, alice, make_release, drain, policy, django_capture_on_commit_callbacks
):
    policy("no-location/")
    release = make_release(build_report=LOCATION_REPORT, review_notes="test")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client("post", f"/releases/{release.pk}/check", user=alice)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "checks_failed")
    assert response.json()["error"]["details"]["pending"] == ["privacy_policy"]
    drain()
    body = api_client("get", f"/releases/{release.pk}", user=alice).json()
    failed = sorted(k for k, s in _statuses(body).items() if s == "failed")
    assert failed == ["privacy_policy", "review_notes"]
    assert body["state"] == "draft"


def test_a_run_finished_after_an_edit_does_not_judge_the_new_content(
    app, alice, make_release, tick_checklist, drain, policy, django_capture_on_commit_callbacks
):
    policy()
    release = tick_checklist(make_release(build_report=LOCATION_REPORT), alice)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.release_check(release=release, actor=alice)
    services.release_update(release=release, actor=alice, changes={"release_notes": "Changed meanwhile."})
    drain()
    result = run.results.get(key="privacy_policy")
    assert result.status == "error" and "changed before this check ran" in result.message
    release.refresh_from_db()
    assert (release.state, release.revision) == (State.DRAFT, 2)


def test_finishing_a_run_twice_changes_nothing_the_second_time(
    app, alice, make_release, tick_checklist, policy, django_capture_on_commit_callbacks
):
    policy()
    release = tick_checklist(make_release(build_report=LOCATION_REPORT), alice)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.release_check(release=release, actor=alice)
    first = services.release_check_finish(run_id=run.pk)
    second = services.release_check_finish(run_id=run.pk)
    assert first.finished_at == second.finished_at
    assert AuditEvent.objects.filter(release_id=release.pk, action="check").count() == 1


def test_the_sweep_finishes_a_run_whose_worker_died(app, alice, make_release, tick_checklist, policy):
    policy()
    release = tick_checklist(make_release(build_report=LOCATION_REPORT), alice)
    run = services.release_check(release=release, actor=alice)  # the job is never queued (no commit)
    CheckRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(hours=1))
    services.release_sweep_in_flight()
    release.refresh_from_db()
    assert release.state == State.CHECKED


def test_the_page_shows_progress_and_the_status_endpoint_says_when_it_is_done(
    client, app, alice, make_release, drain, policy, django_capture_on_commit_callbacks
):
    policy()
    release = make_release(build_report=LOCATION_REPORT)
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("web:release-action", args=[release.pk, "check"]), follow=True)
    page = response.content.decode()
    assert "1 still running in the background" in page
    assert '<span class="poll-count">1</span> check running…' in page
    status_url = reverse("web:release-check-status", args=[release.pk])
    assert f'data-poll-url="{status_url}"' in page
    assert client.get(status_url).json() == {
        "run": release.check_runs.get().pk,
        "pending": 1,
        "finished": False,
        "state": "draft",
    }
    drain()
    assert client.get(status_url).json()["finished"] is True
    page = client.get(reverse("web:release-detail", args=[release.pk])).content.decode()
    assert "data-poll-url" not in page
    # the automated checks passed; the checklist is what is left
    assert "Tick the 5 open items" in page


def test_a_viewer_cannot_read_another_teams_check_status(client, make_release, olga):
    release = make_release()
    client.force_login(olga)
    assert client.get(reverse("web:release-check-status", args=[release.pk])).status_code == 404


def test_a_refused_check_leaves_no_run_behind(make_release, vera):
    release = make_release()
    with pytest.raises(Forbidden):
        services.release_check(release=release, actor=vera)
    assert not CheckRun.objects.exists()
