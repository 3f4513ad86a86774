"""Guessing is throttled: wrong passwords lock a username out from one address, unknown API tokens
lock the address out of the API; each lockout is audited once and an admin can lift it (issue 11)."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from releases.models import AuditEvent
from releases.tokens import api_token_create

# The documented defaults (README, Configuration), which these tests run with.
LOGIN_LIMIT, TOKEN_LIMIT, MINUTES = 5, 10, 15
ATTACKER = "203.0.113.7"
ELSEWHERE = "198.51.100.20"


def test_the_limits_are_the_documented_defaults():
    assert (settings.LOGIN_FAILURE_LIMIT, settings.API_TOKEN_FAILURE_LIMIT) == (LOGIN_LIMIT, TOKEN_LIMIT)
    assert settings.LOCKOUT_MINUTES == MINUTES


def _login(client, username, password, address=ATTACKER, **meta):
    meta.setdefault("REMOTE_ADDR", address)
    return client.post("/login/", {"username": username, "password": password}, **meta)


def _guess(client, username, times, address=ATTACKER):
    for n in range(times):
        _login(client, username, f"wrong-{n}", address)


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


# -- logins ----------------------------------------------------------------------------------------


def test_after_five_wrong_passwords_even_the_right_one_is_refused(client, alice):
    _guess(client, "alice", LOGIN_LIMIT)

    response = _login(client, "alice", "pw-alice")

    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert not _signed_in(client)


def test_fewer_wrong_passwords_than_the_limit_still_let_the_right_one_in(client, alice):
    _guess(client, "alice", LOGIN_LIMIT - 1)

    assert _login(client, "alice", "pw-alice").status_code == 302
    assert _signed_in(client)


def test_the_lockout_holds_one_username_from_one_address_only(client, alice, mike):
    _guess(client, "alice", LOGIN_LIMIT + 3)

    assert _login(client, "mike", "pw-mike").status_code == 302  # another user, same address
    client.logout()
    assert _login(client, "alice", "pw-alice", address=ELSEWHERE).status_code == 302  # alice elsewhere


def test_a_lockout_is_audited_once_in_the_team_of_the_user(client, alice, team):
    _guess(client, "alice", LOGIN_LIMIT + 5)

    event = AuditEvent.objects.get(action="login_lockout")
    assert event.team_id == team.pk
    assert event.ip == ATTACKER
    assert event.actor_id is None  # the system locked it
    assert (event.target_type, event.target_id) == ("user", alice.pk)
    assert event.data == {"username": "alice", "failures": LOGIN_LIMIT, "minutes": 15}


def test_a_lockout_of_a_name_that_is_no_user_is_audited_without_the_name(client, db):
    _guess(client, "hunter2-typed-in-the-wrong-field", LOGIN_LIMIT)

    event = AuditEvent.objects.get(action="login_lockout")
    assert event.team_id is None
    assert "hunter2" not in str(event.data)


def test_the_lockout_ends_after_the_cool_off(client, alice):
    _guess(client, "alice", LOGIN_LIMIT)

    with time_machine.travel(timezone.now() + timedelta(minutes=MINUTES, seconds=5)):
        assert _login(client, "alice", "pw-alice").status_code == 302


def test_an_admin_lifts_a_lockout_with_axes_reset_username(client, alice):
    _guess(client, "alice", LOGIN_LIMIT)

    call_command("axes_reset_username", "alice")

    assert _login(client, "alice", "pw-alice").status_code == 302


def test_force_login_of_the_tests_is_not_throttled(client, alice):
    _guess(client, "alice", LOGIN_LIMIT)
    client.force_login(alice)
    assert client.get("/ping/").status_code == 200


# -- API tokens ------------------------------------------------------------------------------------


def _api(client, token, address=ATTACKER):
    return client.get("/api/v1/apps", headers={"Authorization": f"Bearer {token}"}, REMOTE_ADDR=address)


def _bad_tokens(client, times, address=ATTACKER):
    return [_api(client, f"slc_guess{n:04d}", address).status_code for n in range(times)]


@pytest.fixture
def token(alice):
    return api_token_create(user=alice)


def test_an_address_sending_unknown_tokens_is_locked_out_of_the_api_even_with_a_valid_one(client, token):
    assert _bad_tokens(client, TOKEN_LIMIT) == [401] * TOKEN_LIMIT

    response = _api(client, token)

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "too_many_attempts"
    assert 0 < int(response["Retry-After"]) <= MINUTES * 60


def test_other_addresses_keep_using_the_api_during_a_lockout(client, token):
    _bad_tokens(client, TOKEN_LIMIT)

    assert _api(client, token, address=ELSEWHERE).status_code == 200


def test_a_token_lockout_is_audited_once_with_the_address(client, token):
    _bad_tokens(client, TOKEN_LIMIT + 5)

    event = AuditEvent.objects.get(action="api_token_lockout")
    assert event.ip == ATTACKER
    assert event.data == {"failures": TOKEN_LIMIT, "minutes": 15}


def test_fewer_unknown_tokens_than_the_limit_change_nothing_for_a_valid_one(client, token):
    _bad_tokens(client, TOKEN_LIMIT - 1)

    assert _api(client, token).status_code == 200
    assert not AuditEvent.objects.filter(action="api_token_lockout").exists()


def test_a_token_lockout_ends_after_the_cool_off(client, token):
    _bad_tokens(client, TOKEN_LIMIT)

    with time_machine.travel(timezone.now() + timedelta(minutes=MINUTES, seconds=5)):
        assert _api(client, token).status_code == 200


def test_an_admin_lifts_a_token_lockout_with_api_token_unlock(client, token, capsys):
    _bad_tokens(client, TOKEN_LIMIT)

    call_command("api_token_unlock", ATTACKER)

    assert "may use the API again" in capsys.readouterr().out
    assert _api(client, token).status_code == 200


# -- behind a reverse proxy ------------------------------------------------------------------------

PROXY = "172.18.0.1"


def test_behind_a_trusted_proxy_the_lockouts_go_by_the_address_the_proxy_saw(client, settings, token, alice):
    settings.TRUSTED_PROXY_COUNT = 1
    attacker = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": f"{ELSEWHERE}, {ATTACKER}"}  # left: forged
    someone = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": ELSEWHERE}
    for n in range(TOKEN_LIMIT):
        client.get("/api/v1/apps", headers={"Authorization": f"Bearer slc_guess{n:04d}"}, **attacker)
    for n in range(LOGIN_LIMIT):
        client.post("/login/", {"username": "alice", "password": f"wrong-{n}"}, **attacker)

    assert (
        client.get("/api/v1/apps", headers={"Authorization": f"Bearer {token}"}, **attacker).status_code
        == 429
    )
    assert (
        client.get("/api/v1/apps", headers={"Authorization": f"Bearer {token}"}, **someone).status_code == 200
    )
    assert client.post("/login/", {"username": "alice", "password": "pw-alice"}, **someone).status_code == 302
    assert set(AuditEvent.objects.values_list("ip", flat=True)) == {ATTACKER}


def test_an_address_that_is_no_address_in_x_forwarded_for_falls_back_to_the_connection(
    client, settings, alice
):
    settings.TRUSTED_PROXY_COUNT = 2  # more than the chain has: the client wrote the entry used
    forged = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "not-an-address, 203.0.113.7"}
    codes = [_login(client, "alice", f"wrong-{n}", **forged).status_code for n in range(LOGIN_LIMIT)]
    assert codes == [200] * (LOGIN_LIMIT - 1) + [429]  # never a 500 from storing "not-an-address"
    assert AuditEvent.objects.get(action="login_lockout").ip == PROXY
