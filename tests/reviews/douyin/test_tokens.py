"""Douyin's v2 tokens: one component token shared by every worker, never fetched while it is good,
and the 5-minute grace a new token gives the old one (time travelled with time-machine)."""

import time

import time_machine

from releases.models import App
from releases.platforms import adapter_for
from reviews.platforms.douyin.tokens import Tokens
from simulator.douyin import state as sim_state
from tests.fixtures.douyin import DY_APPID, DY_COMPONENT

HOUR = 3600


def fetches() -> int:
    return sim_state.load("component", DY_COMPONENT)["fetches"]


def test_workers_share_one_component_token_and_do_not_fetch_while_it_is_good(douyin_sim):
    first, second = Tokens(douyin_sim.account), Tokens(douyin_sim.account)  # two workers
    for _ in range(3):
        adapter_for(douyin_sim.account).versions(douyin_sim.app)
    assert first.component_token() == second.component_token()
    assert fetches() == 1


def test_a_token_near_its_end_is_replaced_and_the_old_one_still_works_in_the_grace_period(douyin_sim):
    tokens = Tokens(douyin_sim.account)
    old = tokens.component_token()
    with time_machine.travel(time.time() + 2 * HOUR - 5 * 60, tick=True):  # 5 minutes left: cache gone
        new = tokens.component_token()
        assert new != old and fetches() == 2
        assert sim_state.check_component_token(old)  # still accepted: the grace period
    with time_machine.travel(time.time() + 2 * HOUR + 60, tick=True):
        try:
            sim_state.check_component_token(old)
        except sim_state.SimError as exc:
            assert exc.err_no == 28001003  # retired 5 minutes after the new one
        else:
            raise AssertionError("the old token outlived its grace period")


def test_a_token_another_worker_already_replaced_is_not_refreshed_again(douyin_sim):
    """Worker A holds a token; worker B renews it; after the grace A is refused and simply picks up
    B's token from the cache instead of fetching a third (which would retire B's)."""
    stale = Tokens(douyin_sim.account).component_token()
    Tokens(douyin_sim.account).renew_component_token()  # worker B
    assert fetches() == 2
    with time_machine.travel(time.time() + 6 * 60, tick=True):
        answer = Tokens(douyin_sim.account).as_component(
            lambda token: sim_state.check_component_token(stale if token == stale else token)
        )
    assert answer["appid"] == DY_COMPONENT
    assert fetches() == 2


def test_every_authorizer_refresh_keeps_the_new_single_use_refresh_token(douyin_sim):
    adapter_for(douyin_sim.account).versions(douyin_sim.app)
    saved = App.objects.get(pk=douyin_sim.app.pk).authorizer_refresh_token
    on_douyin = sim_state.load("app", DY_APPID)
    assert saved == on_douyin["refresh_token"] != "rt.first"
    assert on_douyin["refreshes"] == 1


def test_a_refused_authorizer_token_is_refreshed_once_and_the_call_succeeds(douyin_sim):
    adapter = adapter_for(douyin_sim.account)
    adapter.versions(douyin_sim.app)
    with sim_state.changing("app", DY_APPID) as doc:
        doc["access_expires"] = 0  # Douyin expired it early: 28001008
    douyin_sim.app.refresh_from_db()
    assert adapter_for(douyin_sim.account).versions(douyin_sim.app) == {}
    assert sim_state.load("app", DY_APPID)["refreshes"] == 2
