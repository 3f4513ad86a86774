"""Phased releases, the health gate, rollback, speed-up and the emergency stop through the API
and the pages: the contracts of issue 12 (paths, fields, codes) and the confirmation pages."""

import pytest
from django.urls import reverse

from releases.models import App, AuditEvent, State

PLAN = [{"percentage": 5, "hold_minutes": 120}, {"percentage": 20, "hold_minutes": 480}, {"percentage": 100}]


@pytest.fixture
def approved(make_release):
    return make_release("1.1.0", upto="approved")


def rolling(api_client, release, mike, plan=PLAN):
    response = api_client("post", f"/releases/{release.pk}/publish", user=mike, rollout=plan)
    assert response.status_code == 200, response.json()
    return response.json()


def test_publish_with_a_rollout_shows_it_on_the_release(api_client, approved, mike):
    body = rolling(api_client, approved, mike)
    assert body["state"] == "rolling_out"
    rollout = body["rollout"]
    assert {key: rollout[key] for key in ("status", "stage", "percentage", "plan")} == {
        "status": "running",
        "stage": 1,
        "percentage": 5,
        "plan": PLAN[:2] + [{"percentage": 100}],
    }
    assert rollout["next_stage_at"] is not None
    names = {a["name"]: a["enabled"] for a in body["actions"]}
    assert {name: enabled for name, enabled in names.items() if name.startswith("rollout-")} == {
        "rollout-advance": True,
        "rollout-pause": True,
        "rollout-resume": False,  # shown disabled: "neither paused nor halted"
        "rollout-revert": True,
    }


def test_a_bad_plan_is_a_400_invalid_rollout(api_client, approved, mike):
    response = api_client("post", f"/releases/{approved.pk}/publish", user=mike, rollout=[{"percentage": 50}])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_rollout"
    approved.refresh_from_db()
    assert approved.state == State.APPROVED


@pytest.mark.parametrize(
    "action,status",
    [("rollout-advance", "running"), ("rollout-pause", "paused")],
)
def test_the_rollout_actions_answer_with_the_release(api_client, approved, mike, action, status):
    rolling(api_client, approved, mike)
    body = api_client("post", f"/releases/{approved.pk}/{action}", user=mike).json()
    assert body["rollout"]["status"] == status


def test_pause_resume_and_revert_with_a_reason(api_client, approved, mike):
    rolling(api_client, approved, mike)
    assert (
        api_client("post", f"/releases/{approved.pk}/rollout-pause", user=mike).json()["rollout"]["status"]
        == "paused"
    )
    assert (
        api_client("post", f"/releases/{approved.pk}/rollout-resume", user=mike).json()["rollout"]["status"]
        == "running"
    )
    refused = api_client("post", f"/releases/{approved.pk}/rollout-revert", user=mike)
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "reason_required")
    body = api_client("post", f"/releases/{approved.pk}/rollout-revert", user=mike, reason="crashes").json()
    assert (body["state"], body["rollout"]["status"]) == ("approved", "reverted")


def test_a_health_breach_halts_the_rollout_and_says_why(api_client, approved, mike, alice, app):
    app.settings = {"health": {"metrics": {"js_error_rate": {"max": 0.02}}}}
    app.save()
    rolling(api_client, approved, mike)
    ok = api_client("post", f"/releases/{approved.pk}/health", user=alice, metric="js_error_rate", value=0.01)
    assert (ok.status_code, ok.json()["breached"], ok.json()["rollout"]["status"]) == (200, False, "running")
    body = api_client(
        "post", f"/releases/{approved.pk}/health", user=alice, metric="js_error_rate", value=0.031
    ).json()
    assert body["breached"] is True
    assert body["rollout"]["status"] == "halted"
    assert "0.031, above the threshold of 0.02" in body["rollout"]["halted_reason"]
    refused = api_client("post", f"/releases/{approved.pk}/rollout-advance", user=mike)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "rollout_not_running")
    actions = list(AuditEvent.objects.filter(release_id=approved.pk).values_list("action", flat=True))
    assert actions[-2:] == ["health_breach", "rollout_halt"]


def test_with_auto_revert_a_breach_reverts_the_phased_release(api_client, approved, mike, alice, app):
    app.settings = {"health": {"metrics": {"crash_free_rate": {"min": 0.99}}, "auto_revert": True}}
    app.save()
    rolling(api_client, approved, mike)
    body = api_client(
        "post", f"/releases/{approved.pk}/health", user=alice, metric="crash_free_rate", value=0.97
    ).json()
    assert body["rollout"]["status"] == "reverted"
    approved.refresh_from_db()
    assert approved.state == State.APPROVED
    event = AuditEvent.objects.get(release_id=approved.pk, action="rollout_revert")
    assert event.actor_id is None and event.data["reason"].startswith("Automatic revert: crash_free_rate")


def test_a_required_metric_not_reported_in_its_window_blocks_the_next_stage(
    api_client, approved, mike, alice, app
):
    app.settings = {
        "health": {"metrics": {"js_error_rate": {"max": 0.02, "required": True, "window_minutes": 30}}}
    }
    app.save()
    body = rolling(api_client, approved, mike)
    [advance] = [a for a in body["actions"] if a["name"] == "rollout-advance"]
    assert advance["enabled"] is False and "js_error_rate" in advance["reason"]
    refused = api_client("post", f"/releases/{approved.pk}/rollout-advance", user=mike)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "health_metric_stale")
    api_client("post", f"/releases/{approved.pk}/health", user=alice, metric="js_error_rate", value=0.001)
    assert (
        api_client("post", f"/releases/{approved.pk}/rollout-advance", user=mike).json()["rollout"][
            "percentage"
        ]
        == 20
    )


@pytest.mark.parametrize(
    "body,code",
    [
        ({"metric": "JS Errors!", "value": 1}, "invalid_metric"),
        ({"metric": "x", "value": "high"}, "validation_error"),
    ],
)
def test_a_bad_health_report_is_a_400_and_records_nothing(api_client, approved, alice, body, code):
    response = api_client("post", f"/releases/{approved.pk}/health", user=alice, **body)
    assert response.status_code == 400
    assert not approved.health_samples.exists()


def test_a_viewer_cannot_report_health_and_another_team_gets_a_404(api_client, approved, vera, olga):
    assert (
        api_client("post", f"/releases/{approved.pk}/health", user=vera, metric="x", value=1).status_code
        == 403
    )
    assert (
        api_client("post", f"/releases/{approved.pk}/health", user=olga, metric="x", value=1).status_code
        == 404
    )


def test_the_service_stop_is_for_admins_and_needs_a_reason(api_client, app, adam, mike):
    path = f"/apps/{app.pk}/service"
    assert api_client("post", path, user=mike, online=False, reason="leak").status_code == 403
    refused = api_client("post", path, user=adam, online=False, reason=" ")
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "reason_required")
    body = api_client("post", path, user=adam, online=False, reason="data leak").json()
    shown = (body["online"], body["state"], body["reason"], body["error"])
    assert shown == (False, "offline", "data leak", None)
    assert api_client("get", path, user=mike).json()["state"] == "offline"
    assert App.objects.get(pk=app.pk).service_online is False


def test_the_app_page_shows_an_offline_service_loudly(login, api_client, app, adam, alice):
    api_client("post", f"/apps/{app.pk}/service", user=adam, online=False, reason="data leak")
    page = login(alice).get(reverse("web:app-detail", args=[app.pk])).content.decode()
    assert "SERVICE OFFLINE" in page and "data leak" in page


def test_the_release_page_shows_the_rollout_and_the_publish_button_asks_first(
    login, approved, mike, api_client
):
    client = login(mike)
    page = client.get(reverse("web:release-detail", args=[approved.pk])).content.decode()
    confirm = reverse("web:release-confirm-action", args=[approved.pk, "publish"])
    assert f'href="{confirm}"' in page
    confirmation = client.get(confirm).content.decode()
    assert "Who is affected" in confirmation and "Limits it spends" in confirmation
    response = client.post(
        reverse("web:release-action", args=[approved.pk, "publish"]), {"rollout": "5:120, 20:480, 100"}
    )
    assert response.status_code == 302
    page = client.get(reverse("web:release-detail", args=[approved.pk])).content.decode()
    assert 'data-rollout-status="running"' in page and "5%" in page


def test_the_rollback_confirmation_shows_each_constraint(login, make_release, mike):
    make_release("1.0.0", upto="published")
    second = make_release("1.1.0", upto="published")
    page = (
        login(mike).get(reverse("web:release-confirm-action", args=[second.pk, "rollback"])).content.decode()
    )
    assert page.count('class="ok"') == 3
    assert 'name="reason"' in page and 'name="app_version"' in page


def test_a_team_policy_set_through_the_api_refuses_a_publish_outside_its_window(
    api_client, approved, adam, mike, team
):
    import time_machine

    from releases.limits.clock import BEIJING

    policy = {"windows": [{"days": ["mon", "tue", "wed", "thu"], "from": "10:00", "to": "16:00"}]}
    assert (
        api_client("put", f"/teams/{team.pk}/publish-policy", user=mike, publish_policy=policy).status_code
        == 403
    )
    body = api_client("put", f"/teams/{team.pk}/publish-policy", user=adam, publish_policy=policy).json()
    assert body["publish_policy"]["windows"] == policy["windows"]
    from datetime import datetime

    with time_machine.travel(datetime(2024, 5, 17, 11, 0, tzinfo=BEIJING)):
        refused = api_client("post", f"/releases/{approved.pk}/publish", user=mike)
        assert refused.status_code == 409
        error = refused.json()["error"]
        assert error["code"] == "outside_publish_window"
        assert "2024-05-20 10:00 Beijing time" in error["message"]
        scheduled = api_client(
            "post", f"/releases/{approved.pk}/schedule-publish", user=mike, at="next window"
        )
        assert scheduled.json()["rollout"]["status"] == "scheduled"
        assert scheduled.json()["rollout"]["plan"] == [{"percentage": 100}]
        unscheduled = api_client("post", f"/releases/{approved.pk}/unschedule", user=mike).json()
        assert unscheduled["rollout"] is None


def test_the_phased_release_and_its_confirmation_read_in_chinese(login, approved, mike, api_client):
    from web.language import set_preferred_language

    rolling(api_client, approved, mike)
    set_preferred_language(mike, "zh-hans")
    client = login(mike)
    page = client.get(reverse("web:release-detail", args=[approved.pk])).content.decode()
    assert "分阶段发布" in page and "推进到下一阶段" in page and "第 1 阶段，共 3 阶段" in page
    confirm = client.get(reverse("web:release-confirm-action", args=[approved.pk, "rollout-revert"])).content
    assert "分阶段发布中的 5% 用户" in confirm.decode()


def test_the_publish_confirmation_names_100_percent_in_both_languages(login, approved, mike):
    from web.language import set_preferred_language

    path = reverse("web:release-confirm-action", args=[approved.pk, "publish"])
    assert "Once at 100%, going back" in login(mike).get(path).content.decode()
    set_preferred_language(mike, "zh-hans")
    assert "到达 100% 之后" in login(mike).get(path).content.decode()


def test_the_calendar_shows_windows_holidays_freezes_scheduled_phased_and_planned_versions(
    login, make_release, mike, team, app, api_client
):
    from datetime import date, datetime

    import time_machine

    from releases import services
    from releases.limits.clock import BEIJING
    from releases.windows import parse_policy

    team.publish_policy = parse_policy(
        {
            "windows": [{"days": ["mon", "tue", "wed", "thu"], "from": "10:00", "to": "16:00"}],
            "working_days_only": True,
            "freezes": [
                {"from": "2024-10-09T00:00", "to": "2024-10-10T00:00", "reason": "Golden week cleanup"}
            ],
        }
    )
    team.save()
    with time_machine.travel(datetime(2024, 9, 26, 9, 0, tzinfo=BEIJING)):
        scheduled = make_release("1.1.0", upto="approved")
        services.release_schedule_publish(release=scheduled, actor=mike, at="next window")
        planned = services.release_create(app=app, actor=mike, version="2.0.0", target_date=date(2024, 12, 1))
        page = login(mike).get(reverse("web:calendar")).content.decode()
    assert "National Day" in page and "Make-up working day" in page
    assert "Golden week cleanup" in page
    assert "2024-09-26 10:00" in page and "Shop 1.1.0" in page  # the scheduled publish
    assert "2024-12-01" in page and f"/releases/{planned.pk}/" in page
    assert "Within three months" in page


def test_a_service_change_in_flight_or_failed_shows_on_the_app_page_and_in_the_api(
    login, api_client, app, adam, alice
):
    from releases.urgent_services import _app_transition

    _app_transition(app, "service_stop", actor=adam, action="service_change_requested", data={}, args={})
    page = login(alice).get(reverse("web:app-detail", args=[app.pk])).content.decode()
    assert "Taking the service offline" in page and "Emergency stop…" not in page
    refused = api_client("post", f"/apps/{app.pk}/service", user=adam, online=False, reason="again")
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "service_change_in_flight")

    App.objects.filter(pk=app.pk).update(
        service_state="stop_failed", service_error="system error", service_error_code="wechat_-1"
    )
    body = api_client("get", f"/apps/{app.pk}/service", user=alice).json()
    assert (body["state"], body["online"], body["error"]) == (
        "stop_failed",
        True,
        {"code": "wechat_-1", "message": "system error"},
    )
    page = login(adam).get(reverse("web:app-detail", args=[app.pk])).content.decode()
    assert "The emergency stop failed" in page and "wechat_-1" in page and "Try again…" in page


def test_a_speedup_in_flight_or_refused_shows_on_the_release_page_and_in_the_api(
    login, api_client, make_release, mike
):
    from releases.models import Release

    release = make_release("1.1.0", upto="submitted")
    assert api_client("get", f"/releases/{release.pk}", user=mike).json()["speedup"] is None
    Release.objects.filter(pk=release.pk).update(speedup_state="requesting")
    assert api_client("get", f"/releases/{release.pk}", user=mike).json()["speedup"] == {
        "state": "requesting",
        "error": None,
    }
    page = login(mike).get(reverse("web:release-detail", args=[release.pk])).content.decode()
    assert "Speed-up requested" in page
    Release.objects.filter(pk=release.pk).update(
        speedup_state="failed", speedup_error_code="wechat_89403", speedup_error="not eligible"
    )
    page = login(mike).get(reverse("web:release-detail", args=[release.pk])).content.decode()
    assert "Speed-up refused" in page and "wechat_89403" in page
