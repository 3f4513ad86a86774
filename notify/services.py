"""Managing channels, sending a test and redelivering: what the page and the API call.

Release managers and admins of a team manage its channels. Secrets (and robot URLs, which carry
the WeCom key or the DingTalk token) are written, never read back: an edit that leaves them out
keeps the stored ones. Every change is audited without them.
"""

from datetime import datetime

from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from notify import delivery
from notify.kinds import KINDS
from notify.models import ROBOTS, Channel, Delivery, Kind, Language, Preference, message_id
from notify.signing import valid_webhook_secret
from releases import selectors
from releases.audit import audit_record
from releases.errors import Forbidden, Invalid, NotFound, Refused, SluiceError
from releases.models import App, Role

FIELDS = (
    "kind",
    "name",
    "url",
    "to",
    "secret",
    "events",
    "apps",
    "language",
    "quiet_start",
    "quiet_end",
    "digest_time",
    "digest_working_days_only",
    "enabled",
)


class RateLimited(SluiceError):
    status = 429


def manageable_team_ids(user) -> list[int]:
    return selectors.team_ids_for(user, Role.RELEASE_MANAGER)


def channels_for(user):
    return Channel.objects.filter(team_id__in=selectors.team_ids_for(user)).select_related("team")


def channel_for(user, channel_id: int) -> Channel:
    channel = channels_for(user).filter(pk=channel_id).first()
    if channel is None:
        raise NotFound("not_found", "No such object, or it belongs to a team you are not in.")
    return channel


def _require_manager(user, team_id: int) -> None:
    if team_id not in manageable_team_ids(user):
        raise Forbidden(
            "forbidden", "Only a release manager or an admin of the team can manage its channels."
        )


def _team(user, team_id: int | None) -> int:
    teams = manageable_team_ids(user)
    if team_id is None:
        if len(teams) != 1:
            if not teams:
                raise Forbidden("forbidden", "Only a release manager or an admin of a team can add channels.")
            raise Invalid(
                "team_required", "Say which team the channel is for (`team`).", details={"team": "Required."}
            )
        return teams[0]
    if team_id not in selectors.team_ids_for(user):
        raise NotFound("not_found", "No such team, or you are not in it.")
    _require_manager(user, team_id)
    return team_id


def _bad(field: str, code: str, message: str):
    return Invalid(code, message, details={field: message})


def clean(values: dict, team_id: int, current: Channel | None = None) -> dict:
    """The channel's fields once checked; raises Invalid naming the field."""
    kind = values.get("kind", current.kind if current else None)
    if kind not in Kind.values:
        raise _bad("kind", "invalid_kind", f"Kind must be one of: {', '.join(Kind.values)}.")
    name = (values.get("name", current.name if current else "") or "").strip()
    if not name:
        raise _bad("name", "name_required", "Give the channel a name.")
    out = {"kind": kind, "name": name[:120]}
    url = (values.get("url") or "").strip()
    if kind == Kind.EMAIL:
        to = values.get("to", current.to if current else "")
        addresses = [
            a.strip() for a in (",".join(to) if isinstance(to, list) else (to or "")).split(",") if a.strip()
        ]
        if not addresses:
            raise _bad("to", "to_required", "An email channel needs at least one address in `to`.")
        for address in addresses:
            try:
                validate_email(address)
            except Exception:  # noqa: BLE001 -- Django's ValidationError
                raise _bad("to", "invalid_email", f"“{address}” is not an email address.") from None
        out["to"] = ", ".join(addresses)
    elif url:
        if not url.lower().startswith(("https://", "http://")):
            raise _bad(
                "url", "invalid_url", "The URL must start with https:// (or http:// for a local receiver)."
            )
        out["url"] = url
    elif current is None or current.kind != kind:
        raise _bad("url", "url_required", "Paste the robot's or endpoint's webhook URL.")
    secret = values.get("secret")
    if secret:
        secret = secret.strip()
        if kind == Kind.WEBHOOK and not valid_webhook_secret(secret):
            raise _bad(
                "secret",
                "invalid_secret",
                "A webhook secret is `whsec_` followed by base64 of 24 to 64 bytes.",
            )
        if kind == Kind.DINGTALK and not secret.startswith("SEC"):
            raise _bad("secret", "invalid_secret", "A DingTalk signing secret starts with SEC.")
        out["secret"] = secret
    elif kind == Kind.WEBHOOK and not (current and current.secret):
        raise _bad("secret", "secret_required", "A webhook needs its `whsec_...` signing secret.")
    if "events" in values or current is None:
        events = values.get("events") or list(KINDS)
        unknown = [e for e in events if e not in KINDS]
        if unknown:
            raise _bad(
                "events",
                "invalid_event",
                f"Unknown event kinds: {', '.join(unknown)}. Known: {', '.join(KINDS)}.",
            )
        out["events"] = list(dict.fromkeys(events))
    if "apps" in values:
        apps = [int(a) for a in values.get("apps") or []]
        known = set(App.objects.filter(team_id=team_id, pk__in=apps).values_list("pk", flat=True))
        missing = [a for a in apps if a not in known]
        if missing:
            raise NotFound(
                "not_found", f"No app {missing[0]} in this team.", details={"apps": "Unknown app."}
            )
        out["apps"] = sorted(known)
    language = values.get("language") or (
        current.language if current else Language.ZH_HANS if kind in ROBOTS else Language.EN
    )
    if language not in Language.values:
        raise _bad("language", "invalid_language", "Language must be zh-Hans or en.")
    out["language"] = language
    for key in ("quiet_start", "quiet_end", "digest_time", "digest_working_days_only", "enabled"):
        if values.get(key) is not None or (key.startswith("quiet") and key in values):
            out[key] = values[key]
    if bool(out.get("quiet_start", current.quiet_start if current else None)) != bool(
        out.get("quiet_end", current.quiet_end if current else None)
    ):
        raise _bad("quiet_end", "quiet_hours_incomplete", "Quiet hours need both a start and an end.")
    return out


def _audit(action: str, channel: Channel, actor, ip) -> None:
    data = {"name": channel.name, "kind": channel.kind, "events": channel.events, "apps": channel.apps}
    audit_record(action=action, actor=actor, target=channel, team_id=channel.team_id, data=data, ip=ip)


def _name_taken(name: str) -> Refused:
    return Refused(
        "name_taken", f"The team already has a channel named “{name}”.", details={"name": "Already used."}
    )


def channel_create(*, actor, values: dict, team_id: int | None = None, ip: str | None = None) -> Channel:
    team_id = _team(actor, team_id)
    fields = clean(values, team_id)
    try:
        with transaction.atomic():
            channel = Channel.objects.create(team_id=team_id, created_by=actor, **fields)
            _audit("notification_channel_create", channel, actor, ip)
    except IntegrityError:
        raise _name_taken(fields["name"]) from None
    return channel


def channel_update(*, channel: Channel, actor, values: dict, ip: str | None = None) -> Channel:
    _require_manager(actor, channel.team_id)
    fields = clean(values, channel.team_id, current=channel)
    try:
        with transaction.atomic():
            Channel.objects.filter(pk=channel.pk).select_for_update().first()
            for key, value in fields.items():
                setattr(channel, key, value)
            if fields.get("enabled"):
                channel.disabled_reason = ""
            channel.save()
            _audit("notification_channel_update", channel, actor, ip)
    except IntegrityError:
        raise _name_taken(fields["name"]) from None
    return channel


def channel_delete(*, channel: Channel, actor, ip: str | None = None) -> None:
    _require_manager(actor, channel.team_id)
    with transaction.atomic():
        _audit("notification_channel_delete", channel, actor, ip)
        channel.delete()


def channel_test(*, channel: Channel, actor, now: datetime | None = None) -> Delivery:
    """Send a test message now, from this request, and keep the platform's exact answer."""
    _require_manager(actor, channel.team_id)
    now = now or timezone.now()
    with transaction.atomic():
        locked = Channel.objects.select_for_update().get(pk=channel.pk)
        recent = delivery._recent(locked, now)
        if len(recent) >= delivery.PER_MINUTE[locked.kind]:
            wait = int(min(recent) + 61 - now.timestamp())
            error = RateLimited(
                "channel_rate_limited",
                f"This channel sent {len(recent)} messages in the last minute, its limit; "
                f"try again in {wait} s.",
            )
            error.headers = {"Retry-After": str(wait)}
            raise error
        locked.recent_sends = recent + [now.timestamp()]
        locked.save(update_fields=["recent_sends"])
        test = Delivery.objects.create(
            channel=locked,
            team_id=locked.team_id,
            event="test",
            source=f"test:{message_id()}",
            facts={"actor": actor.get_username(), "link": "/notifications/"},
            next_attempt_at=now,
        )
    outcome, _requests = delivery.attempt(locked, [test], now)
    outcome.retry = False  # a person is waiting: the answer is the result
    delivery.record([test], outcome, now)
    test.refresh_from_db()
    return test


def redeliver(*, item: Delivery, actor) -> Delivery:
    """Queue a delivery again, with a fresh set of attempts (its webhook-id stays: the same event)."""
    team_id = item.team_id
    if team_id not in manageable_team_ids(actor) and item.user_id != actor.pk:
        raise Forbidden("forbidden", "Only a release manager or an admin of the team can redeliver.")
    if item.status in Delivery.PENDING:
        raise Refused("already_queued", "This delivery is already waiting to be sent.")
    Delivery.objects.filter(pk=item.pk).update(
        status=Delivery.Status.QUEUED, attempts=0, next_attempt_at=timezone.now(), carried_by=None
    )
    delivery.enqueue_deliver(item.channel_id, user_id=item.user_id)
    item.refresh_from_db()
    return item


def preference_for(user) -> Preference:
    return Preference.objects.filter(user=user).first() or Preference(user=user)


def preference_update(*, user, email_enabled: bool, language: str, mobile: str) -> Preference:
    if language not in Language.values:
        raise _bad("language", "invalid_language", "Language must be zh-Hans or en.")
    mobile = mobile.strip()
    if mobile and not (mobile.isdigit() and 5 <= len(mobile) <= 20):
        raise _bad("mobile", "invalid_mobile", "A mobile number is digits only, as the robots @ it.")
    preference, _created = Preference.objects.update_or_create(
        user=user, defaults={"email_enabled": email_enabled, "language": language, "mobile": mobile}
    )
    return preference
