"""A real worker process killed between WeChat's answer and the database write.

The first worker is `manage.py rqworker platform --burst` started from a small script that
only waits, at the network edge, once WeChat has answered the call named on its command line
(submit_audit, a rollback's revertcoderelease, or the grayrelease of a phased release's next
stage): it writes its pid (and the auditid) to a marker file and sleeps until the test kills
the worker and its work horse with SIGKILL. Its
lease keeps every other worker off the step until it runs out; then the in-flight sweep queues
the step again and an ordinary worker finishes it. WeChat must have received the call exactly
once, and the release must record its outcome.
"""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import django_rq
from django.conf import settings
from django.db import connection
from django.utils import timezone

from releases import services
from releases.jobs import enqueue_step
from releases.models import AuditEvent, Release, State
from releases.services import release_step_perform, release_sweep_in_flight
from simulator.models import SimAuthorizer, SimSubmission
from simulator.services import sim_decide
from tests.reviews.wechat_helpers import calls, in_flight, released_version, submitted

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
    if path == sys.argv[2] and "action" not in (kwargs.get("params") or {}):
        with open(sys.argv[1] + ".tmp", "w") as marker:
            marker.write(f"{os.getpid()} {getattr(answer, 'auditid', '')}")
        os.replace(sys.argv[1] + ".tmp", sys.argv[1])
        time.sleep(120)  # killed here: WeChat made the change, our database does not know
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
    raise AssertionError(f"The worker never made its call within {seconds} s.")


CWD = str(settings.BASE_DIR)


def burst(env: dict) -> None:
    """An ordinary worker runs what is queued on the platform queue, then stops."""
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "rqworker", "platform", "--burst"],
        env=env,
        cwd=CWD,
        check=True,
        timeout=60,
    )


def lease_runs_out(release) -> None:
    """Time passes beyond the dead worker's lease (SLUICE_STEP_LEASE_SECONDS)."""
    Release.objects.filter(pk=release.pk).update(step_lease_until=timezone.now() - timedelta(seconds=1))


def killed_after(path: str, release, live_server, tmp_path, reserved: str = "") -> tuple[dict, str]:
    """Run the release's step in a worker killed once WeChat answered `path`; (env, auditid).
    `reserved`: the reservation the release holds for its job (a step started by a service)."""
    django_rq.get_queue("platform").empty()  # only this job: the one the service queued is replaced
    enqueue_step(release.pk, reserved=reserved)
    env, marker, script = worker_env(live_server), tmp_path / "answered", tmp_path / "stalling_worker.py"
    script.write_text(STALLING_WORKER)
    stalled = subprocess.Popen(  # noqa: S603 (our own interpreter and script)
        [sys.executable, str(script), str(marker), path],
        env=env,
        cwd=CWD,
        start_new_session=True,
        stderr=subprocess.PIPE,
    )
    try:
        horse, *auditid = wait_for(marker, stalled).split()
    finally:
        os.killpg(stalled.pid, signal.SIGKILL)
        stalled.wait(10)
    # RQ runs the job in a forked "work horse" in its own session: kill it too, as a crash would.
    os.kill(int(horse), signal.SIGKILL)
    return env, "".join(auditid)


def test_a_worker_killed_after_submitting_neither_submits_twice_nor_loses_the_auditid(
    sim, wechat_release, live_server, tmp_path
):
    release = in_flight(wechat_release)
    env, auditid = killed_after("/wxa/submit_audit", release, live_server, tmp_path)
    assert Release.objects.get(pk=release.pk).state == State.SUBMITTING  # the write never happened

    asked = calls("wxa/get_latest_auditstatus").count()
    enqueue_step(release.pk)  # a duplicated job: the dead worker's lease still holds the step
    burst(env)
    assert Release.objects.get(pk=release.pk).state == State.SUBMITTING
    assert calls("wxa/get_latest_auditstatus").count() == asked  # nobody asked WeChat meanwhile

    lease_runs_out(release)
    assert release_sweep_in_flight() == 1  # the sweep queues the step again
    burst(env)

    release.refresh_from_db()
    assert release.state == State.SUBMITTED
    assert release.platform_audit_id == auditid
    assert calls("wxa/submit_audit").count() == 1
    assert SimSubmission.objects.get().auditid == int(auditid)
    assert AuditEvent.objects.filter(release_id=release.pk, action="submit_succeeded").count() == 1


def test_a_worker_killed_after_rolling_back_does_not_end_the_rollback_in_87012(
    sim, wechat_release, live_server, tmp_path
):
    released_version(sim)
    released_version(sim)
    release = in_flight(wechat_release, State.ROLLING_BACK, came_from=State.PUBLISHED)
    env, _ = killed_after("/wxa/revertcoderelease", release, live_server, tmp_path)
    assert Release.objects.get(pk=release.pk).state == State.ROLLING_BACK  # the write never happened

    lease_runs_out(release)
    assert release_sweep_in_flight() == 1
    burst(env)

    release.refresh_from_db()
    assert release.state == State.ROLLED_BACK, release.last_error
    rollbacks = [c for c in calls("wxa/revertcoderelease") if "action" not in c.query]  # not the history
    assert len(rollbacks) == 1
    assert AuditEvent.objects.filter(release_id=release.pk, action="rollback_succeeded").count() == 1


def test_a_worker_killed_after_the_next_stages_grayrelease_finishes_that_stage_exactly_once(
    sim, wechat_release, mike, live_server, tmp_path
):
    released_version(sim)  # 1.0 online: a phased release needs an online version
    auditid = submitted(sim)
    sim_decide(auditid=auditid, outcome="approved")
    release = wechat_release("1.1.0", audit_id=str(auditid), state=State.APPROVED)
    plan = [{"percentage": 5, "hold_minutes": 60}, {"percentage": 20, "hold_minutes": 60}]
    plan.append({"percentage": 100})
    services.release_publish(release=release, actor=mike, rollout=plan)
    release.refresh_from_db()
    release_step_perform(release_id=release.pk, reserved=release.step_claimed_by)  # 5% is live
    release.refresh_from_db()
    services.release_rollout_advance(release=release, actor=mike)  # the new step: 20%
    release.refresh_from_db()

    reserved = release.step_claimed_by
    env, _ = killed_after("/wxa/grayrelease", release, live_server, tmp_path, reserved=reserved)
    release.refresh_from_db()
    assert (release.state, release.rollout["percentage"]) == (State.PUBLISHING, 5)  # never written
    assert SimAuthorizer.objects.get().gray_percentage == 20  # but WeChat made the change

    lease_runs_out(release)
    assert release_sweep_in_flight() == 1
    burst(env)

    release.refresh_from_db()
    rollout = release.rollout
    assert (release.state, rollout["stage"], rollout["percentage"]) == (State.ROLLING_OUT, 2, 20)
    assert [json.loads(call.body)["gray_percentage"] for call in calls("wxa/grayrelease")] == [5, 20]
    stages = AuditEvent.objects.filter(release_id=release.pk, action="stage_succeeded")
    assert [event.data["percentage"] for event in stages] == [5, 20]
