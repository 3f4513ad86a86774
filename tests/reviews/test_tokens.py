"""Access tokens: cached with a margin, fetched once under concurrency, refreshed once when refused."""

import json
import threading

import httpx
import pytest
from django.db import connection

from releases.crypto import encrypt
from releases.models import App
from reviews.models import ComponentTicket
from reviews.platforms.wechat.client import WeChatClient
from reviews.platforms.wechat.errors import WeChatError
from reviews.platforms.wechat.tokens import Tokens, cache_seconds
from simulator.services import sim_expire_tokens
from tests.reviews.wechat_helpers import adapter, calls

# The simulator fixtures, shared with the adapter tests.

COMPONENT_TOKEN_CALL = "cgi-bin/component/api_component_token"
AUTHORIZER_TOKEN_CALL = "cgi-bin/component/api_authorizer_token"


def in_threads(count: int, work) -> list:
    """Run `work` in `count` threads released at the same instant; return what each got."""
    barrier, results, errors = threading.Barrier(count), [], []

    def run():
        try:
            barrier.wait()
            results.append(work())
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    return results


def test_a_token_is_kept_until_ten_minutes_before_it_expires():
    assert cache_seconds(7200) == 6600
    assert cache_seconds(600) == 300  # a short-lived token is kept for half its life


def test_tokens_are_fetched_once_and_then_served_from_redis(sim, redis_db):
    for _ in range(3):
        adapter(sim).queryquota(sim.app)
    assert calls(COMPONENT_TOKEN_CALL).count() == 1
    assert calls(AUTHORIZER_TOKEN_CALL).count() == 1
    key = Tokens(sim.account)._authorizer_key(sim.app)
    assert 6500 < redis_db.ttl(key) <= 6600


def test_cached_tokens_are_encrypted_in_redis(sim, redis_db):
    token = Tokens(sim.account).component_token()
    stored = redis_db.get(Tokens(sim.account)._component_key())
    assert token.encode() not in stored


def test_concurrent_workers_fetch_the_component_token_once(sim):
    tokens = in_threads(8, lambda: Tokens(sim.account).component_token())
    assert len(set(tokens)) == 1
    assert calls(COMPONENT_TOKEN_CALL).count() == 1


def test_concurrent_workers_fetch_an_app_token_once(sim):
    app_id = sim.app.pk
    tokens = in_threads(8, lambda: Tokens(sim.account).authorizer_token(App.objects.get(pk=app_id)))
    assert len(set(tokens)) == 1
    assert calls(COMPONENT_TOKEN_CALL).count() == 1
    assert calls(AUTHORIZER_TOKEN_CALL).count() == 1


def test_a_refused_token_is_refreshed_once_and_the_call_retried(sim, redis_db):
    tokens = Tokens(sim.account)
    redis_db.set(tokens._authorizer_key(sim.app), encrypt("revoked"))
    quota = adapter(sim).queryquota(sim.app)
    assert quota.limit > 0
    assert [c.errcode for c in calls("wxa/queryquota")] == [40001, 0]
    assert calls(AUTHORIZER_TOKEN_CALL).count() == 1


def test_an_expired_token_is_refreshed_once(sim):
    adapter(sim).queryquota(sim.app)
    sim_expire_tokens()  # WeChat expired them early: 42001
    adapter(sim).queryquota(sim.app)
    assert [c.errcode for c in calls("wxa/queryquota")] == [0, 42001, 0]
    # The app token's refresh found the component token expired too, and refreshed it once.
    assert [c.errcode for c in calls(AUTHORIZER_TOKEN_CALL)] == [0, 42001, 0]
    assert calls(COMPONENT_TOKEN_CALL).count() == 2


def test_a_token_refused_twice_is_not_retried_a_third_time(sim, redis_db):
    adapter(sim).queryquota(sim.app)
    sim_expire_tokens()
    redis_db.flushdb()
    ComponentTicket.objects.update(ticket="ticket-that-wechat-never-issued")
    with pytest.raises(WeChatError) as caught:
        adapter(sim).queryquota(sim.app)
    assert caught.value.errcode == 61006 and caught.value.permanent


class ExpiringRightAfterFetch(WeChatClient):
    """WeChat voids every token the moment an app token is fetched (a renewal elsewhere, an expiry)."""

    def post(self, path, schema, **kwargs):
        answer = super().post(path, schema, **kwargs)
        if path.endswith("api_authorizer_token"):
            sim_expire_tokens()
        return answer


def test_a_token_refused_again_right_after_its_refresh_fails_transiently_so_the_step_retries(sim):
    adapter(sim).queryquota(sim.app)
    sim_expire_tokens()
    unlucky = adapter(sim)
    unlucky.client = unlucky.tokens.client = ExpiringRightAfterFetch()
    with pytest.raises(WeChatError) as caught:
        unlucky.queryquota(sim.app)
    assert caught.value.errcode == 42001 and not caught.value.permanent
    assert [c.errcode for c in calls("wxa/queryquota")] == [0, 42001, 42001]
    assert adapter(sim).queryquota(sim.app).limit > 0  # the next attempt, with a fresh token


def test_without_a_ticket_the_error_says_to_check_the_callback_url(sim, redis_db):
    ComponentTicket.objects.all().delete()
    with pytest.raises(WeChatError) as caught:
        adapter(sim).queryquota(sim.app)
    assert caught.value.permanent and caught.value.code == "wechat_no_ticket"
    assert "has not pushed a component_verify_ticket" in caught.value.message
    assert "callback URL" in caught.value.message
    assert calls(COMPONENT_TOKEN_CALL).count() == 0


def test_a_revoked_authorization_says_the_app_must_authorize_again(sim):
    sim.app.authorizer_refresh_token = "no-longer-valid"
    sim.app.save()
    with pytest.raises(WeChatError) as caught:
        adapter(sim).queryquota(sim.app)
    assert caught.value.errcode == 61023 and caught.value.permanent
    assert "authorize the platform again" in caught.value.message


def test_an_app_that_never_authorized_gets_a_clear_error(sim):
    sim.app.authorizer_refresh_token = ""
    sim.app.save()
    with pytest.raises(WeChatError) as caught:
        adapter(sim).queryquota(sim.app)
    assert caught.value.permanent and "has not authorized the platform account" in caught.value.message


def test_a_new_refresh_token_from_wechat_replaces_the_stored_one(wechat_app, redis_db):
    """The simulator never rotates refresh tokens, so WeChat's answer is given at the network edge."""
    ComponentTicket.objects.create(account=wechat_app.platform_account, ticket="ticket")

    def wechat(request):
        if request.url.path.endswith("api_component_token"):
            return httpx.Response(200, json={"component_access_token": "c-token", "expires_in": 7200})
        assert json.loads(request.content)["authorizer_refresh_token"] == "refresh-1"
        return httpx.Response(
            200,
            json={
                "authorizer_access_token": "a-token",
                "expires_in": 7200,
                "authorizer_refresh_token": "refresh-2",
            },
        )

    client = WeChatClient(base_url="https://wechat.test", transport=httpx.MockTransport(wechat))
    assert Tokens(wechat_app.platform_account, client).authorizer_token(wechat_app) == "a-token"
    assert App.objects.get(pk=wechat_app.pk).authorizer_refresh_token == "refresh-2"


def test_tokens_are_kept_in_the_cache_redis_not_the_queues_one(settings, wechat_account):
    """An evicted token is fetched again; the queues' Redis must never evict, so tokens stay out of it."""
    settings.CACHE_URL = "redis://cache.invalid:6379/3"  # never reached: only where it points
    kwargs = Tokens(wechat_account).redis.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["db"]) == ("cache.invalid", 3)
