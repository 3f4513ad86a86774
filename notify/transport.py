"""The network edge: one POST to a robot or webhook, one email.

The URL is a team's input and the worker sits inside our network, so the host is resolved and
refused when private or local (unless SLUICE_FETCH_ALLOW_PRIVATE, on in the demo), and the
connection is pinned to the checked address, as the privacy-policy fetch does
(releases/checks/fetch.py). Redirects are not followed (Standard Webhooks: a 3xx is a failure).
"""

import httpx
from django.conf import settings
from django.core.mail import EmailMessage

from notify.vendors import Outgoing
from releases.checks.fetch import FetchError, _resolve, allow_private

USER_AGENT = "Sluice notifications"


class TransportError(Exception):
    """No answer came (refused address, connection, timeout): always worth another try."""


def timeout_seconds() -> float:
    return float(settings.SLUICE_NOTIFY_TIMEOUT_SECONDS)


def post(outgoing: Outgoing) -> httpx.Response:
    try:
        url = httpx.URL(outgoing.url)
        addresses = _resolve(url, private_ok=allow_private())
    except (httpx.InvalidURL, FetchError) as exc:
        raise TransportError(getattr(exc, "message", str(exc))) from None
    headers = {"user-agent": USER_AGENT, **outgoing.headers, "host": url.netloc.decode("ascii")}
    with httpx.Client(timeout=timeout_seconds(), follow_redirects=False, trust_env=False) as client:
        for i, address in enumerate(addresses):
            request = client.build_request(
                "POST",
                url.copy_with(host=address),
                content=outgoing.body,
                headers=headers,
                extensions={"sni_hostname": url.host} if url.scheme == "https" else {},
            )
            try:
                response = client.send(request)
                response.read()
                return response
            except httpx.ConnectError as exc:
                if i == len(addresses) - 1:
                    raise TransportError(f"Could not connect to {url.host}: {exc}") from None
            except httpx.HTTPError as exc:
                raise TransportError(f"{type(exc).__name__} talking to {url.host}: {exc}") from None
    raise TransportError(f"{url.host} has no address.")


def send_email(to: list[str], subject: str, body: str) -> str:
    """Through Django's mail backend (SMTP from EMAIL_* settings; a file backend under `make run`)."""
    sent = EmailMessage(subject=subject, body=body, to=to).send(fail_silently=False)
    return f"{sent} message(s) handed to {settings.EMAIL_BACKEND.rsplit('.', 1)[-1]} for {', '.join(to)}"
