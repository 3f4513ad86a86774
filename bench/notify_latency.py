"""Transition latency with notifications on and off, in the same run (issue 13).

    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/notify_latency.py

Notifications must never slow the transition that causes them: the transition only writes its
audit event (as it always did) and, after commit, one Redis SET NX (+ one enqueue when no scan
waits); the worker does the rest. This measures that claim under a burst of 1,000 notified events.

What it does, all on 127.0.0.1:
1. Creates (drops first) the database --database-url (default sluice_bench_notify), migrates it,
   and makes a team with --apps apps and 2 x --events drafts that pass their checks.
2. Adds four channels on every event, pointing at a stand-in server in this process that answers
   like the real robots: WeCom, DingTalk (signed), Feishu (signed) and a Standard-Webhooks
   webhook (the robots are rate-limited to 20 a minute, so most of their events coalesce).
3. Starts a real worker (`manage.py rqworker default --with-scheduler`, production settings) that
   scans the trail and sends, all through the run.
4. Runs the `check` transition (draft -> checked, which notifies `approval_needed`) on one draft
   after another, in blocks of --block alternating off/on/on/off... (ABBA, so drift hits both):
   "on" is the product as shipped; "off" disconnects the notifier's wake-up (as if it were not
   installed). The worker keeps draining the "on" backlog during "off" blocks, so the comparison
   is if anything unfavourable to "on".
5. Prints p50/p95/mean per variant and on/off, then waits for the worker to drain and prints how
   many deliveries and requests went out and how long the fan-out took after the last transition.

Options: --events 1000, --block 125, --apps 20, --port 8251, --keep-db.
"""

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.content import NOTES, REPORT  # noqa: E402
from bench.server import (  # noqa: E402
    PYTHON,
    Process,
    is_local_postgres,
    main_until_interrupted,
    manage,
    percentile,
    production_env,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/sluice_bench_notify"
TARGET = 1.10


class StandIn(BaseHTTPRequestHandler):
    count = 0
    lock = threading.Lock()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        with StandIn.lock:
            StandIn.count += 1
        body = (
            b'{"code":0,"msg":"success","data":{}}'
            if "feishu" in self.path
            else b'{"errcode":0,"errmsg":"ok"}'
        )
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _recreate(database_url: str) -> None:
    parsed = urlparse(database_url)
    name = parsed.path.lstrip("/")
    admin = urlunparse(parsed._replace(path="/postgres"))
    connection = psycopg2.connect(admin)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def _setup_world(events: int, apps: int, stand_in: str):
    from django.contrib.auth import get_user_model

    from notify.models import Channel
    from releases import services
    from releases.models import App, Membership, PlatformAccount, Role, Team

    team = Team.objects.create(name="Bench notify")
    users = get_user_model().objects
    dev, manager = users.create_user("bench-dev"), users.create_user("bench-manager")
    Membership.objects.create(team=team, user=dev, role=Role.DEVELOPER)
    Membership.objects.create(team=team, user=manager, role=Role.RELEASE_MANAGER)
    account = PlatformAccount.objects.create(team=team, platform="manual", name="Manual")
    made = [
        App.objects.create(
            team=team, platform_account=account, name=f"App {i}", appid=f"wxbench{i:05}", checklist=[]
        )
        for i in range(apps)
    ]
    drafts = []
    for n in range(2 * events):
        app = made[n % apps]
        drafts.append(
            services.release_create(
                app=app, actor=dev, version=f"1.{n}.0", review_notes=NOTES, build_report=REPORT
            )
        )
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # noqa: S105 -- the spec's test key, loopback only
    for kind, path, key in (
        ("wecom", "/wecom?key=k", ""),
        ("dingtalk", "/dingtalk?access_token=t", "SECbench"),
        ("feishu", "/feishu", "feishu-secret"),
        ("webhook", "/hook", secret),
    ):
        Channel.objects.create(team=team, kind=kind, name=kind, url=stand_in + path, secret=key)
    return dev, drafts


def run(args) -> int:
    if not is_local_postgres(args.database_url):
        print("--database-url must be a local PostgreSQL", file=sys.stderr)
        return 2
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    server = ThreadingHTTPServer(("127.0.0.1", args.port), StandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stand_in = f"http://127.0.0.1:{args.port}"
    static = tempfile.mkdtemp(prefix="sluice-bench-static-")
    env = production_env(
        database_url=args.database_url,
        redis_url=redis_url,
        static_root=static,
        SLUICE_FETCH_ALLOW_PRIVATE="1",
    )
    print(f"Creating {args.database_url} and migrating...", flush=True)
    _recreate(args.database_url)
    manage(env, "migrate", "--noinput")
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    import django_rq
    from django.db.models.signals import post_save

    from notify import detection
    from notify.models import Delivery
    from releases import services
    from releases.models import AuditEvent

    django_rq.get_queue("default").connection.flushdb()
    dev, drafts = _setup_world(args.events, args.apps, stand_in)
    print(f"{len(drafts)} drafts ready; starting the worker.", flush=True)
    log = tempfile.mkstemp(prefix="sluice-bench-worker-", suffix=".log")[1]
    worker = Process(
        "worker", [str(PYTHON), "manage.py", "rqworker", "default", "--with-scheduler"], env, log
    )
    timings = {"on": [], "off": []}
    try:
        time.sleep(3)
        pending = iter(drafts)
        schedule = ("off", "on", "on", "off")
        for block in range(2 * args.events // args.block):
            variant = schedule[block % 4]
            if variant == "on":
                post_save.connect(detection._audit_written, sender=AuditEvent, dispatch_uid="notify-wake")
            else:
                post_save.disconnect(sender=AuditEvent, dispatch_uid="notify-wake")
            for _ in range(args.block):
                release = next(pending)
                started = time.perf_counter()
                services.release_check(release=release, actor=dev)
                timings[variant].append((time.perf_counter() - started) * 1000)
        post_save.connect(detection._audit_written, sender=AuditEvent, dispatch_uid="notify-wake")
        burst_end = time.monotonic()
        detection.wake()  # the off blocks' events too, as the minute job would
        print("Transitions done; waiting for the worker to send everything...", flush=True)
        deadline = time.monotonic() + args.drain_seconds
        while time.monotonic() < deadline:
            left = Delivery.objects.filter(status__in=Delivery.PENDING, next_attempt_at__lte=_now()).count()
            if left == 0 and Delivery.objects.count() >= 4 * 2 * args.events * 0.99:
                break
            time.sleep(1)
        drained = time.monotonic() - burst_end
    finally:
        worker.stop()
        server.shutdown()
    _report(timings, drained, Delivery, StandIn.count, args)
    return 0


def _now():
    from django.utils import timezone

    return timezone.now()


def _report(timings, drained, Delivery, requests, args) -> None:
    print(f"\nTransition `check` latency, ms ({args.events} per variant, blocks of {args.block}, ABBA):")
    for variant in ("off", "on"):
        values = timings[variant]
        print(
            f"  {variant:3}  n={len(values)}  p50={percentile(values, 0.5):.2f}  "
            f"p95={percentile(values, 0.95):.2f}  mean={statistics.mean(values):.2f}"
        )
    ratio50 = percentile(timings["on"], 0.5) / percentile(timings["off"], 0.5)
    ratio95 = percentile(timings["on"], 0.95) / percentile(timings["off"], 0.95)
    mean = statistics.mean(timings["on"]) / statistics.mean(timings["off"])
    verdict = "within" if ratio50 <= TARGET else "OVER"
    print(
        f"  on/off: p50 {ratio50:.3f}, p95 {ratio95:.3f}, mean {mean:.3f}  ({verdict} the 10% target at p50)"
    )
    by_status = {
        s: Delivery.objects.filter(status=s).count() for s in ("sent", "queued", "held", "retrying", "failed")
    }
    print(
        f"\nFan-out: {Delivery.objects.count()} deliveries {by_status}, "
        f"{requests} HTTP requests to the stand-ins,"
    )
    print(
        f"  everything due sent {drained:.1f} s after the last transition (robots: 20 a minute, coalesced)."
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--block", type=int, default=125)
    parser.add_argument("--apps", type=int, default=20)
    parser.add_argument("--port", type=int, default=8251)
    parser.add_argument("--drain-seconds", type=int, default=300)
    return main_until_interrupted(run, parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
