"""Notification channels: `POST/GET /notification-channels`, a test send, the delivery log.

Secrets are write-only: the answer says whether one is set, and shows a robot URL with its
key or token masked (the WeCom key and the DingTalk token are credentials). The release a
webhook carries is `GET /releases/{id}`'s representation: `webhook_release` is registered with
the notifier when the app loads (web/apps.py), the notifier being below this layer.
"""

import json
from datetime import datetime, time
from typing import Annotated, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ninja import Field, Query, Router, Schema, Status
from ninja.responses import NinjaJSONEncoder

from notify import services
from notify.kinds import KINDS
from notify.models import Channel, Delivery
from web.api.core import client_ip
from web.api.paging import PageQuery, page
from web.api.release_out import release_out
from web.api.schemas.common import ERRORS, SOME_TEXT, Id, Strict, Text, page_of
from web.api.schemas.releases import ReleaseOut

router = Router(tags=["notifications"])
EventKind = Literal[tuple(KINDS)]  # type: ignore[valid-type]


# What the service refuses, stated in the document so that clients (and the fuzzer) know it: an
# http(s) URL, email addresses Django accepts, a DingTalk secret starting with SEC, a Standard
# Webhooks secret (`whsec_` + base64 of 24 to 63 bytes).
URL = r"^[hH][tT][tT][pP][sS]?://[^\s\x00]+$"
EMAIL = (
    r"^[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
WHSEC = r"^whsec_(?:[A-Za-z0-9+/]{4}){8,21}$"
Email = Annotated[str, Field(max_length=254, pattern=EMAIL)]
# Times of day are Beijing wall-clock times, HH:MM, without an offset (a channel's quiet hours and
# digest follow the teams' clocks, whatever the server's zone).
Clock = Annotated[
    str, Field(pattern=r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$", description="HH:MM, Beijing time.")
]


class QuietHours(Strict):
    start: Clock
    end: Clock = Field(description="HH:MM, Beijing time; may be the next morning.")


def _clock(value: time | None) -> str | None:
    return None if value is None else f"{value:%H:%M}"


class _ChannelIn(Strict):
    name: str = Field(max_length=120, pattern=SOME_TEXT)
    events: list[EventKind] | None = Field(None, description="Event kinds sent; all when left out or empty.")
    apps: list[Id] | None = Field(None, description="App ids of the team; empty: every app.")
    language: Literal["zh-Hans", "en"] | None = Field(
        None, description="Default zh-Hans for robots, en for email and webhooks."
    )
    team: int | None = Field(None, description="Needed only when you manage channels of several teams.")
    quiet_hours: QuietHours | None = Field(None, description="Non-urgent messages wait until its end.")
    digest_time: Clock | None = Field(
        None, description="HH:MM, Beijing time, of the morning digest (default 09:30)."
    )
    digest_working_days_only: bool | None = None
    enabled: bool | None = None


class RobotIn(_ChannelIn):
    kind: Literal["wecom", "feishu"]
    url: str = Field(max_length=2000, pattern=URL, description="The robot's webhook URL.")
    secret: Text | None = Field(None, max_length=500, description="Feishu: the signing secret, if set.")


class DingTalkIn(_ChannelIn):
    kind: Literal["dingtalk"]
    url: str = Field(max_length=2000, pattern=URL, description="The robot's webhook URL (with access_token).")
    secret: str | None = Field(None, max_length=500, pattern=r"^SEC[^\x00]*$", description="The 加签 secret.")


class EmailIn(_ChannelIn):
    kind: Literal["email"]
    to: Annotated[list[Email], Field(min_length=1, max_length=20)] | Email = Field(
        description="The addresses: a list, or one."
    )


class WebhookIn(_ChannelIn):
    kind: Literal["webhook"]
    url: str = Field(max_length=2000, pattern=URL, description="The endpoint; it gets Standard Webhooks.")
    secret: str = Field(pattern=WHSEC, description="The endpoint's `whsec_...` signing key.")


ChannelIn = Annotated[RobotIn | DingTalkIn | EmailIn | WebhookIn, Field(discriminator="kind")]


class ChannelOut(Schema):
    id: int
    team: int
    kind: str
    name: str
    url: str = Field(description="Masked: the key or token in it is never shown again.")
    to: str
    secret_set: bool
    events: list[str]
    apps: list[int]
    language: str
    quiet_hours: QuietHours | None
    digest_time: Clock
    digest_working_days_only: bool
    enabled: bool
    disabled_reason: str
    created_at: datetime


class DeliveryOut(Schema):
    id: int
    event: str
    status: str
    attempts: int
    answer: str = Field(description="The platform's answer to the last attempt, verbatim.")
    http_status: int | None
    release: int | None
    carried: int = Field(
        description="Events in the message of the last attempt (a coalesced message carries several)."
    )
    carried_by: int | None
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None


ChannelPage = page_of(ChannelOut, "ChannelPage")
DeliveryPage = page_of(DeliveryOut, "DeliveryPage")


def mask(url: str) -> str:
    """The URL with every query value and the last path segment cut to its last 4 characters."""
    if not url:
        return ""
    parts = urlsplit(url)
    query = urlencode([(k, "…" + v[-4:]) for k, v in parse_qsl(parts.query)])
    path = parts.path
    if "/hook/" in path:  # Feishu: the id is the credential
        head, _, tail = path.rpartition("/")
        path = f"{head}/…{tail[-4:]}"
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def channel_out(channel: Channel) -> dict:
    return {
        "id": channel.pk,
        "team": channel.team_id,
        "kind": channel.kind,
        "name": channel.name,
        "url": mask(channel.url),
        "to": channel.to,
        "secret_set": bool(channel.secret),
        "events": channel.events,
        "apps": channel.apps,
        "language": channel.language,
        "quiet_hours": (
            {"start": _clock(channel.quiet_start), "end": _clock(channel.quiet_end)}
            if channel.quiet_start is not None
            else None
        ),
        "digest_time": _clock(channel.digest_time),
        "digest_working_days_only": channel.digest_working_days_only,
        "enabled": channel.enabled,
        "disabled_reason": channel.disabled_reason,
        "created_at": channel.created_at,
    }


def delivery_out(item: Delivery) -> dict:
    pending = item.status in Delivery.PENDING
    return {
        "id": item.pk,
        "event": item.event,
        "status": item.status,
        "attempts": item.attempts,
        "answer": item.answer,
        "http_status": item.http_status,
        "release": item.release_id,
        "carried": item.carried,
        "carried_by": item.carried_by_id,
        "created_at": item.created_at,
        "next_attempt_at": item.next_attempt_at if pending else None,
        "sent_at": item.sent_at,
    }


def webhook_release(release) -> dict:
    """The release exactly as GET /releases/{id} answers it, for a webhook body (no reader: no actions)."""
    validated = ReleaseOut.model_validate(release_out(release, None)).model_dump()
    return json.loads(json.dumps(validated, cls=NinjaJSONEncoder))  # as the API renders it


@router.get("/notification-channels", response={200: ChannelPage, **ERRORS})
def list_channels(request, paging: Query[PageQuery]):
    """The channels of your teams; secrets are never returned."""
    return page(
        request, services.channels_for(request.user).order_by("team_id", "name", "pk"), paging, channel_out
    )


@router.post("/notification-channels", response={201: ChannelOut, **ERRORS})
def create_channel(request, payload: ChannelIn):
    """Add a channel (release managers and admins). The secret is stored encrypted and never shown."""
    values = payload.model_dump(exclude_unset=True, exclude={"team", "quiet_hours"})
    if payload.quiet_hours is not None:
        quiet = payload.quiet_hours
        values |= {"quiet_start": time.fromisoformat(quiet.start), "quiet_end": time.fromisoformat(quiet.end)}
    if payload.digest_time is not None:
        values["digest_time"] = time.fromisoformat(payload.digest_time)
    channel = services.channel_create(
        actor=request.user, values=values, team_id=payload.team, ip=client_ip(request)
    )
    return Status(201, channel_out(channel))


@router.get("/notification-channels/{channel_id}", response={200: ChannelOut, **ERRORS})
def get_channel(request, channel_id: int):
    return channel_out(services.channel_for(request.user, channel_id))


class TestOut(Schema):
    ok: bool
    status: str
    http_status: int | None
    answer: str = Field(description="The platform's answer, verbatim.")
    delivery: int


@router.post("/notification-channels/{channel_id}/test", response={200: TestOut, **ERRORS})
def test_channel(request, channel_id: int):
    """Send a test message now and return the platform's exact answer (it is logged as a delivery)."""
    channel = services.channel_for(request.user, channel_id)
    item = services.channel_test(channel=channel, actor=request.user)
    return {
        "ok": item.status == Delivery.Status.SENT,
        "status": item.status,
        "http_status": item.http_status,
        "answer": item.answer,
        "delivery": item.pk,
    }


@router.get("/notification-channels/{channel_id}/deliveries", response={200: DeliveryPage, **ERRORS})
def list_deliveries(request, channel_id: int, paging: Query[PageQuery]):
    """Every delivery of the channel, newest first: event, status, attempts, the platform's answer."""
    channel = services.channel_for(request.user, channel_id)
    return page(request, channel.deliveries.order_by("-pk"), paging, delivery_out)


@router.post(
    "/notification-channels/{channel_id}/deliveries/{delivery_id}/redeliver",
    response={200: DeliveryOut, **ERRORS},
)
def redeliver(request, channel_id: int, delivery_id: int):
    """Queue a sent or failed delivery again."""
    channel = services.channel_for(request.user, channel_id)
    item = channel.deliveries.filter(pk=delivery_id).first()
    if item is None:
        services.channel_for(request.user, -1)  # the API's 404
    return delivery_out(services.redeliver(item=item, actor=request.user))
