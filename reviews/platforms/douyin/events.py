"""What a decrypted Douyin push says (douyin.md §1, §2.5, §4), as typed objects.

Every push is a JSON object: the ticket (`MsgType: Ticket`, `Event: PUSH`), the authorization
events (AUTHORIZED, UNAUTHORIZED, UPDATE_AUTHORIZED) and, on the message URL, PACKAGE_AUDIT.
Times are "yyyy-MM-dd HH:mm:ss" strings in Beijing time, not unix times.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))
AUTHORIZATION_EVENTS = ("AUTHORIZED", "UNAUTHORIZED", "UPDATE_AUTHORIZED")


class EventParseError(ValueError):
    """The decrypted message is not a Douyin event we can read."""


@dataclass(frozen=True)
class Ticket:
    ticket: str
    created_at: datetime


@dataclass(frozen=True)
class Authorization:
    event: str
    appid: str
    component_appid: str
    at: datetime | None
    authorization_code: str = ""


@dataclass(frozen=True)
class PackageAudit:
    """One audit result; believed only as a reason to ask `versions` (reviews.platforms.douyin.push)."""

    appid: str
    component_appid: str
    at: datetime | None
    results: list = field(default_factory=list)


@dataclass(frozen=True)
class Other:
    kind: str
    fields: dict


def beijing_time(value) -> datetime | None:
    try:
        return datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    except (TypeError, ValueError):
        return None


def format_beijing(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _fields(text: str) -> dict:
    try:
        data = json.loads(text)
    except ValueError:
        raise EventParseError("The message is not JSON.") from None
    if not isinstance(data, dict):
        raise EventParseError("The message must be a JSON object.")
    return data


def parse_event(text: str) -> Ticket | Authorization | PackageAudit | Other:
    data = _fields(text)
    event = str(data.get("Event") or "")
    if data.get("MsgType") == "Ticket":
        ticket = str(data.get("Ticket") or "").strip()
        created = beijing_time(data.get("CreateTime"))
        if not ticket or created is None:
            raise EventParseError("The ticket push needs Ticket and CreateTime.")
        return Ticket(ticket=ticket, created_at=created)
    appid = str(data.get("AppId") or "").strip()
    component_appid = str(data.get("TpAppId") or "").strip()
    if (event in AUTHORIZATION_EVENTS or event == "PACKAGE_AUDIT") and not appid:
        raise EventParseError(f"The {event} push has no AppId.")
    if event in AUTHORIZATION_EVENTS:
        return Authorization(
            event=event,
            appid=appid,
            component_appid=component_appid,
            at=beijing_time(data.get("EventTime")),
            authorization_code=str(data.get("AuthorizationCode") or ""),
        )
    if event == "PACKAGE_AUDIT":
        results = data.get("AuditResults")
        return PackageAudit(
            appid=appid,
            component_appid=component_appid,
            at=beijing_time(data.get("EventTime")),
            results=results if isinstance(results, list) else [],
        )
    return Other(kind=event or str(data.get("MsgType") or "unknown"), fields=data)
