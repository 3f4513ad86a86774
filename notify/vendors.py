"""Each vendor's request for a message, and what its answer means (team-chat-robots.md).

The robots answer HTTP 200 even on failure, so the verdict is read from `errcode` / `code` in the
body: 0 is success, the rate-limit codes wait (WeCom 45009 ≥ 60 s, DingTalk 130101 a 10-minute
window, Feishu 11232), "system busy" (-1) is retried, anything else is a configuration error
that retrying cannot fix. Webhooks follow Standard Webhooks: 2xx is success, 410 disables the
endpoint, 429/502/504 throttle (Retry-After honoured), other answers are retried.
"""

import json
from dataclasses import dataclass, field

from notify import signing
from notify.messages import Message

WECOM_MARKDOWN_BYTES = 4096
WECOM_TEXT_BYTES = 2048
FEISHU_BODY_BYTES = 20 * 1024
ANSWER_CHARS = 2000


@dataclass
class Outgoing:
    url: str
    body: bytes
    headers: dict = field(default_factory=lambda: {"content-type": "application/json; charset=utf-8"})


@dataclass
class Outcome:
    ok: bool
    answer: str = ""
    http_status: int | None = None
    retry: bool = False  # transient: try again later
    wait: int = 0  # at least this long before the next try (rate limits, Retry-After)
    disable: bool = False  # the endpoint is gone (410)


def _json(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def clip_bytes(text: str, limit: int) -> str:
    """At most `limit` UTF-8 bytes, cut on a character boundary (a Chinese character is 3 bytes)."""
    raw = text.encode()
    if len(raw) <= limit:
        return text
    return raw[: limit - 3].decode(errors="ignore") + "…"


# -- bodies ----------------------------------------------------------------------------------

WECOM_COLOURS = {"bad": "warning", "good": "info", "info": "comment"}


def wecom(url: str, message: Message) -> list[Outgoing]:
    """Markdown; WeCom's markdown has no mention lists, so when someone must act, a short text
    message follows with `mentioned_mobile_list` (each counts against the robot's 20 a minute)."""
    colour = WECOM_COLOURS[message.tone]
    parts = [f'### <font color="{colour}">{message.title}</font>']
    parts += [f"> {line}" for line in message.lines]
    if message.link:
        parts.append(f"[{message.button}]({message.link})")
    content = clip_bytes("\n".join(parts), WECOM_MARKDOWN_BYTES)
    sent = [Outgoing(url, _json({"msgtype": "markdown", "markdown": {"content": content}}))]
    if message.mobiles:
        text = {
            "content": clip_bytes(message.title, WECOM_TEXT_BYTES),
            "mentioned_mobile_list": message.mobiles,
        }
        sent.append(Outgoing(url, _json({"msgtype": "text", "text": text})))
    return sent


def dingtalk(url: str, secret: str, message: Message, now_ms: int) -> list[Outgoing]:
    text = [f"### {message.title}", *[f"- {line}" for line in message.lines]]
    if message.link:
        text.append(f"[{message.button}]({message.link})")
    if message.mobiles:  # the @ only highlights when the text names the mobile too
        text.append(" ".join(f"@{mobile}" for mobile in message.mobiles))
    body = {
        "msgtype": "markdown",
        "markdown": {"title": message.title, "text": "\n\n".join(text)},
        "at": {"atMobiles": message.mobiles, "isAtAll": False},
    }
    signed = signing.dingtalk_url(url, secret, now_ms) if secret else url
    return [Outgoing(signed, _json(body))]


FEISHU_TEMPLATES = {"bad": "red", "good": "green", "info": "blue"}


def feishu(url: str, secret: str, message: Message, now_s: int) -> list[Outgoing]:
    """An interactive card: `card` beside `msg_type`, a button to the release; signed in the body."""
    elements: list[dict] = []
    lines = list(message.lines)
    if lines:
        elements.append({"tag": "div", "text": {"tag": "lark_md", "content": "\n".join(lines)}})
    if message.link:
        button = {
            "tag": "button",
            "text": {"tag": "plain_text", "content": message.button},
            "type": "primary",
            "url": message.link,
        }
        elements.append({"tag": "action", "actions": [button]})
    card = {
        "config": {"wide_screen_mode": True},
        "header": {
            "template": FEISHU_TEMPLATES[message.tone],
            "title": {"tag": "plain_text", "content": message.title},
        },
        "elements": elements,
    }
    body: dict = {"msg_type": "interactive", "card": card}
    if secret:
        body = {"timestamp": str(now_s), "sign": signing.feishu_sign(secret, now_s), **body}
    raw = _json(body)
    while len(raw) > FEISHU_BODY_BYTES and lines:  # keep under 20 KB: drop lines from the end
        lines = lines[: max(0, len(lines) - 5)]
        card["elements"][0]["text"]["content"] = "\n".join(lines + ["…"])
        raw = _json(body)
    return [Outgoing(url, raw)]


def webhook_body(event: str, facts: dict, at_iso: str) -> str:
    data = facts.get("release") if "release" in facts else {k: v for k, v in facts.items() if k != "mobiles"}
    payload = {"type": f"release.{event}", "timestamp": at_iso, "data": data}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def webhook(url: str, secret: str, msg_id: str, body: str, now_s: int) -> list[Outgoing]:
    headers = (
        signing.webhook_headers(secret, msg_id, now_s, body)
        if secret
        else {"content-type": "application/json"}
    )
    return [Outgoing(url, body.encode(), headers)]


# -- answers ---------------------------------------------------------------------------------

ROBOT_RATE_LIMITED = {"wecom": {45009: 60}, "dingtalk": {130101: 600}, "feishu": {11232: 60}}
BUSY = -1


def _answer(text: str) -> str:
    return text[:ANSWER_CHARS]


def robot_outcome(kind: str, status: int, text: str) -> Outcome:
    answer = _answer(text)
    if status == 429 or status >= 500:
        return Outcome(False, answer, status, retry=True, wait=60 if status == 429 else 0)
    if status != 200:
        return Outcome(False, answer, status)
    try:
        parsed = json.loads(text)
        code = parsed.get("errcode", parsed.get("code", parsed.get("StatusCode")))
    except (ValueError, AttributeError):
        return Outcome(False, answer, status, retry=True)
    if code == 0:
        return Outcome(True, answer, status)
    if code in ROBOT_RATE_LIMITED.get(kind, {}):
        return Outcome(False, answer, status, retry=True, wait=ROBOT_RATE_LIMITED[kind][code])
    return Outcome(False, answer, status, retry=code == BUSY)


def webhook_outcome(status: int, text: str, retry_after: str | None) -> Outcome:
    answer = _answer(text)
    if 200 <= status < 300:
        return Outcome(True, answer, status)
    if status == 410:
        return Outcome(False, answer, status, disable=True)
    wait = 0
    if status in (429, 502, 504):
        wait = int(retry_after) if retry_after and retry_after.isdigit() else 60
    return Outcome(False, answer, status, retry=True, wait=wait)
