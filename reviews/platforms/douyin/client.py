"""One HTTP call to Douyin's v2 open API, decoded into its `data` or a `DouyinError`.

v2 answers {"err_no", "err_msg", "log_id", "data"} with HTTP 200 even on errors; the
component-token endpoint answers bare fields, with `errno`/`message` on error (douyin.md §0).
The token travels in the `access-token` header. This is the network edge: timeouts,
connection errors, HTTP 5xx/429 and bodies that are not the promised JSON are transient.
`log_id` is logged with every refusal, for Douyin's support.
"""

import json
import logging

import httpx
from django.conf import settings

from reviews.platforms.douyin.errors import DouyinError, error_for, transient

logger = logging.getLogger(__name__)


class DouyinClient:
    def __init__(self, *, base_url: str | None = None, timeout: float | None = None, transport=None) -> None:
        self.base_url = (base_url or settings.DOUYIN_API_BASE).rstrip("/")
        self.timeout = timeout if timeout is not None else settings.DOUYIN_HTTP_TIMEOUT_SECONDS
        self.transport = transport

    def get(self, path: str, *, token: str | None = None, params: dict | None = None) -> dict:
        return self.call("GET", path, token=token, params=params)

    def post(self, path: str, *, token: str | None = None, body: dict | None = None) -> dict:
        content = json.dumps(body or {}, ensure_ascii=False).encode()
        return self.call("POST", path, token=token, content=content)

    def call(self, method: str, path: str, *, token=None, params=None, content=None) -> dict:
        api = path.rstrip("/").rsplit("/", 1)[-1]
        headers = {"content-type": "application/json"}
        if token:
            headers["access-token"] = token
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as http:
                response = http.request(
                    method, self.base_url + path, params=params, content=content, headers=headers
                )
        except httpx.TimeoutException:
            raise transient("timeout", f"Douyin did not answer {api} within {self.timeout} s.") from None
        except httpx.HTTPError as exc:
            raise transient("connection", f"Could not reach Douyin for {api}: {exc}.") from None
        return self._decode(response, api)

    def _decode(self, response: httpx.Response, api: str) -> dict:
        if response.status_code >= 500:
            raise transient("http_5xx", f"Douyin answered {api} with HTTP {response.status_code}.")
        if response.status_code == 429:
            raise transient("http_429", f"Douyin is rate-limiting {api} (HTTP 429).")
        if response.status_code != 200:
            raise DouyinError(
                f"Douyin answered {api} with HTTP {response.status_code}; is DOUYIN_API_BASE "
                f"({self.base_url}) the Douyin open API?",
                name=f"http_{response.status_code}",
                permanent=True,
            )
        try:
            data = response.json()
        except ValueError:
            raise transient("malformed", f"Douyin's answer to {api} is not JSON.") from None
        if not isinstance(data, dict):
            raise transient("malformed", f"Douyin's answer to {api} is not a JSON object.")
        code = data.get("err_no", data.get("errno", 0))
        if code not in (0, None):
            if not isinstance(code, int):
                raise transient("malformed", f"Douyin's answer to {api} has a non-numeric err_no.")
            message = str(data.get("err_msg", data.get("message", "")))
            logger.info("Douyin %s: err_no %s %s (log_id %s)", api, code, message, data.get("log_id", ""))
            raise error_for(code, message, api=api)
        if "err_no" in data:
            inner = data.get("data")
            return inner if isinstance(inner, dict) else {}
        return data


def require(data: dict, api: str, *fields: str) -> dict:
    """`data`, once it has the fields the caller relies on (else the answer is malformed: transient)."""
    missing = [name for name in fields if data.get(name) in (None, "")]
    if missing:
        raise transient("malformed", f"Douyin's answer to {api} lacks {', '.join(missing)}.")
    return data
