"""Douyin's pushes: believed only when signed, fresh and for our component app; a PACKAGE_AUDIT
push is confirmed with versions before anything changes."""

import time

from reviews.models import CallbackDelivery, ComponentTicket
from tests.fixtures.douyin import DY_APPID

TICKET = {
    "Ticket": "ticket-from-douyin",
    "FromUserName": "ByteDanceMicroApp",
    "CreateTime": "2026-12-07 18:00:00",
    "MsgType": "Ticket",
    "Event": "PUSH",
}


def test_a_signed_ticket_push_is_stored_and_answered_success(db, douyin_push, douyin_account):
    response = douyin_push("auth", TICKET)
    assert response.status_code == 200 and response.content == b"success"
    assert ComponentTicket.objects.get(account=douyin_account).ticket == "ticket-from-douyin"


def test_a_push_with_a_bad_signature_is_refused_and_changes_nothing(db, douyin_push, douyin_account):
    response = douyin_push("auth", TICKET, signature="0" * 40)
    assert response.status_code == 403
    assert not ComponentTicket.objects.exists()
    assert not CallbackDelivery.objects.exists()


def test_a_push_signed_with_another_token_or_for_another_component_is_refused(db, douyin_push):
    assert douyin_push("auth", TICKET, token="not-ours").status_code == 403
    assert douyin_push("auth", TICKET, appid="tt9999999999999999").status_code == 403
    assert douyin_push("auth", TICKET, timestamp=int(time.time()) - 3600).status_code == 403
    assert not ComponentTicket.objects.exists()


def test_a_body_without_the_envelope_is_a_400(db, douyin_push):
    assert douyin_push("auth", TICKET, body=b'{"Ticket": "plain"}').status_code == 400
    assert not ComponentTicket.objects.exists()


def test_an_audit_push_with_no_release_in_review_is_acknowledged_and_ignored(db, douyin_push, douyin_app):
    response = douyin_push("events", {"AppId": DY_APPID, "Event": "PACKAGE_AUDIT", "AuditResults": []})
    assert response.status_code == 200
    assert CallbackDelivery.objects.get().outcome == "ignored"


def test_a_forged_package_audit_push_changes_no_release(douyin_sim, douyin_push, douyin_release):
    from releases.models import Release, State

    release = douyin_release(state=State.SUBMITTED, platform_audit_id="1")
    response = douyin_push("events", {"AppId": DY_APPID, "Event": "PACKAGE_AUDIT"}, signature="f" * 40)
    assert response.status_code == 403
    assert Release.objects.get(pk=release.pk).state == State.SUBMITTED


def test_an_authorized_push_exchanges_its_code_for_the_apps_tokens(douyin_sim, douyin_push):
    from releases.models import App
    from simulator.douyin import state as sim_state

    App.objects.filter(pk=douyin_sim.app.pk).update(authorizer_refresh_token="", authorization_problem="lost")
    code = sim_state.issue_auth_code(DY_APPID)
    event = {
        "AppId": DY_APPID,
        "TpAppId": "tt5823bf96d3bd56c7",
        "Event": "AUTHORIZED",
        "AuthorizationCode": code,
    }

    assert douyin_push("auth", {**event, "EventTime": "2026-12-07 18:00:00"}).status_code == 200

    app = App.objects.get(pk=douyin_sim.app.pk)
    assert app.authorizer_refresh_token == sim_state.load("app", DY_APPID)["refresh_token"]
    assert app.authorization_problem == ""


def test_an_unauthorized_push_flags_the_app(db, douyin_push, douyin_app):
    from releases.models import App

    push = {"AppId": DY_APPID, "Event": "UNAUTHORIZED", "EventTime": "2026-12-07 18:00:00"}
    assert douyin_push("auth", push).status_code == 200
    assert App.objects.get(pk=douyin_app.pk).authorization_lost_at is not None
