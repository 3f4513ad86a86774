"""A logging filter that takes tokens, secrets and tickets out of every record before it is written.

WeChat wants its access tokens in the query string, and httpx logs every request's URL at INFO;
tracebacks and third-party messages may quote request bodies or headers too. Installed on every
handler in settings.LOGGING, so a line that reaches a log has been through it, whoever wrote it.

What is redacted, by shape rather than by caller:
- `name=value` (query strings, form bodies, reprs) and `"name": "value"` (JSON, dict reprs) when the
  name says token, secret, ticket, password, AES key or auth code (access_token,
  component_access_token, authorizer_refresh_token, component_appsecret, component_verify_ticket...);
- the XML elements of WeChat's pushes that carry one (<ComponentVerifyTicket>, <AuthorizationCode>...);
- `Bearer <token>` and Sluice API tokens (`slc_...`) wherever they appear.
"""

import logging
import re

REDACTED = "[redacted]"

_NAME = r"[A-Za-z_]*(?:token|secret|ticket|password|passwd|aes_?key|auth_?code|authorization_?code)[A-Za-z_]*"
_PATTERNS = [
    # name=value: the value runs to the next separator of a query string, form body or repr
    (re.compile(rf"(?i)(?<![A-Za-z0-9])({_NAME})=([^&\s\"',;)}}\]]+)"), rf"\1={REDACTED}"),
    # "name": "value" / 'name': 'value' (JSON, dict reprs)
    (re.compile(rf"(?i)([\"']{_NAME}[\"']\s*:\s*)([\"'])(?:\\.|(?!\2).)*\2"), rf"\1\2{REDACTED}\2"),
    # <ComponentVerifyTicket><![CDATA[...]]></ComponentVerifyTicket> and the like
    (
        re.compile(r"<(\w*(?:Ticket|Token|Secret|AuthorizationCode|AuthCode|AESKey))>.*?</\1>", re.S),
        rf"<\1>{REDACTED}</\1>",
    ),
    (re.compile(r"(?i)\b(Bearer)\s+[A-Za-z0-9._~+/=-]+"), rf"\1 {REDACTED}"),
    # team-chat robots: the WeCom key (`?key=`) and the Feishu hook id are the credentials (issue 13)
    (re.compile(r"(?<![A-Za-z0-9_])(key)=([^&\s\"',;)}\]]+)"), rf"\1={REDACTED}"),
    (re.compile(r"(/bot/v2/hook/)[A-Za-z0-9_-]+"), rf"\1{REDACTED}"),
    (re.compile(r"\bslc_[A-Za-z0-9_-]{8,}"), REDACTED),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrites the record in place (message, exception and stack text), so every later handler
    sees the redacted version too; never drops a record."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the handler's to report, as without us
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
