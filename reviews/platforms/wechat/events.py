"""Pushed WeChat envelopes and events, parsed into typed objects (platform-apis.md §5).

WeChat pushes XML (or JSON, when the platform chose it) on two URLs: the authorization
URL (component_verify_ticket, authorized, unauthorized, updateauthorized; field InfoType)
and the message URL (weapp_audit_success/fail/delay; field Event). wechatpy cannot parse
the weapp_audit_* events, hence this module.

The outer envelope is read before anything is authenticated, so XML with a DOCTYPE
(entity tricks) is refused outright.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.etree import ElementTree


class EventParseError(ValueError):
    """The body or the decrypted message is not a WeChat event we can read."""


@dataclass(frozen=True)
class Envelope:
    """The encrypted POST body: who it is for, and the ciphertext."""

    to_user_name: str
    encrypt: str


@dataclass(frozen=True)
class ComponentVerifyTicket:
    component_appid: str
    create_time: int
    ticket: str


@dataclass(frozen=True)
class AuthorizationChange:
    """authorized / unauthorized / updateauthorized for one mini program."""

    info_type: str
    component_appid: str
    create_time: int
    authorizer_appid: str
    authorization_code: str = ""
    authorizer_refresh_token: str = ""


@dataclass(frozen=True)
class AuditResult:
    """weapp_audit_success / weapp_audit_fail / weapp_audit_delay.

    `reason` is WeChat's raw text (with its <br> markup), kept verbatim.
    """

    event: str
    to_user_name: str
    create_time: int
    reason: str = ""
    screenshots: list[str] = field(default_factory=list)
    event_time: int | None = None  # SuccTime, FailTime or DelayTime
    audit_id: str = ""

    @property
    def outcome(self) -> str:
        return AUDIT_OUTCOMES[self.event]


@dataclass(frozen=True)
class OtherEvent:
    """An event we do not act on; still acknowledged with `success`."""

    kind: str
    create_time: int
    fields: dict


AUDIT_OUTCOMES = {
    "weapp_audit_success": "approved",
    "weapp_audit_fail": "rejected",
    "weapp_audit_delay": "delayed",
}
AUTHORIZATION_CHANGES = ("authorized", "unauthorized", "updateauthorized")


def _xml_fields(text: str) -> dict:
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise EventParseError("XML with a DOCTYPE is not accepted.")
    try:
        root = ElementTree.fromstring(text)  # noqa: S314 - DOCTYPE refused above, so no entities
    except ElementTree.ParseError as exc:
        raise EventParseError(f"The XML is malformed: {exc}.") from None
    if root.tag != "xml":
        raise EventParseError("The XML root element must be <xml>.")
    return {child.tag: (child.text or "") for child in root if len(child) == 0}


def _json_fields(text: str) -> dict:
    try:
        data = json.loads(text)
    except ValueError:
        raise EventParseError("The JSON is malformed.") from None
    if not isinstance(data, dict):
        raise EventParseError("The JSON must be an object.")
    return data


def parse_fields(text: str) -> dict:
    """The top-level fields of an XML `<xml>` document or a JSON object."""
    stripped = (text or "").lstrip()
    if stripped.startswith("{"):
        return _json_fields(stripped)
    if stripped.startswith("<"):
        return _xml_fields(stripped)
    raise EventParseError("The message is neither XML nor JSON.")


def parse_envelope(body: bytes) -> Envelope:
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise EventParseError("The body is not UTF-8.") from None
    fields = parse_fields(text)
    encrypt = fields.get("Encrypt")
    if not isinstance(encrypt, str) or not encrypt.strip():
        raise EventParseError("The body has no Encrypt field.")
    to_user = fields.get("ToUserName") or fields.get("AppId") or ""
    return Envelope(to_user_name=str(to_user), encrypt=encrypt.strip())


def _text(fields: dict, name: str) -> str:
    value = fields.get(name)
    return "" if value is None else str(value)


def _int(fields: dict, name: str, *, required: bool = False) -> int | None:
    value = _text(fields, name).strip()
    if not value:
        if required:
            raise EventParseError(f"The event has no {name}.")
        return None
    try:
        return int(value)
    except ValueError:
        raise EventParseError(f"{name} must be a number, not {value!r}.") from None


def _screenshots(fields: dict) -> list[str]:
    value = fields.get("ScreenShot", fields.get("screenshot"))
    if isinstance(value, list):
        return [str(item) for item in value if str(item)]
    return [part for part in ("" if value is None else str(value)).split("|") if part]


def parse_auth_event(text: str) -> ComponentVerifyTicket | AuthorizationChange | OtherEvent:
    """A decrypted message from the authorization URL."""
    fields = parse_fields(text)
    info_type = _text(fields, "InfoType")
    create_time = _int(fields, "CreateTime", required=True)
    component_appid = _text(fields, "AppId")
    if info_type == "component_verify_ticket":
        ticket = _text(fields, "ComponentVerifyTicket").strip()
        if not ticket:
            raise EventParseError("The ticket event has no ComponentVerifyTicket.")
        return ComponentVerifyTicket(component_appid=component_appid, create_time=create_time, ticket=ticket)
    if info_type in AUTHORIZATION_CHANGES:
        authorizer_appid = _text(fields, "AuthorizerAppid").strip()
        if not authorizer_appid:
            raise EventParseError(f"The {info_type} event has no AuthorizerAppid.")
        return AuthorizationChange(
            info_type=info_type,
            component_appid=component_appid,
            create_time=create_time,
            authorizer_appid=authorizer_appid,
            authorization_code=_text(fields, "AuthorizationCode"),
            authorizer_refresh_token=_text(fields, "AuthorizerRefreshToken").strip(),
        )
    return OtherEvent(kind=info_type or "unknown", create_time=create_time, fields=fields)


def parse_message_event(text: str) -> AuditResult | OtherEvent:
    """A decrypted message from the message-and-event URL."""
    fields = parse_fields(text)
    event = _text(fields, "Event")
    create_time = _int(fields, "CreateTime", required=True)
    if event not in AUDIT_OUTCOMES:
        return OtherEvent(
            kind=event or _text(fields, "MsgType") or "unknown", create_time=create_time, fields=fields
        )
    time_field = {"approved": "SuccTime", "rejected": "FailTime", "delayed": "DelayTime"}[
        AUDIT_OUTCOMES[event]
    ]
    audit_id = fields.get("auditid", fields.get("AuditId", fields.get("AuditID", "")))
    return AuditResult(
        event=event,
        to_user_name=_text(fields, "ToUserName"),
        create_time=create_time,
        reason=_text(fields, "Reason"),
        screenshots=_screenshots(fields),
        event_time=_int(fields, time_field),
        audit_id=str(audit_id or "").strip(),
    )


def timestamp_to_datetime(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def to_xml(fields: dict) -> str:
    """Render an event as WeChat does: numbers bare, strings in CDATA (for the simulator and tests)."""
    parts = [
        f"<{name}>{value}</{name}>" if isinstance(value, int) else f"<{name}>{_cdata(str(value))}</{name}>"
        for name, value in fields.items()
    ]
    return "<xml>" + "".join(parts) + "</xml>"
