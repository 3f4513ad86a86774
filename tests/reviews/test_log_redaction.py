"""No token, secret or ticket reaches a log: what the configured handlers write during a whole WeChat
flow (ticket push, tokens, submit, polls, a refused token refreshed, an error, the approval
pushed, publish) is captured at DEBUG and searched for every secret involved (issue 11)."""

import io
import logging
import subprocess
import sys

import django_rq
import pytest
from django.conf import settings

from config.redact import RedactSecrets
from config.workers import SimpleWorker
from releases.models import State
from releases.services import release_publish, release_step_perform
from reviews.models import ReviewWatch
from reviews.platforms.wechat.errors import WeChatError
from reviews.polling import review_poll
from simulator.models import SimTicket, SimToken
from simulator.services import sim_decide, sim_expire_tokens, sim_push_ticket
from tests.fixtures.wechat import COMPONENT_APPID, COMPONENT_SECRET, ENCODING_AES_KEY, MESSAGE_TOKEN
from tests.reviews.wechat_helpers import in_flight, submitted


@pytest.fixture
def written():
    """Everything the handlers of settings.LOGGING write, with every logger let through at DEBUG."""
    stream = io.StringIO()
    loggers = [logging.getLogger(), logging.getLogger("django.server")]
    handlers = [h for lg in loggers for h in lg.handlers if h.get_name() in ("console", "django.server")]
    assert handlers, "no configured handler found"
    saved = [(handler, handler.setStream(stream)) for handler in handlers]
    root, level = logging.getLogger(), logging.getLogger().level
    root.setLevel(logging.DEBUG)
    yield stream
    root.setLevel(level)
    for handler, previous in saved:
        if previous is not None:
            handler.setStream(previous)


def _run_jobs():
    queue = django_rq.get_queue("default")
    SimpleWorker([queue, django_rq.get_queue("platform")], connection=queue.connection).work(burst=True)


def test_a_whole_wechat_flow_writes_no_token_secret_or_ticket_to_the_logs(sim, wechat_release, mike, written):
    sim_push_ticket(COMPONENT_APPID)  # a new ticket pushed to our callback URL
    _run_jobs()
    release = release_step_perform(release_id=in_flight(wechat_release).pk)  # both tokens, submit_audit
    assert release.state == State.SUBMITTED
    ReviewWatch.objects.update(next_poll_at=release.submitted_at)
    review_poll(release.pk)  # still in review
    sim_expire_tokens()  # the next call is refused with 42001 and the token fetched again
    with pytest.raises(WeChatError):
        submitted(sim)  # 85009: another one is in review
    sim_decide(auditid=int(release.platform_audit_id), outcome="approved")  # pushed to our events URL
    _run_jobs()
    release.refresh_from_db()
    assert release.state == State.APPROVED
    release_publish(release=release, actor=mike)
    _run_jobs()  # the publish job holds the step's reservation
    release.refresh_from_db()
    assert release.state == State.PUBLISHED

    text = written.getvalue()
    assert "HTTP Request: POST" in text and "component_access_token=" in text  # httpx's lines were seen
    assert "85009" in text  # and the error
    secrets = [COMPONENT_SECRET, MESSAGE_TOKEN, ENCODING_AES_KEY, "refresh-1"]
    secrets += list(SimToken.objects.values_list("token", flat=True))
    secrets += list(SimTicket.objects.values_list("ticket", flat=True))
    assert len(secrets) > 6
    leaked = [secret for secret in secrets if secret in text]
    assert leaked == []


def test_every_handler_settings_configure_redacts():
    """Every handler on every logger after start-up (Django's defaults included) carries the filter:
    checked in a fresh process, without the handlers pytest adds."""
    script = (
        "import logging, django; django.setup(); from config.redact import RedactSecrets\n"
        "loggers = [logging.getLogger()] + [l for l in logging.root.manager.loggerDict.values()"
        " if isinstance(l, logging.Logger)]\n"
        "handlers = {h for l in loggers for h in l.handlers}\n"
        "bare = [repr(h) for h in handlers if not any(isinstance(f, RedactSecrets) for f in h.filters)]\n"
        "print(len(handlers), bare)\n"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    count, bare = result.stdout.strip().split(" ", 1)
    assert int(count) >= 2 and bare == "[]", result.stdout


@pytest.mark.parametrize(
    "line",
    [
        "GET https://api.weixin.qq.com/wxa/submit_audit?access_token={s}",
        "POST /cgi-bin/component/api_authorizer_token?component_access_token={s}&x=1",
        '{{"component_appsecret": "{s}", "component_appid": "wx1"}}',
        "{{'authorizer_refresh_token': '{s}'}}",
        "<xml><ComponentVerifyTicket><![CDATA[{s}]]></ComponentVerifyTicket></xml>",
        "Authorization: Bearer {s}",
    ],
)
def test_the_filter_redacts_secrets_in_every_shape_they_are_written(line):
    secret = "Zx9-secret.VALUE_42"
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "%s", (line.format(s=secret),), None)
    RedactSecrets().filter(record)
    assert secret not in record.getMessage()
    assert "[redacted]" in record.getMessage()


def test_the_filter_redacts_tracebacks_and_keeps_plain_lines():
    try:
        raise RuntimeError("refused https://x/y?component_access_token=abc123def")
    except RuntimeError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    RedactSecrets().filter(record)
    assert "abc123def" not in record.exc_text
    plain = logging.LogRecord("t", logging.INFO, __file__, 1, "WeChat %s: errcode %s", ("api", 40001), None)
    RedactSecrets().filter(plain)
    assert plain.getMessage() == "WeChat api: errcode 40001"
