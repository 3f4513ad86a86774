"""Qualifications: valid now and through the 7-day review window, at check time and again at submit."""

from datetime import timedelta

import pytest
from django.utils import timezone

from releases import app_services, services
from releases.checks.qualifications import REVIEW_WINDOW_DAYS
from releases.errors import Forbidden, Invalid, Refused
from releases.models import AuditEvent, Qualification, Release, State


def _days(n):
    return timezone.localdate() + timedelta(days=n)


@pytest.fixture
def add(app, mike):
    def qualification(days, kind="category_permit", name="食品经营许可证", number="JY13101050000001"):
        expires = None if days is None else _days(days)
        return app_services.app_add_qualification(
            app=app, actor=mike, kind=kind, name=name, number=number, expires_on=expires
        )

    return qualification


def test_an_expired_permit_fails_the_check_naming_it(run_check, add):
    add(-1)
    outcome = run_check("qualifications")
    assert not outcome.passed
    assert f"食品经营许可证 JY13101050000001 expired on {_days(-1).isoformat()}" in outcome.message
    assert outcome.evidence["problems"][0]["number"] == "JY13101050000001"


def test_a_permit_expiring_inside_the_review_window_fails(run_check, add):
    add(REVIEW_WINDOW_DAYS - 1)
    outcome = run_check("qualifications")
    assert not outcome.passed
    assert "inside the 7-day review window" in outcome.message


def test_a_permit_valid_through_the_last_day_of_the_window_passes(run_check, add):
    add(REVIEW_WINDOW_DAYS)
    add(None, kind="business_licence", name="营业执照", number="91310000MA1DEMO00X")  # no expiry
    assert run_check("qualifications").passed


def test_an_app_without_qualifications_passes_with_a_note(run_check):
    outcome = run_check("qualifications")
    assert outcome.passed and "No qualifications" in outcome.message


def test_submit_is_refused_when_a_permit_expired_after_the_checks(make_release, mike, add):
    permit = add(30)
    release = make_release(upto="approved_by_manager")
    Qualification.objects.filter(pk=permit.pk).update(expires_on=_days(-1))  # time passed
    with pytest.raises(Refused) as err:
        services.release_submit(release=release, actor=mike)
    assert err.value.code == "qualification_expired"
    assert "expired on" in err.value.message and "Renew it on the app page" in err.value.message
    assert Release.objects.get(pk=release.pk).state == State.CHECKED


def test_submit_goes_through_with_valid_permits(make_release, mike, add):
    add(30)
    release = make_release(upto="approved_by_manager")
    assert services.release_submit(release=release, actor=mike).state == State.SUBMITTED


def test_only_release_managers_record_qualifications_and_it_is_audited(app, alice, mike):
    with pytest.raises(Forbidden):
        app_services.app_add_qualification(app=app, actor=alice, kind="business_licence", number="X1")
    with pytest.raises(Invalid) as err:
        app_services.app_add_qualification(app=app, actor=mike, kind="licence", number="X1")
    assert err.value.code == "invalid_kind"
    q = app_services.app_add_qualification(
        app=app, actor=mike, kind="business_licence", number="X1", expires_on="2099-12-31"
    )
    event = AuditEvent.objects.get(action="qualification_add")
    assert (event.actor_name, event.app_id, event.data["expires_on"]) == ("mike", app.pk, "2099-12-31")
    app_services.app_remove_qualification(app=app, actor=mike, qualification_id=q.pk)
    assert not app.qualifications.exists()
    assert AuditEvent.objects.filter(action="qualification_remove", data__number="X1").exists()


def test_the_api_lists_qualifications_with_their_problem(api_client, app, mike, alice):
    response = api_client(
        "post",
        f"/apps/{app.pk}/qualifications",
        user=mike,
        kind="category_permit",
        name="ICP",
        number="沪ICP备0001",
        expires_on=_days(3).isoformat(),
    )
    assert response.status_code == 201, response.content
    assert "inside the 7-day review window" in response.json()["problem"]
    listed = api_client("get", f"/apps/{app.pk}/qualifications", user=alice).json()["results"]
    assert [q["number"] for q in listed] == ["沪ICP备0001"]
    bad = api_client("post", f"/apps/{app.pk}/qualifications", user=mike, kind="x", number="1")
    assert bad.status_code == 400
