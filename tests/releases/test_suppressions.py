"""Per-app suppression of a check: reason and expiry required, audited, visible on every later run."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from releases import app_services, services
from releases.errors import Forbidden, Invalid, Refused
from releases.models import AuditEvent, CheckRun, CheckSuppression

BAD_NOTES = {"review_notes": "test"}


def _run(release, actor):
    try:
        return services.release_check(release=release, actor=actor)
    except Refused as err:
        return CheckRun.objects.get(pk=err.details["run_id"])


def _suppress(app, actor, days=0, key="review_notes"):
    return app_services.app_suppress_check(
        app=app,
        actor=actor,
        key=key,
        reason="Reviewers know this internal tool; notes are in the wiki.",
        expires_on=timezone.localdate() + timedelta(days=days),
    )


def test_a_suppressed_check_shows_as_suppressed_with_its_reason_and_expiry(app, make_release, alice, mike):
    suppression = _suppress(app, mike, days=0)  # expires today: still applies today
    run = _run(make_release(**BAD_NOTES), alice)
    result = run.results.get(key="review_notes")
    assert result.status == "suppressed" and not result.blocks
    assert "notes are in the wiki" in result.message
    assert result.evidence["suppression"]["expires_on"] == suppression.expires_on.isoformat()
    assert result.evidence["suppression"]["created_by"] == "mike"
    assert run.passed


def test_an_expired_suppression_no_longer_applies(app, make_release, alice, mike):
    suppression = _suppress(app, mike, days=0)
    CheckSuppression.objects.filter(pk=suppression.pk).update(
        expires_on=timezone.localdate() - timedelta(days=1)  # the day after its expiry date
    )
    run = _run(make_release(**BAD_NOTES), alice)
    assert run.results.get(key="review_notes").status == "failed"
    assert not run.passed


def test_a_removed_suppression_no_longer_applies_and_both_steps_are_audited(app, make_release, alice, mike):
    suppression = _suppress(app, mike, days=30)
    app_services.app_unsuppress_check(app=app, actor=mike, suppression_id=suppression.pk)
    assert _run(make_release(**BAD_NOTES), alice).results.get(key="review_notes").status == "failed"
    actions = list(AuditEvent.objects.filter(app_id=app.pk).values_list("action", "actor_name", "data__key"))
    assert ("check_suppress", "mike", "review_notes") in actions
    assert ("check_unsuppress", "mike", "review_notes") in actions
    suppression.refresh_from_db()
    assert suppression.removed_by == mike and suppression.removed_at is not None


def test_only_release_managers_suppress_and_a_reason_and_a_future_expiry_are_required(app, alice, mike):
    with pytest.raises(Forbidden):
        _suppress(app, alice, days=3)
    today = timezone.localdate()
    cases = [
        ({"key": "review_notes", "reason": " ", "expires_on": today}, "reason_required"),
        ({"key": "review_notes", "reason": "x", "expires_on": None}, "expires_on_required"),
        ({"key": "review_notes", "reason": "x", "expires_on": today - timedelta(days=1)}, "invalid_date"),
        ({"key": "no_such_check", "reason": "x", "expires_on": today}, "unknown_check"),
    ]
    for kwargs, code in cases:
        with pytest.raises(Invalid) as err:
            app_services.app_suppress_check(app=app, actor=mike, **kwargs)
        assert err.value.code == code
    assert not CheckSuppression.objects.exists()
    assert not AuditEvent.objects.filter(action="check_suppress").exists()


def test_suppressing_again_replaces_the_live_suppression(app, mike):
    first = _suppress(app, mike, days=3)
    second = _suppress(app, mike, days=10)
    first.refresh_from_db()
    assert first.removed_at is not None and second.removed_at is None
    assert CheckSuppression.objects.filter(app=app, removed_at=None).count() == 1


def test_the_api_creates_lists_and_removes_suppressions(api_client, app, mike, alice):
    until = (timezone.localdate() + timedelta(days=7)).isoformat()
    body = {
        "key": "first_screen",
        "reason": "Measured on the old CI runner; fixed next sprint.",
        "expires_on": until,
    }
    assert api_client("post", f"/apps/{app.pk}/suppressions", user=alice, **body).status_code == 403
    created = api_client("post", f"/apps/{app.pk}/suppressions", user=mike, **body)
    assert created.status_code == 201, created.content
    assert (created.json()["active"], created.json()["created_by"]) == (True, "mike")
    listed = api_client("get", f"/apps/{app.pk}/suppressions", user=alice).json()["results"]
    assert [s["key"] for s in listed] == ["first_screen"]
    sid = created.json()["id"]
    removed = api_client("delete", f"/apps/{app.pk}/suppressions/{sid}", user=mike)
    assert removed.status_code == 200 and removed.json()["active"] is False
    assert api_client("delete", f"/apps/{app.pk}/suppressions/{sid}", user=mike).status_code == 404


def test_a_release_manager_suppresses_a_check_from_the_app_page(client, app, mike, alice):
    client.force_login(mike)
    until = (timezone.localdate() + timedelta(days=7)).isoformat()
    response = client.post(
        reverse("web:suppression-create", args=[app.pk]),
        {"key": "error_monitoring", "reason": "Monitoring ships in 2.0.", "expires_on": until},
        follow=True,
    )
    page = response.content.decode()
    assert "is suppressed until" in page
    assert "Monitoring ships in 2.0." in page
    client.force_login(alice)
    page = client.get(reverse("web:app-detail", args=[app.pk])).content.decode()
    assert "Monitoring ships in 2.0." in page
    assert reverse("web:suppression-create", args=[app.pk]) not in page  # no form for a developer
