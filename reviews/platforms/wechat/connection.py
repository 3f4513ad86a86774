"""The WeChat account's connection test (issue 15): after pasting the credentials and the
callback URLs, a person wants to know exactly which part works and which does not.

Two probes. The ticket: WeChat pushes a component_verify_ticket to the authorization URL every
10 minutes, signed with the message token and encrypted with the EncodingAESKey, so a recent
ticket proves the URL and both secrets. The token: asking WeChat for a component_access_token
proves the appid, the appsecret and that this server's address is on the platform's IP
whitelist (61004 when it is not); the token WeChat issues replaces the cached one.
"""

from django.utils import timezone
from django.utils.translation import gettext as _

from releases.platforms import Probe
from reviews.models import ComponentTicket
from reviews.platforms.wechat.errors import WeChatError

TICKET_STALE_MINUTES = 30  # three missed pushes


def connection_test(tokens) -> list[Probe]:
    account = tokens.account
    probes = []
    ticket = ComponentTicket.objects.filter(account=account).first()
    if ticket is None:
        probes.append(
            Probe(
                "component_verify_ticket",
                False,
                _(
                    "WeChat has not pushed a ticket yet. In the WeChat Open Platform console, set the "
                    "authorization event URL below, the message token and the EncodingAESKey exactly as "
                    "entered here; WeChat pushes a ticket every 10 minutes."
                ),
            )
        )
    else:
        minutes = int((timezone.now() - ticket.received_at).total_seconds() // 60)
        fresh = minutes <= TICKET_STALE_MINUTES
        probes.append(
            Probe(
                "component_verify_ticket",
                fresh,
                _(
                    "Last ticket received %(minutes)s minutes ago: the authorization event URL, the "
                    "message token and the EncodingAESKey work."
                )
                % {"minutes": minutes}
                if fresh
                else _(
                    "The last ticket arrived %(minutes)s minutes ago, but WeChat pushes one every 10 "
                    "minutes: check the authorization event URL in the console."
                )
                % {"minutes": minutes},
            )
        )
    try:
        tokens.renew_component_token()
    except WeChatError as exc:
        answer = f" (errcode {exc.errcode}: {exc.errmsg})" if exc.errcode is not None else ""
        probes.append(Probe("component_access_token", False, f"{exc.message}{answer}"))
    else:
        probes.append(
            Probe(
                "component_access_token",
                True,
                _(
                    "WeChat issued an access token: the component appid and appsecret are right and "
                    "this server's address is on the platform's IP whitelist."
                ),
            )
        )
    return probes
