"""The two URLs WeChat pushes to for each platform account (platform-apis.md §5).

`<callback_key>/auth` receives authorization events (component_verify_ticket every ten
minutes, authorized / unauthorized / updateauthorized); `<callback_key>/<appid>/events`
receives each mini program's audit results. A delivery is believed only if its
msg_signature holds, its timestamp is recent, and it decrypts to our component appid;
otherwise it is refused (403 for a forgery, 400 for a malformed body) and nothing changes.
An audit result whose signed ToUserName names another mini program than the URL's is
refused too (403 `wrong_app`): WeChat itself never posts one app's push to another's URL,
so only a re-poster ever reads that answer. Refusals are counted, not written one by one:
anyone can post here, so they are summarised in at most one audit event per account and
minute (reviews.refusals). Everything accepted, repeated or ignored is answered with
`success`, as WeChat expects.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from releases.models import Platform, PlatformAccount
from reviews import refusals, services
from reviews.platforms.wechat.crypto import AppIdMismatch, CryptoError, decrypt_message, signature_matches
from reviews.platforms.wechat.events import (
    EventParseError,
    parse_auth_event,
    parse_envelope,
    parse_message_event,
)
from reviews.push import MisaddressedPush

logger = logging.getLogger(__name__)


class CallbackRejected(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Delivery:
    """What WeChat sent: the query parameters that sign it and the raw body."""

    body: bytes
    timestamp: str
    nonce: str
    msg_signature: str

    @classmethod
    def from_request(cls, request: HttpRequest) -> "Delivery":
        query = request.GET
        return cls(
            body=request.body,
            timestamp=query.get("timestamp", ""),
            nonce=query.get("nonce", ""),
            msg_signature=query.get("msg_signature", ""),
        )


def _require_parameters(account: PlatformAccount, delivery: Delivery) -> None:
    if not (account.message_token and account.encoding_aes_key and account.component_appid):
        raise CallbackRejected(
            403, "account_not_configured", "This account has no message token, AES key or component appid."
        )
    if not (delivery.timestamp and delivery.nonce and delivery.msg_signature):
        raise CallbackRejected(400, "missing_parameters", "timestamp, nonce and msg_signature are required.")
    if not delivery.timestamp.isdigit():
        raise CallbackRejected(400, "malformed_timestamp", "timestamp must be a number of seconds.")


def open_delivery(account: PlatformAccount, delivery: Delivery, *, now: float | None = None) -> str:
    """The decrypted message, once the delivery is proven to come from WeChat for this account.

    Raises CallbackRejected naming why it is not believed.
    """
    _require_parameters(account, delivery)
    try:
        envelope = parse_envelope(delivery.body)
    except EventParseError as exc:
        raise CallbackRejected(400, "malformed_body", str(exc)) from None
    token, signed = account.message_token, (delivery.timestamp, delivery.nonce, envelope.encrypt)
    if not signature_matches(delivery.msg_signature, token, *signed):
        raise CallbackRejected(403, "bad_signature", "msg_signature does not match.")
    now = time.time() if now is None else now
    if abs(now - int(delivery.timestamp)) > settings.WECHAT_CALLBACK_REPLAY_SECONDS:
        raise CallbackRejected(403, "stale_timestamp", "The timestamp is outside the replay window.")
    try:
        return decrypt_message(
            envelope.encrypt, encoding_aes_key=account.encoding_aes_key, appid=account.component_appid
        )
    except AppIdMismatch:
        raise CallbackRejected(403, "wrong_appid", "The message was encrypted for another appid.") from None
    except CryptoError as exc:
        raise CallbackRejected(400, "undecryptable", str(exc)) from None


def _account(callback_key: str) -> PlatformAccount:
    account = PlatformAccount.objects.filter(callback_key=callback_key, platform=Platform.WECHAT).first()
    if account is None:
        raise Http404("No WeChat account has this callback URL.")
    return account


def _plain(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


def _receive(request: HttpRequest, account: PlatformAccount, endpoint: str, parse: Callable, apply: Callable):
    ip = request.META.get("REMOTE_ADDR")
    try:
        plaintext = open_delivery(account, Delivery.from_request(request))
        try:
            event = parse(plaintext)
        except EventParseError as exc:
            raise CallbackRejected(400, "malformed_event", str(exc)) from None
        outcome = apply(event, ip)
    except CallbackRejected as exc:
        count = refusals.callback_refusal_count(account=account, endpoint=endpoint, reason=exc.reason, ip=ip)
        # The first refusal of a minute is worth a warning; the rest of a flood only a count.
        log = logger.warning if count == 1 else logger.debug
        log(
            "Refused a %s callback for account %s: %s (%s this minute)",
            endpoint,
            account.pk,
            exc.reason,
            count,
        )
        return _plain(exc.message, status=exc.status)
    logger.info("WeChat %s callback for account %s: %s", endpoint, account.pk, outcome)
    return _plain("success")


@csrf_exempt
@require_POST
def auth_events(request: HttpRequest, callback_key: str) -> HttpResponse:
    account = _account(callback_key)
    return _receive(
        request,
        account,
        "auth",
        parse_auth_event,
        lambda event, ip: services.auth_event_apply(account=account, event=event, ip=ip),
    )


@csrf_exempt
@require_POST
def message_events(request: HttpRequest, callback_key: str, appid: str) -> HttpResponse:
    account = _account(callback_key)
    return _receive(
        request,
        account,
        "events",
        parse_message_event,
        lambda event, ip: _message_event_apply(account, appid, event),
    )


def _message_event_apply(account: PlatformAccount, appid: str, event) -> str:
    try:
        return services.message_event_apply(account=account, appid=appid, event=event)
    except MisaddressedPush as exc:
        raise CallbackRejected(403, "wrong_app", str(exc)) from None
