"""Chaos run: releases through the simulated WeChat while the platform and the workers fail.

    make chaos        # or: .venv/bin/python bench/chaos.py --apps 50 --seconds 1200

Everything runs on this machine, on loopback, against real services:
- PostgreSQL: the database of CHAOS_DATABASE_URL (default `sluice_chaos`), dropped and created
  afresh (its name must contain "chaos"); Redis: CHAOS_REDIS_URL (default db 14), flushed;
- gunicorn serving Sluice with the WeChat simulator under /sim/ (WeChat's API for the adapter,
  Sluice's callback URLs for the simulator's pushes);
- RQ workers (`rqworker default platform`): every 3-6 s one of them is killed with SIGKILL, its
  work horse too, and started again; RQ's scheduler runs in a process of its own (see SCHEDULER);
- `rqcron bench/chaos_cron.py`: the in-flight and review sweeps every 10 s;
- this script: the release managers (submit, publish, roll back, retry a step that gave up),
  WeChat's reviewers (approve, reject or delay each submission after 3 s) and the faults: 30% of
  WeChat calls answer -1 (busy), 30% of audit pushes are lost, every token is expired every 60 s.

The report counts double submissions (a release WeChat received twice), lost audit ids (a
submission WeChat holds that its release did not record), releases stuck past the sweep
interval (in flight with no live lease or reservation for longer than the sweep interval plus a
pickup slack, or still in flight at the end) and releases whose state is not the one the
simulator's side implies. Exit status 1 if any is not zero, or if not every release went
through the simulator in time.
"""

import argparse
import contextlib
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.get("CHAOS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sluice_chaos")
REDIS_URL = os.environ.get("CHAOS_REDIS_URL", "redis://127.0.0.1:6379/14")
SWEEP_SECONDS = 10  # the in-flight and review sweeps (bench/chaos_cron.py)
STALE_SECONDS = 60  # a queued job's reservation: past it, the sweep queues the step again
LEASE_SECONDS, JOB_TIMEOUT_SECONDS = 75, 15  # the lease must outlive the job timeout + 60 s
PICKUP_SLACK_SECONDS = 25  # a swept step may wait this long in a busy queue before a worker takes it
TOKEN_EXPIRY_SECONDS = 60


# RQ's scheduler (delayed jobs: a step's next attempt, the next poll) in a process of its own that
# is not killed: a killed holder keeps its lock 60 s, which the sweeps cover, but that alone would
# stretch the run well past a few minutes.
SCHEDULER = """
import django
django.setup()
import django_rq
from rq.scheduler import RQScheduler
scheduler = RQScheduler(["default", "platform"], connection=django_rq.get_connection("default"))
scheduler.acquire_locks()
scheduler.work()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_database() -> None:
    """Drop and create the chaos database (never any other: its name must say chaos)."""
    import psycopg2

    url = urlsplit(DATABASE_URL)
    name = url.path.lstrip("/")
    if "chaos" not in name:
        raise SystemExit(f"CHAOS_DATABASE_URL must name a database called *chaos*, not {name!r}.")
    admin = psycopg2.connect(
        host=url.hostname, port=url.port or 5432, user=url.username, password=url.password, dbname="postgres"
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def environment(port: int) -> dict:
    """Production settings (no demo, no test mode) pointed at the chaos database, Redis and simulator."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLUICE_", "DJANGO_ALLOW_ASYNC"))},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SLUICE_AUDIT_KEYS": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SIMULATOR": "1",
        "WECHAT_API_BASE": f"http://127.0.0.1:{port}/sim",
        "WECHAT_HTTP_TIMEOUT_SECONDS": "5",
        "REVIEW_POLL_MIN_SECONDS": "5",
        "REVIEW_POLL_MAX_SECONDS": "15",
        "SLUICE_STEP_RETRY_SECONDS": "1,2,3,5,8",
        "SLUICE_STEP_JOB_TIMEOUT_SECONDS": str(JOB_TIMEOUT_SECONDS),
        "SLUICE_STEP_LEASE_SECONDS": str(LEASE_SECONDS),
        "SLUICE_INFLIGHT_STALE_SECONDS": str(STALE_SECONDS),
        # Two rejections for the same reason would lock an app's submissions for a day (reviews'
        # limits): right for people, but it would stop this run's apps, which do not fix anything.
        "SAME_REASON_LOCK_REJECTIONS": "1000",
        "LOG_LEVEL": "WARNING",
        "CHAOS_SWEEP_SECONDS": str(SWEEP_SECONDS),
        "PYTHONPATH": str(ROOT),
    }


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (Linux /proc): a worker's work horse."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


class Processes:
    """The web server, the workers and cron, each in its own session; logs in one directory."""

    def __init__(self, env: dict, logs: Path, workers: int) -> None:
        self.env, self.logs, self.count = env, logs, workers
        self.web = self.cron = self.scheduler = None
        self.workers: list[subprocess.Popen] = []
        self.kills = self.kills_mid_job = 0

    def _start(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 -- the child keeps it open
        return subprocess.Popen(  # noqa: S603 (our interpreter, our commands)
            argv, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def start_web(self, port: int) -> None:
        self.web = self._start(
            "web",
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"]
            + ["--worker-class", "gthread", "--threads", "8", "--timeout", "60"],
        )

    def start_workers(self) -> None:
        self.workers = [self._worker(n) for n in range(self.count)]
        self.cron = self._start("cron", [sys.executable, "manage.py", "rqcron", "bench/chaos_cron.py"])
        self.scheduler = self._start("scheduler", [sys.executable, "-c", SCHEDULER])

    def _worker(self, n: int) -> subprocess.Popen:
        argv = [sys.executable, "manage.py", "rqworker", "default", "platform"]
        return self._start(f"worker{n}", argv)

    def kill_one(self) -> None:
        """SIGKILL a worker and its work horse (RQ forks it into its own process group), as a crash
        of the machine would, and start a new worker in its place."""
        n = random.randrange(len(self.workers))
        victim = self.workers[n]
        horses = children(victim.pid)
        for pid in [victim.pid, *horses]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        victim.wait()
        self.kills += 1
        self.kills_mid_job += bool(horses)
        self.workers[n] = self._worker(n)

    def wait_for_web(self, port: int, seconds: float = 90) -> None:
        """Until the simulator answers (gunicorn's workers load Django after the port opens)."""
        import httpx

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/sim/wxa/queryquota", timeout=10).status_code == 200:
                    return
            if self.web.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {self.logs / 'web.log'}")
            time.sleep(1)
        raise SystemExit("The web server did not answer in time.")

    def stop(self) -> None:
        for process in [*self.workers, self.cron, self.scheduler, self.web]:
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in [*self.workers, self.cron, self.scheduler, self.web]:
            if process is None:
                continue
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--apps", type=int, default=50, help="mini-programs, four releases each")
    parser.add_argument("--seconds", type=int, default=900, help="at most this long for them to go through")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--error-rate", type=int, default=30, help="%% of WeChat calls answering -1")
    parser.add_argument("--lost-pushes", type=int, default=30, help="%% of audit pushes never sent")
    parser.add_argument("--kill-every", type=float, nargs=2, default=(3.0, 6.0), metavar=("MIN", "MAX"))
    args = parser.parse_args()

    port, logs = free_port(), Path(tempfile.mkdtemp(prefix="sluice-chaos-"))
    env = environment(port)
    os.environ.update(env)
    fresh_database()

    import django

    django.setup()
    import django_rq
    from django.core.management import call_command

    from bench import chaos_world as world_
    from bench.chaos_report import report
    from simulator.services import sim_configure, sim_expire_tokens

    call_command("migrate", verbosity=0)
    django_rq.get_connection("default").flushdb()
    processes = Processes(env, logs, args.workers)
    worst: dict[int, float] = {}
    try:
        processes.start_web(port)
        processes.wait_for_web(port)
        print(f"Seeding {args.apps} apps x {len(world_.VERSIONS)} releases (logs in {logs}) ...", flush=True)
        seeding = time.monotonic()
        world = world_.seed(f"http://127.0.0.1:{port}", args.apps)
        print(f"Seeded in {time.monotonic() - seeding:.0f} s.", flush=True)
        django_rq.get_connection("default").flushdb()  # the check jobs already ran inline; cold tokens
        sim_configure(error_rate_pct=args.error_rate, lost_push_pct=args.lost_pushes)
        processes.start_workers()
        started = time.monotonic()
        next_kill = started + random.uniform(*args.kill_every)
        next_expiry = started + TOKEN_EXPIRY_SECONDS
        expiries, next_progress = 0, started + 60
        print("Chaos on.", flush=True)
        while time.monotonic() - started < args.seconds and not world_.settled(world):
            from django.utils import timezone

            now = timezone.now()
            world_.review(now)
            world_.manage(world)
            for pk, seconds in world_.unattended(timezone.now(), STALE_SECONDS).items():
                worst[pk] = max(worst.get(pk, 0.0), seconds)
            if time.monotonic() >= next_kill:
                processes.kill_one()
                next_kill = time.monotonic() + random.uniform(*args.kill_every)
            if time.monotonic() >= next_progress:
                print(f"  {time.monotonic() - started:4.0f} s: {world_.progress()}", flush=True)
                next_progress = time.monotonic() + 60
            if time.monotonic() >= next_expiry:
                sim_expire_tokens()
                expiries += 1
                next_expiry = time.monotonic() + TOKEN_EXPIRY_SECONDS
            time.sleep(1)
        elapsed = time.monotonic() - started
        outcome = world_.verdict(world)
    finally:
        processes.stop()
    limit = SWEEP_SECONDS + PICKUP_SLACK_SECONDS
    stuck = {pk: s for pk, s in worst.items() if s > limit}
    return report(
        args=args,
        outcome=outcome,
        world=world,
        stuck=stuck,
        worst=max(worst.values(), default=0.0),
        limit=limit,
        elapsed=elapsed,
        kills=(processes.kills, processes.kills_mid_job),
        expiries=expiries,
        expected=len(world_.VERSIONS) * args.apps,
    )


if __name__ == "__main__":
    sys.exit(main())
