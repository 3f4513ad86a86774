"""Local stand-ins for the robots and a webhook receiver: a real HTTP server on 127.0.0.1 that
records every request and answers what the test says (by default, each vendor's success)."""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from notify.models import Channel

SUCCESS = {
    "/wecom": (200, {"errcode": 0, "errmsg": "ok"}),
    "/dingtalk": (200, {"errcode": 0, "errmsg": "ok"}),
    "/feishu": (200, {"code": 0, "msg": "success", "data": {}}),
    "/hook": (204, ""),
}


@dataclass
class Seen:
    path: str
    query: dict
    headers: dict
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


@dataclass
class StandIn:
    url: str
    requests: list[Seen] = field(default_factory=list)
    replies: dict[str, list] = field(default_factory=dict)  # path -> [(status, body, headers)...]

    def reply(self, path: str, status: int, body, headers: dict | None = None, times: int = 1) -> None:
        self.replies.setdefault(path, []).extend([(status, body, headers or {})] * times)

    def to(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]


@pytest.fixture
def robots(settings):
    """A running stand-in; `robots.url + "/wecom?key=..."` etc. Private addresses allowed."""
    settings.SLUICE_FETCH_ALLOW_PRIVATE = True
    settings.SLUICE_NOTIFY_TIMEOUT_SECONDS = 5
    state = StandIn("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            parts = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.requests.append(Seen(parts.path, parse_qs(parts.query), headers, body))
            queued = state.replies.get(parts.path)
            status, answer, extra = queued.pop(0) if queued else (*SUCCESS.get(parts.path, (200, "")), {})
            raw = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
            self.send_response(status)
            for key, value in extra.items():
                self.send_header(key, value)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw.encode())))
            self.end_headers()
            self.wfile.write(raw.encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def channel(team, robots):
    """channel(kind, **fields): a channel of the team pointing at the stand-in."""

    def make(kind: str, **fields) -> Channel:
        defaults = {
            "wecom": {"url": f"{robots.url}/wecom?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"},
            "dingtalk": {"url": f"{robots.url}/dingtalk?access_token=abc123", "secret": "SECdemo0123456789"},
            "feishu": {"url": f"{robots.url}/feishu", "secret": "feishu-secret-42"},
            "webhook": {"url": f"{robots.url}/hook", "secret": WEBHOOK_SECRET, "language": "en"},
            "email": {"to": "team@example.com", "language": "en"},
        }[kind]
        return Channel.objects.create(
            team=team, kind=kind, name=fields.pop("name", kind), **{**defaults, **fields}
        )

    return make
