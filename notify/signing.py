"""The three signatures, each as its vendor documents it (shared/domain/team-chat-robots.md).

DingTalk 加签: HMAC-SHA256 keyed by the secret over "timestamp_ms\\nsecret", base64, URL-encoded
once, in the query string. Feishu: the same string is the *key*, over an empty message, base64,
not encoded, in the JSON body (copying DingTalk's roles gives 19021). Outgoing webhooks: the
Standard Webhooks reference library (`standardwebhooks`), v1 HMAC over "id.timestamp.body".
"""

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import quote_plus

from standardwebhooks import Webhook


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The `sign` query value, already URL-encoded (append it as is: encoding twice breaks it)."""
    raw = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(raw).decode())


def dingtalk_url(url: str, secret: str, timestamp_ms: int) -> str:
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"


def feishu_sign(secret: str, timestamp_s: int) -> str:
    mac = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def webhook_headers(secret: str, msg_id: str, timestamp_s: int, body: str) -> dict[str, str]:
    """Standard Webhooks headers for one attempt: the id stays, the timestamp is new each time."""
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(timestamp_s, tz=UTC), body)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp_s),
        "webhook-signature": signature,
        "content-type": "application/json",
    }


def valid_webhook_secret(secret: str) -> bool:
    """`whsec_` + base64 of 24 to 64 bytes, as the spec asks."""
    if not secret.startswith("whsec_"):
        return False
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except ValueError:
        return False
    return 24 <= len(key) <= 64
