"""One HTTP call to WeChat, decoded into a validated answer or a `WeChatError`.

The client knows nothing about tokens or releases: the caller passes the access token as
a query parameter (as WeChat wants it) and the pydantic model the answer must fit. It is
the network edge: timeouts, connection errors and HTTP 5xx become transient errors,
errcodes become the named errors of errors.py, and a body that is not the promised JSON
is transient too (a proxy's error page, a truncated answer).
"""

import json
import logging
from typing import TypeVar

import httpx
from django.conf import settings
from pydantic import ValidationError

from reviews.platforms.wechat.errors import WeChatError, error_for, transient
from reviews.platforms.wechat.schemas import Answer

logger = logging.getLogger(__name__)

A = TypeVar("A", bound=Answer)

# `json=` would be encoded by httpx; WeChat expects UTF-8 JSON with Chinese left unescaped.
NO_BODY = object()


# The largest picture a GET for an image (get_qrcode) may answer; more is refused as permanent.
IMAGE_MAX_BYTES = 5 * 1024 * 1024


class WeChatClient:
    def __init__(self, *, base_url: str | None = None, timeout: float | None = None, transport=None) -> None:
        self.base_url = (base_url or settings.WECHAT_API_BASE).rstrip("/")
        self.timeout = timeout if timeout is not None else settings.WECHAT_HTTP_TIMEOUT_SECONDS
        self.transport = transport

    def get(self, path: str, schema: type[A], *, params: dict | None = None) -> A:
        return self.call("GET", path, schema, params=params)

    def post(self, path: str, schema: type[A], *, params: dict | None = None, body=NO_BODY) -> A:
        """POST `body` as JSON; pass `content=` through `call` to send raw bytes."""
        content = b"" if body is NO_BODY else json.dumps(body, ensure_ascii=False).encode()
        return self.call("POST", path, schema, params=params, content=content)

    def call(
        self,
        method: str,
        path: str,
        schema: type[A],
        *,
        params: dict | None = None,
        content: bytes | None = None,
    ) -> A:
        api = path.rsplit("/", 1)[-1]
        response = self._send(method, path, params=params, content=content, api=api)
        return self._decode(response, schema, api=api)

    def get_image(self, path: str, *, params: dict | None = None) -> bytes:
        """A GET answered with image bytes (get_qrcode): an error comes back as JSON instead, so the
        Content-Type decides (wechat-fleet.md §3.2)."""
        data, content_type = self.download("GET", path, params=params or {}, max_bytes=IMAGE_MAX_BYTES)
        if not content_type.startswith("image/"):
            api = path.rsplit("/", 1)[-1]
            raise transient("malformed", f"WeChat's answer to {api} is neither an image nor an error.")
        return data

    def download(
        self, method: str, path: str, *, params: dict, body=NO_BODY, max_bytes: int
    ) -> tuple[bytes, str]:
        """A call whose success is a file (get_material's picture): (bytes, Content-Type).

        A JSON answer is WeChat's error and raises like any call; the body is read at most
        `max_bytes` + 1 bytes far, so a huge answer costs no memory (a longer one is permanent).
        """
        api = path.rsplit("/", 1)[-1]
        content = None if body is NO_BODY else json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"} if content is not None else {}
        try:
            with (
                httpx.Client(timeout=self.timeout, transport=self.transport) as http,
                http.stream(
                    method, self.base_url + path, params=params, content=content, headers=headers
                ) as response,
            ):
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > max_bytes:
                        raise WeChatError(
                            f"WeChat's answer to {api} is larger than {max_bytes} bytes.",
                            name="too_large",
                            permanent=True,
                        )
        except httpx.TimeoutException:
            raise transient("timeout", f"WeChat did not answer {api} within {self.timeout} s.") from None
        except httpx.HTTPError as exc:
            raise transient("connection", f"Could not reach WeChat for {api}: {exc}.") from None
        data = bytes(data)
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if (
            response.status_code != 200
            or content_type in ("application/json", "text/plain")
            or data[:1] == b"{"
        ):
            answered = httpx.Response(response.status_code, content=data)
            self._decode(answered, Answer, api=api)  # raises the error it names
            raise WeChatError(
                f"WeChat answered {api} with JSON, not a file.", name="not_a_file", permanent=True
            )
        return data, content_type

    def _send(self, method: str, path: str, *, params, content, api: str) -> httpx.Response:
        headers = {"Content-Type": "application/json; charset=utf-8"} if content is not None else {}
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as http:
                return http.request(
                    method, self.base_url + path, params=params, content=content, headers=headers
                )
        except httpx.TimeoutException:
            raise transient("timeout", f"WeChat did not answer {api} within {self.timeout} s.") from None
        except httpx.HTTPError as exc:
            raise transient("connection", f"Could not reach WeChat for {api}: {exc}.") from None

    def _decode(self, response: httpx.Response, schema: type[A], *, api: str) -> A:
        if response.status_code >= 500:
            raise transient("http_5xx", f"WeChat answered {api} with HTTP {response.status_code}.")
        if response.status_code == 429:
            raise transient("http_429", f"WeChat is rate-limiting {api} (HTTP 429).")
        if response.status_code != 200:
            raise WeChatError(
                f"WeChat answered {api} with HTTP {response.status_code}; is WECHAT_API_BASE "
                f"({self.base_url}) the WeChat API?",
                name=f"http_{response.status_code}",
                permanent=True,
            )
        try:
            data = response.json()
        except ValueError:
            raise transient("malformed", f"WeChat's answer to {api} is not JSON.") from None
        if not isinstance(data, dict):
            raise transient("malformed", f"WeChat's answer to {api} is not a JSON object.")
        errcode = data.get("errcode", 0)
        if errcode not in (0, None):
            if not isinstance(errcode, int):
                raise transient("malformed", f"WeChat's answer to {api} has a non-numeric errcode.")
            logger.info("WeChat %s: errcode %s %s", api, errcode, data.get("errmsg", ""))
            raise error_for(errcode, str(data.get("errmsg", "")), api=api)
        try:
            return schema.model_validate(data)
        except ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) or "answer" for e in exc.errors())
            raise transient(
                "malformed", f"WeChat's answer to {api} does not have the expected fields ({fields})."
            ) from None
