"""Fetch a public web page for a check, safely: the privacy policy a team points us at.

Why this is more than `httpx.get(url)`:

- SSRF: the URL comes from a user, and the worker sits inside our network. Every hop's
  host is resolved here, refused if any address is not globally routable (loopback,
  private, link-local, CGNAT...) unless `SLUICE_FETCH_ALLOW_PRIVATE` says otherwise
  (default: on in DEBUG/demo, off in production), and the connection is pinned to the
  checked address (TLS still verifies the certificate against the original host name
  through SNI), so a DNS answer cannot change between the check and the connection.
- Redirects are followed by hand, at most MAX_REDIRECTS, and a hop to something that
  looks like a login page fails: a policy behind a login is not public, and reviewers
  cannot read it either.
- The body is capped (MAX_BYTES) and the whole fetch has a deadline.
"""

import ipaddress
import re
import socket
import time
from dataclasses import dataclass
from html.parser import HTMLParser

import httpx
from django.conf import settings

MAX_REDIRECTS = 3
MAX_BYTES = 2 * 1024 * 1024
USER_AGENT = "Sluice pre-submission check (privacy policy)"
# A path segment, or the first label of the host, naming a login or single-sign-on page.
LOGIN_PATH = re.compile(
    r"(?:^|[/_.\-])(?:log-?in|sign-?in|signon|sso|oauth2?|passport|cas|auth|authorize|authenticate)"
    r"(?:[/_.\-]|$)|登录|登陆",
    re.IGNORECASE,
)
LOGIN_HOST = re.compile(r"^(?:login|signin|sso|auth|passport|account|accounts|id|cas)\.", re.IGNORECASE)


class FetchError(Exception):
    """The page could not be fetched as a public 200 page; `evidence` says what happened."""

    def __init__(self, message: str, **evidence) -> None:
        super().__init__(message)
        self.message = message
        self.evidence = evidence


@dataclass(frozen=True)
class Page:
    url: str  # as asked
    final_url: str  # after redirects
    status: int
    content_type: str
    text: str  # the readable text (HTML tags, scripts and styles removed)
    redirects: tuple[str, ...] = ()


def allow_private() -> bool:
    return bool(getattr(settings, "SLUICE_FETCH_ALLOW_PRIVATE", settings.DEBUG or settings.DEMO))


def timeout_seconds() -> float:
    return float(getattr(settings, "SLUICE_FETCH_TIMEOUT_SECONDS", 10))


def looks_like_login(url: httpx.URL) -> bool:
    return bool(LOGIN_PATH.search(url.path) or LOGIN_HOST.match(url.host or ""))


def _resolve(url: httpx.URL, *, private_ok: bool) -> list[str]:
    """The addresses to connect to; refuses a host that resolves to any non-public address."""
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(url.host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"The host {url.host} cannot be resolved ({exc}).", url=str(url)) from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not private_ok:
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
            if ip.version == 6 and ip.ipv4_mapped:
                ip = ip.ipv4_mapped
            if not ip.is_global:
                raise FetchError(
                    f"{url.host} resolves to {address}, a private or local address; Sluice only fetches "
                    "public pages.",
                    url=str(url),
                    address=address,
                )
    return addresses


def _send(client: httpx.Client, url: httpx.URL, addresses: list[str]) -> httpx.Response:
    """Connect to the first checked address that accepts (e.g. ::1 then 127.0.0.1 for localhost)."""
    for i, address in enumerate(addresses):
        request = client.build_request(
            "GET",
            url.copy_with(host=address),
            headers={"Host": url.netloc.decode("ascii")},
            extensions={"sni_hostname": url.host} if url.scheme == "https" else {},
        )
        try:
            return client.send(request, stream=True)
        except httpx.ConnectError:
            if i == len(addresses) - 1:
                raise
    raise FetchError(f"{url.host} has no address.", url=str(url))


def _request(client: httpx.Client, url: httpx.URL, *, private_ok: bool, deadline: float):
    """One GET to a checked address; returns (response, body bytes)."""
    response = _send(client, url, _resolve(url, private_ok=private_ok))
    try:
        body = bytearray()
        if response.status_code == 200:
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise FetchError(
                        f"The page is larger than {MAX_BYTES // (1024 * 1024)} MB.", url=str(url)
                    )
                if time.monotonic() > deadline:
                    raise FetchError("The page took too long to download.", url=str(url))
    finally:
        response.close()
    return response, bytes(body)


def fetch_page(url: str) -> Page:
    """GET a public page and return its readable text; FetchError says why it is not usable."""
    private_ok = allow_private()
    timeout = timeout_seconds()
    deadline = time.monotonic() + timeout * 2
    try:
        current = httpx.URL(url.strip())
    except httpx.InvalidURL as exc:
        raise FetchError(f"“{url}” is not a valid URL ({exc}).", url=url) from None
    redirects: list[str] = []
    with httpx.Client(
        timeout=timeout, follow_redirects=False, headers={"User-Agent": USER_AGENT}, trust_env=False
    ) as client:
        while True:
            if current.scheme not in ("http", "https") or not current.host:
                raise FetchError(f"{current} is not an http(s) URL.", url=url, redirects=redirects)
            if looks_like_login(current):
                raise FetchError(
                    f"{'It redirects to' if redirects else 'It is'} a login page ({current}): "
                    "the policy must be readable without signing in.",
                    url=url,
                    final_url=str(current),
                    redirects=redirects,
                )
            try:
                response, body = _request(client, current, private_ok=private_ok, deadline=deadline)
            except httpx.TimeoutException:
                raise FetchError(
                    f"{current} did not answer within {timeout:g} seconds.", url=url, redirects=redirects
                ) from None
            except httpx.HTTPError as exc:
                raise FetchError(
                    f"{current} could not be fetched: {exc.__class__.__name__}: {exc}.",
                    url=url,
                    redirects=redirects,
                ) from None
            if response.is_redirect:
                if len(redirects) >= MAX_REDIRECTS:
                    raise FetchError(
                        f"More than {MAX_REDIRECTS} redirects.", url=url, redirects=[*redirects, str(current)]
                    )
                redirects.append(str(current))
                current = current.join(response.headers.get("Location", ""))
                continue
            if response.status_code != 200:
                raise FetchError(
                    f"{current} answered HTTP {response.status_code}, not 200.",
                    url=url,
                    final_url=str(current),
                    status=response.status_code,
                    redirects=redirects,
                )
            content_type = response.headers.get("Content-Type", "")
            mime = content_type.split(";", 1)[0].strip().lower()
            if mime and not (
                mime.startswith("text/") or mime in ("application/xhtml+xml", "application/xml")
            ):
                raise FetchError(
                    f"{current} is a {mime} document; the policy must be a web page (HTML or text) that "
                    "reviewers and users can open in WeChat.",
                    url=url,
                    final_url=str(current),
                    content_type=mime,
                    redirects=redirects,
                )
            return Page(
                url=url,
                final_url=str(current),
                status=200,
                content_type=content_type,
                text=readable_text(body, content_type),
                redirects=tuple(redirects),
            )


# -- turning the body into text -----------------------------------------------------------

META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_\-]+)""", re.IGNORECASE)


def _decode(body: bytes, content_type: str) -> str:
    declared = re.search(r"charset=([A-Za-z0-9_\-]+)", content_type or "", re.IGNORECASE)
    candidates = [declared.group(1)] if declared else []
    if meta := META_CHARSET.search(body[:4096]):
        candidates.append(meta.group(1).decode("ascii"))
    candidates += ["utf-8", "gb18030"]
    for encoding in candidates:
        try:
            return body.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", errors="replace")


class _TextExtractor(HTMLParser):
    SKIP = {"script", "style", "template", "svg"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self._skipping += 1

    def handle_endtag(self, tag):
        if tag in self.SKIP and self._skipping:
            self._skipping -= 1

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


def readable_text(body: bytes, content_type: str = "") -> str:
    text = _decode(body, content_type)
    if "html" in (content_type or "").lower() or re.search(r"<(?:html|body|p|div)\b", text[:2000], re.I):
        parser = _TextExtractor()
        parser.feed(text)
        parser.close()
        text = " ".join(parser.parts)
    return re.sub(r"\s+", " ", text).strip()
