"""`make run` stops everything on Ctrl-C, the job a worker is running included (issue 11).

RQ runs each job in a forked "work horse" in a process group of its own, so a signal to the
worker's group never reaches it: a stop that only waited, then killed the worker's group, left
the horse running its job to the end. The supervisor of scripts/run_demo.py is driven here
with a real `manage.py rqworker` in the middle of a two-minute job."""

import importlib.util
import os
import signal
import time
from pathlib import Path

import django_rq
import pytest
from django.conf import settings

from tests.config.slow_job import write_pid_and_sleep

ROOT = Path(__file__).resolve().parents[2]


def _run_demo():
    spec = importlib.util.spec_from_file_location("run_demo", ROOT / "scripts" / "run_demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return state != "Z"  # a zombie has finished; only its exit status is left to collect


def _wait_for(path: Path, proc, seconds: float = 60) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists():
            return int(path.read_text())
        assert proc.poll() is None, "the worker exited before running the job"
        time.sleep(0.05)
    raise AssertionError(f"the worker did not start the job within {seconds} s")


@pytest.fixture
def queue():
    q = django_rq.get_queue("default")
    q.connection.flushdb()
    yield q
    q.connection.flushdb()


def test_stopping_the_demo_ends_the_job_a_worker_is_running(queue, tmp_path):
    run_demo = _run_demo()
    env = {**os.environ, "REDIS_URL": settings.REDIS_URL, "SLUICE_TESTING": "1", "PYTHONPATH": str(ROOT)}
    supervisor = run_demo.Supervisor(env)
    marker = tmp_path / "horse.pid"
    queue.enqueue(write_pid_and_sleep, str(marker), 120, job_timeout=300)
    worker = supervisor.start("worker", [*run_demo.MANAGE, "rqworker", "default", "--with-scheduler"])
    horse = None
    try:
        horse = _wait_for(marker, worker)
        assert os.getpgid(horse) != worker.pid  # out of reach of a signal to the worker's group

        started = time.monotonic()
        supervisor.stop_all()
        took = time.monotonic() - started

        assert worker.poll() is not None
        assert not _alive(horse), "the work horse is still running its job"
        assert took < run_demo.GRACE_SECONDS  # RQ's cold shutdown, not a wait for the job or the grace
    finally:
        if horse and _alive(horse):
            os.kill(horse, signal.SIGKILL)
        supervisor.stop_all()


LEAVES_A_CHILD = """
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
time.sleep(60)
"""


def test_a_descendant_in_a_session_of_its_own_is_stopped_with_its_parent():
    """The backstop for a horse whose worker died before it could stop it: the supervisor noted
    the descendants' groups before signalling, and kills them last."""
    run_demo = _run_demo()
    supervisor = run_demo.Supervisor(dict(os.environ))
    parent = supervisor.start("parent", [run_demo.PYTHON, "-c", LEAVES_A_CHILD])
    try:
        deadline = time.monotonic() + 20
        while not (groups := run_demo.descendant_groups(parent.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(groups) == 1 and os.getpgrp() not in groups and parent.pid not in groups
        (child,) = groups  # it leads its own session: its pid is its group

        supervisor.stop_all()

        deadline = time.monotonic() + 5
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child)
    finally:
        supervisor.stop_all()
