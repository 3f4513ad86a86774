"""Measure the WeChat review loop of a running demo: push-to-state latency and poll calls.

Drives a release of the demo WeChat app (Demo Cafe) through the REST API of a running
`make run`, lets the simulator's reviewer decide, and times how long Sluice takes to show
the decision: first by push, then with pushes switched off (polling only). Prints the
simulator's call log for the run: the calls WeChat would have received.

Run it from the checkout that `make run` serves, with the same database and Redis:

    PORT=8000 make run        # in one terminal
    SLUICE_DEMO=1 REDIS_URL=unix://$PWD/var/redis.sock .venv/bin/python bench/wechat_review.py \
        --base http://127.0.0.1:8000

It talks to the server over HTTP for everything a person or CI would do, and uses the
database directly only for what the simulator's reviewer would click (decide, pushes
on/off) and to read the simulator's call log.
"""

import argparse
import logging
import os
import statistics
import sys
import time
from pathlib import Path

import django
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402

from releases.models import App  # noqa: E402
from releases.tokens import api_token_create  # noqa: E402
from simulator.models import SimCall  # noqa: E402
from simulator.services import sim_configure, sim_decide  # noqa: E402

REPORT = {
    "packages": [{"name": "__FULL__", "size": 2_000_000}, {"name": "__APP__", "size": 1_200_000}],
    "pages": ["pages/index/index", "pages/menu/goods", "pages/menu/order"],
    "first_screen_ms": 1100,
    "error_monitoring": "sentry",
}
REJECTION = "1:服务类目不符:<br>(1):小程序实际运营内容与所选服务类目不符<br>"


class Demo:
    def __init__(self, base: str):
        users = get_user_model().objects
        self.dev = httpx.Client(
            base_url=f"{base}/api/v1", timeout=30, headers=self._auth(users.get(username="dev"))
        )
        self.mgr = httpx.Client(
            base_url=f"{base}/api/v1", timeout=30, headers=self._auth(users.get(username="manager"))
        )

    @staticmethod
    def _auth(user) -> dict:
        return {"Authorization": f"Bearer {api_token_create(user=user, name='bench')}"}

    @staticmethod
    def ok(response: httpx.Response) -> dict:
        if response.status_code >= 400:
            raise SystemExit(
                f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
            )
        return response.json()

    def release(self, rid: int) -> dict:
        return self.ok(self.dev.get(f"/releases/{rid}"))

    def wait_for(
        self, rid: int, states: set[str], timeout: float = 120, every: float = 0.05
    ) -> tuple[dict, float]:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            body = self.release(rid)
            if body["state"] in states:
                return body, time.monotonic() - start
            time.sleep(every)
        raise SystemExit(f"release {rid} did not reach {states} in {timeout}s (now {body['state']})")


def _prepare(demo: Demo, app: App, version: str) -> int:
    rid = demo.ok(
        demo.dev.post(
            f"/apps/{app.pk}/releases",
            json={
                "version": version,
                "release_notes": "Bench run.",
                "review_notes": "Menu and ordering, see 我的 > 订单.",
                "build_report": REPORT,
            },
        )
    )["id"]
    for check in demo.release(rid)["checks"]:
        if check["kind"] == "manual":
            demo.ok(demo.dev.post(f"/releases/{rid}/checks/{check['key']}/confirm"))
    demo.ok(demo.dev.post(f"/releases/{rid}/check"))
    demo.wait_for(rid, {"checked"})
    demo.ok(demo.mgr.post(f"/releases/{rid}/approve", json={"comment": "bench"}))
    return rid


def _submit(demo: Demo, rid: int) -> int:
    demo.ok(demo.mgr.post(f"/releases/{rid}/submit"))
    body, _ = demo.wait_for(rid, {"submitted"})
    return int(body["platform_audit_id"])


def _polls_for(auditid: int, since) -> int:
    return SimCall.objects.filter(
        path__endswith="wxa/get_auditstatus", at__gte=since, body__contains=str(auditid)
    ).count()


def run(base: str, rounds: int) -> None:
    demo = Demo(base)
    app = App.objects.get(appid="wxdemocafe0000001")
    push_latencies, poll_latencies, polls = [], [], []
    started = django.utils.timezone.now()
    for n in range(rounds):
        version = f"2.{int(time.time())}.{n}"
        rid = _prepare(demo, app, version)

        sim_configure(pushes_enabled=True)
        auditid = _submit(demo, rid)
        sim_decide(auditid=auditid, outcome="rejected", reason=REJECTION)
        body, seconds = demo.wait_for(rid, {"rejected"})
        push_latencies.append(seconds)
        assert body["rejection"]["items"], body

        demo.ok(demo.mgr.post(f"/releases/{rid}/remediation/override", json={"reason": "bench: fixed"}))
        sim_configure(pushes_enabled=False)
        since = django.utils.timezone.now()
        auditid = _submit(demo, rid)
        sim_decide(auditid=auditid, outcome="approved")
        _, seconds = demo.wait_for(rid, {"approved"}, timeout=300, every=0.2)
        poll_latencies.append(seconds)
        polls.append(_polls_for(auditid, since))
        sim_configure(pushes_enabled=True)

        demo.ok(demo.mgr.post(f"/releases/{rid}/publish"))
        demo.wait_for(rid, {"published"})
        print(
            f"round {n + 1}: {version} push {push_latencies[-1]:.2f}s, poll {poll_latencies[-1]:.1f}s "
            f"({polls[-1]} get_auditstatus calls)"
        )

    def summary(values):
        return f"median {statistics.median(values):.2f}s, max {max(values):.2f}s"

    print(f"\npush-to-state latency ({rounds} rejections): {summary(push_latencies)}")
    print(f"poll-to-state latency, pushes off ({rounds} approvals): {summary(poll_latencies)}")
    print(f"get_auditstatus calls per decided review (pushes off): {polls}")
    print("\nsimulator call log for this run (what WeChat would have received):")
    for call in SimCall.objects.filter(at__gte=started, appid__in=[app.appid, ""]).order_by("at", "pk"):
        print(f"  {call.method:4} /{call.path.lstrip('/'):45} errcode={call.errcode}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=f"http://127.0.0.1:{os.environ.get('PORT', '8000')}")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    run(args.base.rstrip("/"), args.rounds)
