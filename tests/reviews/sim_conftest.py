"""Fixtures for the simulator's tests: the simulator on a live server, a registered platform with
one authorised mini-program, a WeChat-shaped HTTP client, and a callback receiver standing in
for the platform's push URLs (the network edge). Import them explicitly into a test module."""

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import django_rq
import httpx
import pytest

from simulator import operations, services

COMPONENT_APPID = "wxcomponent0001"
COMPONENT_SECRET = "component-secret-0001"
MESSAGE_TOKEN = "sim-message-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
MINI_APPID = "wxminiapp000001"
REFRESH_TOKEN = "refreshtoken@@@0001"


@dataclass
class Received:
    path: str
    query: dict
    body: str


@dataclass
class Receiver:
    """An HTTP server that records every POST and answers `success`, as a platform's callback does."""

    url: str
    requests: list[Received] = field(default_factory=list)


@pytest.fixture
def receiver():
    received: list[Received] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length", 0))
            received.append(
                Received(parts.path, dict(parse_qsl(parts.query)), self.rfile.read(length).decode())
            )
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"success")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Receiver(url=f"http://127.0.0.1:{server.server_address[1]}", requests=received)
    server.shutdown()
    server.server_close()


@pytest.fixture
def queue():
    q = django_rq.get_queue("default")
    q.connection.flushdb()
    yield q
    q.connection.flushdb()


@pytest.fixture
def sim_on(settings):
    settings.SIMULATOR = True
    return settings


@pytest.fixture
def platform(db, queue, receiver):
    """A registered component with a ticket, and one mini-program that authorised it."""
    component = services.sim_register_component(
        appid=COMPONENT_APPID,
        secret=COMPONENT_SECRET,
        token=MESSAGE_TOKEN,
        encoding_aes_key=AES_KEY,
        auth_callback_url=f"{receiver.url}/callbacks/auth",
        events_callback_url=f"{receiver.url}/callbacks/$APPID$/events",
    )
    services.sim_register_authorizer(
        component_appid=COMPONENT_APPID, appid=MINI_APPID, refresh_token=REFRESH_TOKEN
    )
    services.sim_push_ticket(COMPONENT_APPID)
    return component


class WeChat:
    """Calls the simulator exactly as a client of api.weixin.qq.com would."""

    def __init__(self, base: str):
        self.http = httpx.Client(base_url=base, timeout=10)
        self.token = ""

    def component_token(self, secret: str = COMPONENT_SECRET, ticket: str | None = None) -> dict:
        body = {
            "component_appid": COMPONENT_APPID,
            "component_appsecret": secret,
            "component_verify_ticket": ticket
            if ticket is not None
            else services.sim_current_ticket(COMPONENT_APPID),
        }
        return self.http.post("/cgi-bin/component/api_component_token", json=body).json()

    def authorizer_token(self, component_token: str, refresh_token: str = REFRESH_TOKEN) -> dict:
        body = {
            "component_appid": COMPONENT_APPID,
            "authorizer_appid": MINI_APPID,
            "authorizer_refresh_token": refresh_token,
        }
        return self.http.post(
            "/cgi-bin/component/api_authorizer_token",
            params={"component_access_token": component_token},
            json=body,
        ).json()

    def log_in(self) -> "WeChat":
        component = self.component_token()["component_access_token"]
        self.token = self.authorizer_token(component)["authorizer_access_token"]
        return self

    def post(self, path: str, body=None, *, content: bytes | None = None, **params) -> dict:
        params = {"access_token": self.token, **params}
        if content is not None:
            return self.http.post(path, params=params, content=content).json()
        return self.http.post(path, params=params, json=body).json()

    def get(self, path: str, **params) -> dict:
        return self.http.get(path, params={"access_token": self.token, **params}).json()

    def submit(self, desc: str = "New points page", **body) -> dict:
        return self.post("/wxa/submit_audit", {"version_desc": desc, **body})


@pytest.fixture
def wechat(sim_on, live_server, platform):
    client = WeChat(live_server.url + "/sim").log_in()
    yield client
    client.http.close()


def approve(auditid: int):
    return services.sim_decide(auditid=auditid, outcome="approved")


def submit_approved(wechat: WeChat, desc: str = "v") -> int:
    auditid = wechat.submit(desc)["auditid"]
    approve(auditid)
    return auditid


__all__ = [
    "AES_KEY",
    "COMPONENT_APPID",
    "COMPONENT_SECRET",
    "MESSAGE_TOKEN",
    "MINI_APPID",
    "REFRESH_TOKEN",
    "WeChat",
    "approve",
    "operations",
    "platform",
    "queue",
    "receiver",
    "sim_on",
    "submit_approved",
    "wechat",
]
