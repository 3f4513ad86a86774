"""A WeChat third-party platform account, one authorized mini program, and its releases in review.

`wechat_push` delivers an event to Sluice's callback URLs exactly as WeChat does
(encrypted, signed, through the real URL), for any test that needs a push.
"""

import copy
import time
from types import SimpleNamespace
from urllib.parse import urlencode

import django_rq
import pytest
from django.utils import timezone

from releases import services
from releases.models import App, PlatformAccount, Release
from reviews.models import ComponentTicket
from reviews.platforms.wechat.crypto import encrypted_envelope
from reviews.platforms.wechat.events import to_xml
from simulator.services import (
    sim_current_ticket,
    sim_push_ticket,
    sim_register_authorizer,
    sim_register_component,
)
from tests.conftest import GOOD_NOTES, GOOD_REPORT

COMPONENT_APPID = "wxcomponent000001"
COMPONENT_SECRET = "component-secret-000001"
MESSAGE_TOKEN = "sluice-message-token"
ENCODING_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APPID = "wxapp00000000001"
ORIGINAL_ID = "gh_fb9688c2a4b2"


@pytest.fixture
def wechat_account(team):
    return PlatformAccount.objects.create(
        team=team,
        platform="wechat",
        name="WeChat platform",
        component_appid=COMPONENT_APPID,
        component_appsecret=COMPONENT_SECRET,
        message_token=MESSAGE_TOKEN,
        encoding_aes_key=ENCODING_AES_KEY,
    )


@pytest.fixture
def wechat_app(team, wechat_account):
    return App.objects.create(
        team=team,
        platform_account=wechat_account,
        name="Shop (WeChat)",
        appid=APPID,
        authorizer_refresh_token="refresh-1",
    )


@pytest.fixture
def wechat_release(wechat_app, alice):
    """A release of `wechat_app` already in review on the platform under `audit_id`."""

    def make(version="1.0.0", *, audit_id="412345678", state="submitted"):
        release = services.release_create(
            app=wechat_app,
            actor=alice,
            version=version,
            review_notes=GOOD_NOTES,
            build_report=copy.deepcopy(GOOD_REPORT),
        )
        Release.objects.filter(pk=release.pk).update(
            state=state, platform_audit_id=audit_id, submitted_at=timezone.now()
        )
        return Release.objects.get(pk=release.pk)

    return make


def callback_path(account, endpoint: str, appid: str = APPID) -> str:
    if endpoint == "auth":
        return f"/callbacks/wechat/{account.callback_key}/auth"
    return f"/callbacks/wechat/{account.callback_key}/{appid}/events"


@pytest.fixture
def wechat_push(client, wechat_account):
    """POST one event (a dict of WeChat fields, or a ready plaintext) the way WeChat would.

    Keyword overrides forge parts of the delivery: `token`, `aes_key`, `appid` (the
    trailing appid inside the ciphertext), `timestamp`, `signature`, `body`, `account`.
    """

    def push(endpoint: str, event, *, url_appid: str = APPID, **forge):
        account = forge.get("account", wechat_account)
        timestamp = str(forge.get("timestamp", int(time.time())))
        nonce = forge.get("nonce", "1320562132")
        plaintext = event if isinstance(event, str) else to_xml(event)
        body, signature = encrypted_envelope(
            plaintext,
            token=forge.get("token", MESSAGE_TOKEN),
            encoding_aes_key=forge.get("aes_key", ENCODING_AES_KEY),
            appid=forge.get("appid", COMPONENT_APPID),
            timestamp=timestamp,
            nonce=nonce,
        )
        query = urlencode(
            {
                "signature": "legacy-unused",
                "timestamp": timestamp,
                "nonce": nonce,
                "encrypt_type": "aes",
                "msg_signature": forge.get("signature", signature),
            }
        )
        return client.post(
            f"{callback_path(account, endpoint, url_appid)}?{query}",
            data=forge.get("body", body),
            content_type=forge.get("content_type", "text/xml"),
        )

    return push


@pytest.fixture
def redis_db():
    connection = django_rq.get_connection("default")
    connection.flushdb()
    yield connection
    connection.flushdb()


@pytest.fixture
def sim(transactional_db, live_server, settings, redis_db, wechat_account, wechat_app):
    """The simulated WeChat at live_server/sim, knowing our platform account and app, with a ticket pushed."""
    settings.SIMULATOR = True
    settings.WECHAT_API_BASE = live_server.url + "/sim"
    events_url = live_server.url + callback_path(wechat_account, "events", appid="$APPID$")
    sim_register_component(
        appid=COMPONENT_APPID,
        secret=COMPONENT_SECRET,
        token=MESSAGE_TOKEN,
        encoding_aes_key=ENCODING_AES_KEY,
        auth_callback_url=live_server.url + callback_path(wechat_account, "auth"),
        events_callback_url=events_url,
    )
    sim_register_authorizer(component_appid=COMPONENT_APPID, appid=APPID, refresh_token="refresh-1")
    sim_push_ticket(COMPONENT_APPID)
    ComponentTicket.objects.create(account=wechat_account, ticket=sim_current_ticket(COMPONENT_APPID))
    redis_db.flushdb()  # the ticket push job: Sluice already holds the ticket
    return SimpleNamespace(url=live_server.url, account=wechat_account, app=wechat_app)
