"""A real worker process killed between WeChat's answer to submit_audit and the database write.

The first worker is `manage.py rqworker platform --burst` started from a small script that
only waits, at the network edge, once WeChat has answered submit_audit: it writes the
auditid (and its pid) to a marker file and sleeps until the test kills the worker and its
work horse with SIGKILL. The step is then run again by an ordinary worker, as the in-flight sweep would.
WeChat must have received exactly one submit_audit, and the release must carry its auditid.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

from releases.jobs import enqueue_step
from releases.models import AuditEvent, Release, State
from simulator.models import SimSubmission
from tests.reviews.wechat_helpers import calls, in_flight

# The simulator fixtures, shared with the adapter tests.

STALLING_WORKER = """
import os, sys, time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.core.management import call_command

from reviews.platforms.wechat.client import WeChatClient

answered = WeChatClient.call


def call(self, method, path, *args, **kwargs):
    answer = answered(self, method, path, *args, **kwargs)
    if path == "/wxa/submit_audit":
        with open(sys.argv[1] + ".tmp", "w") as marker:
            marker.write(f"{answer.auditid} {os.getpid()}")
        os.replace(sys.argv[1] + ".tmp", sys.argv[1])
        time.sleep(120)  # killed here: WeChat holds the submission, our database does not
    return answer


WeChatClient.call = call
call_command("rqworker", "platform", "--burst")
"""


def worker_env(live_server) -> dict:
    """The worker sees the test database (pytest-django's test_<name>), Redis db and simulator."""
    db = connection.settings_dict
    login = f"{db['USER']}:{db['PASSWORD']}" if db["PASSWORD"] else db["USER"]
    database_url = f"postgres://{login}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.REDIS_URL,
        "WECHAT_API_BASE": live_server.url + "/sim",
        "SLUICE_TESTING": "1",
        "SECRET_KEY": settings.SECRET_KEY,
        "PYTHONPATH": str(settings.BASE_DIR),
    }


def wait_for(path: Path, process: subprocess.Popen, seconds: float = 30) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        assert process.poll() is None, process.stderr.read().decode()[-3000:]
        time.sleep(0.05)
    raise AssertionError(f"The worker never called submit_audit within {seconds} s.")


def test_a_worker_killed_after_submitting_neither_submits_twice_nor_loses_the_auditid(
    sim, wechat_release, live_server, tmp_path
):
    release = in_flight(wechat_release)
    enqueue_step(release.pk)
    env, marker, script = worker_env(live_server), tmp_path / "submitted", tmp_path / "stalling_worker.py"
    script.write_text(STALLING_WORKER)
    cwd = str(settings.BASE_DIR)

    stalled = subprocess.Popen(  # noqa: S603 (our own interpreter and script)
        [sys.executable, str(script), str(marker)],
        env=env,
        cwd=cwd,
        start_new_session=True,
        stderr=subprocess.PIPE,
    )
    try:
        auditid, horse = wait_for(marker, stalled).split()
    finally:
        os.killpg(stalled.pid, signal.SIGKILL)
        stalled.wait(10)
    # RQ runs the job in a forked "work horse" in its own session: kill it too, as a crash would.
    os.kill(int(horse), signal.SIGKILL)
    assert Release.objects.get(pk=release.pk).state == State.SUBMITTING  # the write never happened

    enqueue_step(release.pk)  # what the in-flight sweep does for a step left behind
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "rqworker", "platform", "--burst"],
        env=env,
        cwd=cwd,
        check=True,
        timeout=60,
    )

    release.refresh_from_db()
    assert release.state == State.SUBMITTED
    assert release.platform_audit_id == auditid
    assert calls("wxa/submit_audit").count() == 1
    assert SimSubmission.objects.get().auditid == int(auditid)
    assert AuditEvent.objects.filter(release_id=release.pk, action="submit_succeeded").count() == 1
