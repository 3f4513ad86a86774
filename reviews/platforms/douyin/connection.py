"""The Douyin account's connection test: the ticket proves the push URL and both push secrets,
a fresh component token proves the appid and secret (and retires the cached one only after
Douyin's 5-minute grace, so calls in flight are unharmed)."""

from django.utils import timezone
from django.utils.translation import gettext as _

from releases.platforms import Probe
from reviews.models import ComponentTicket
from reviews.platforms.douyin.errors import DouyinError

TICKET_STALE_MINUTES = 30  # three missed pushes


def connection_test(tokens) -> list[Probe]:
    ticket = ComponentTicket.objects.filter(account=tokens.account).first()
    if ticket is None:
        probes = [
            Probe(
                "component_ticket",
                False,
                _(
                    "Douyin has not pushed a ticket yet. In the Douyin console, set the authorization event "
                    "URL below, the message token and the encryption key exactly as entered here; Douyin "
                    "pushes a ticket every 10 minutes."
                ),
            )
        ]
    else:
        minutes = int((timezone.now() - ticket.received_at).total_seconds() // 60)
        fresh = minutes <= TICKET_STALE_MINUTES
        text = (
            _("Last ticket received %(minutes)s minutes ago: the push URL, token and key work.")
            if fresh
            else _("The last ticket arrived %(minutes)s minutes ago, but Douyin pushes one every 10 minutes.")
        )
        probes = [Probe("component_ticket", fresh, text % {"minutes": minutes})]
    try:
        tokens.renew_component_token()
    except DouyinError as exc:
        answer = f" (err_no {exc.err_no}: {exc.err_msg})" if exc.err_no is not None else ""
        probes.append(Probe("component_access_token", False, f"{exc.message}{answer}"))
    else:
        probes.append(
            Probe(
                "component_access_token",
                True,
                _("Douyin issued an access token: the component appid and secret are right."),
            )
        )
    return probes
