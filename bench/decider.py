"""The stream of WeChat review decisions under bench/load.py: releases taken through the whole
loop on the simulator, one after another, while the load runs.

Started by bench/load.py with its environment (the bench database, SIMULATOR=1, WECHAT_API_BASE
at the server's own /sim). It sets up a fresh platform account with `--apps` mini programs on
the simulator (fresh each run, so nothing of an earlier run is still in review on them), then,
per app, over the REST API like a person: creates a release (dev), ticks its checklist and runs
the checks (the slow ones in the worker), approves and submits it (manager, the worker calls the
simulator), and has the simulator's reviewer decide it (`sim_decide`, in turn approved, rejected,
delayed then approved), whose push the worker delivers back to Sluice. Approved releases are
published, rejected ones cancelled; `--pause` seconds later the app's next release starts.

A decision counts as seen when the API shows it (state, or the delay); one not seen within
`--lost-after` seconds is lost. On SIGTERM no new step starts; decisions already made and steps
already with the worker are waited for (up to `--drain` seconds), then the JSON summary is
written to `--report`.
"""

import argparse
import itertools
import json
import os
import secrets
import signal
import string
import sys
import time
from pathlib import Path

import django
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402

from releases.models import App, Platform, PlatformAccount, Team  # noqa: E402
from releases.playbooks.seed import seed_playbooks  # noqa: E402
from releases.tokens import api_token_create  # noqa: E402
from reviews.models import ComponentTicket  # noqa: E402
from reviews.platforms.wechat.tokens import Tokens  # noqa: E402
from simulator.management.commands.seed_demo_wechat import REPORT  # noqa: E402
from simulator.services import (  # noqa: E402
    SimRefused,
    format_reasons,
    reason_catalogue,
    sim_configure,
    sim_current_ticket,
    sim_decide,
    sim_push_ticket,
    sim_register_account,
    sim_register_authorizer,
)

TEAM = "Scale Platform"  # seed_scale's big team: the demo users are its members
OUTCOMES = ("approved", "rejected", "delayed")  # in turn; a delay is followed by an approval
IN_WORKER = {"submitting", "publishing"}


def _alnum(length: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(length))


def setup(base: str, apps: int) -> list[App]:
    """A fresh account and apps, registered with the simulator, with a ticket; simulator reset."""
    team = Team.objects.get(name=TEAM)
    seed_playbooks()
    stamp = time.strftime("%Y%m%d%H%M%S")
    account = PlatformAccount.objects.create(
        team=team,
        name=f"WeChat (load bench {stamp})",
        platform=Platform.WECHAT,
        component_appid=f"wxloadc{stamp}",
        component_appsecret=_alnum(32),
        message_token=_alnum(24),
        encoding_aes_key=_alnum(43),
    )
    # Another database on this Redis may have cached tokens under the same account id.
    cache = Tokens(account).redis
    for key in cache.scan_iter(f"sluice:wechat:{account.pk}:*"):
        cache.delete(key)
    created = [
        App.objects.create(
            team=team,
            platform_account=account,
            appid=f"wxloada{stamp}{n:02d}",
            name=f"Load bench {stamp} #{n + 1}",
            authorizer_refresh_token="refreshtoken@@@" + _alnum(24),
            categories=["餐饮 > 点餐平台"],
        )
        for n in range(apps)
    ]
    sim_register_account(account, base)
    for app in created:
        sim_register_authorizer(
            component_appid=account.component_appid,
            appid=app.appid,
            refresh_token=app.authorizer_refresh_token,
        )
    sim_push_ticket(account.component_appid)
    ComponentTicket.objects.create(account=account, ticket=sim_current_ticket(account.component_appid))
    # A person decides (no scripted reviewer), nothing is lost or slowed on purpose, no quota runs out.
    sim_configure(
        scripted_enabled=False,
        error_rate_pct=0,
        latency_ms=0,
        pushes_enabled=True,
        lost_push_pct=0,
        quota_limit=1_000_000,
        speedup_limit=1_000_000,
    )
    return created


class Failed(RuntimeError):
    pass


class Decider:
    def __init__(self, base: str, apps: list[App], pause: float, lost_after: float):
        users = get_user_model().objects
        self.clients = {
            name: httpx.Client(
                base_url=f"{base}/api/v1",
                timeout=120,
                headers={
                    "Authorization": f"Bearer {api_token_create(user=users.get(username=name), name='load')}"
                },
            )
            for name in ("dev", "manager")
        }
        self.lanes = [
            {"app": app, "release": None, "next_at": 0.0, "outcomes": itertools.cycle(OUTCOMES)}
            for app in apps
        ]
        self.pause, self.lost_after = pause, lost_after
        self.counts = dict.fromkeys(("releases", "published", "cancelled", "api_calls"), 0)
        self.decisions = dict.fromkeys(("approved", "rejected", "delayed"), 0)
        self.seen_ms: list[float] = []
        self.lost: list[str] = []
        self.errors: list[str] = []

    def call(self, who: str, method: str, path: str, **kwargs) -> dict:
        self.counts["api_calls"] += 1
        answer = self.clients[who].request(method, path, **kwargs)
        if not answer.is_success:
            raise Failed(f"{method} {path} as {who}: {answer.status_code} {answer.text[:300]}")
        return answer.json()

    def busy(self, lane: dict) -> bool:
        """A decision or a worker step is outstanding: waited for when stopping."""
        return lane["release"] is not None and (
            lane.get("decided") is not None or lane.get("state") in IN_WORKER
        )

    def step(self, lane: dict, stopping: bool) -> None:
        if lane["release"] is None:
            if not stopping and time.monotonic() >= lane["next_at"]:
                self.start(lane)
            return
        rid = lane["release"]
        body = self.call("dev", "GET", f"/releases/{rid}")
        state = lane["state"] = body["state"]
        decided = lane.get("decided")
        if decided is not None:
            outcome, at = decided
            seen = state == outcome or (outcome == "delayed" and body["review_delay"])
            if seen:
                self.seen_ms.append((time.monotonic() - at) * 1000)
                lane["decided"] = None
            elif time.monotonic() - at > self.lost_after:
                self.lost.append(f"release {rid}: {outcome} not seen after {self.lost_after:.0f} s")
                lane["release"] = lane["decided"] = None
            return
        if stopping:
            return
        run = body["check_run"]
        if state == "draft" and run and run["finished_at"] and not run["passed"]:
            raise Failed(
                f"release {rid}: checks failed: {[c for c in body['checks'] if c['status'] != 'passed']}"
            )
        if state == "checked":
            if body["approved"]:
                self.call("manager", "POST", f"/releases/{rid}/submit", json={})
            else:  # approving the revision read, as a person approves what they saw
                self.call("manager", "POST", f"/releases/{rid}/approve", json={"revision": body["revision"]})
        elif state == "submitted":
            self.decide(lane, body)
        elif state == "approved":
            self.call("manager", "POST", f"/releases/{rid}/publish", json={})
        elif state == "rejected":
            self.call("manager", "POST", f"/releases/{rid}/cancel", json={})
        elif state in ("published", "cancelled"):
            self.counts[state] += 1
            lane["release"], lane["next_at"] = None, time.monotonic() + self.pause
        elif state.endswith("_failed") or state in ("withdrawn", "expired"):
            raise Failed(f"release {rid} is {state}: {body['last_error']}")

    def start(self, lane: dict) -> None:
        app = lane["app"]
        version = f"1.{int(time.time() * 1000) % 10**9}.{self.counts['releases']}"
        body = self.call(
            "dev",
            "POST",
            f"/apps/{app.pk}/releases",
            json={
                "version": version,
                "release_notes": "Load bench release.",
                "review_notes": "Menu on the home page, ordering under 我的 > 订单.",
                "build_report": REPORT,
            },
        )
        rid = body["id"]
        for check in body["checks"]:
            if check["kind"] == "manual":
                self.call("dev", "POST", f"/releases/{rid}/checks/{check['key']}/confirm")
        self.call("dev", "POST", f"/releases/{rid}/check", json={})
        lane["release"], lane["state"], lane["decided"] = rid, "draft", None
        self.counts["releases"] += 1

    def decide(self, lane: dict, body: dict) -> None:
        auditid = int(body["platform_audit_id"])
        outcome = "approved" if body["review_delay"] else next(lane["outcomes"])
        reason = format_reasons([secrets.choice(reason_catalogue())]) if outcome == "rejected" else ""
        try:
            sim_decide(auditid=auditid, outcome=outcome, reason=reason)
        except SimRefused as exc:
            raise Failed(f"release {body['id']}: the simulator refused {outcome}: {exc}") from None
        self.decisions[outcome] += 1
        lane["decided"] = (outcome, time.monotonic())

    def run(self, stop: dict, drain: float) -> None:
        stopped_at = None
        while True:
            if stop["now"] and stopped_at is None:
                stopped_at = time.monotonic()
            if stopped_at is not None and (
                not any(self.busy(lane) for lane in self.lanes) or time.monotonic() - stopped_at > drain
            ):
                return
            for lane in self.lanes:
                try:
                    self.step(lane, stopping=stopped_at is not None)
                except (Failed, httpx.HTTPError) as exc:
                    self.errors.append(str(exc)[:500])
                    lane["release"], lane["decided"], lane["next_at"] = (
                        None,
                        None,
                        time.monotonic() + self.pause,
                    )
            time.sleep(0.5)

    def summary(self) -> dict:
        unfinished = [lane["release"] for lane in self.lanes if self.busy(lane)]
        return {
            **self.counts,
            "decisions": self.decisions,
            "seen_ms": self.seen_ms,
            "lost": self.lost,
            "errors": self.errors,
            "unfinished": unfinished,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="The server, e.g. http://127.0.0.1:8240")
    parser.add_argument("--report", required=True, help="Where to write the JSON summary.")
    parser.add_argument("--apps", type=int, default=2, help="Apps in review at once (default 2).")
    parser.add_argument(
        "--pause", type=float, default=3, help="Seconds between an app's releases (default 3)."
    )
    parser.add_argument("--lost-after", type=float, default=60)
    parser.add_argument("--drain", type=float, default=60)
    args = parser.parse_args()
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    signal.signal(signal.SIGINT, lambda *_: stop.update(now=True))
    decider = Decider(args.base, setup(args.base, args.apps), args.pause, args.lost_after)
    print("decider ready", flush=True)
    try:
        decider.run(stop, args.drain)
    finally:
        Path(args.report).write_text(json.dumps(decider.summary()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
