"""What a benchmark needs around the code it measures: production settings on loopback, and
processes (gunicorn, a worker) that are stopped whatever happens, errors and Ctrl-C included.

Only 127.0.0.1 is ever contacted; the database must be a local PostgreSQL.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "", None}
# Fixed keys for bench databases, as a deployment's are: platform secrets written in one run still
# decrypt in the next (its scheduled review polls, say), and the audit chain (the same key as
# bench/audit_throughput.py's) verifies from one run to the next. BENCH_SECRET_KEY and
# BENCH_AUDIT_KEYS override them.
BENCH_SECRET_KEY = "bench-only-secret-key-never-use-it-in-production-" + "x" * 20  # noqa: S105
BENCH_AUDIT_KEY = "bench-only-audit-key-never-use-it-in-production"  # noqa: S105 -- loopback bench data


def is_local_postgres(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("postgres", "postgresql") and parsed.hostname in LOCAL_HOSTS


def production_env(*, database_url: str, redis_url: str, static_root: str, **extra: str) -> dict:
    """Production settings (DEBUG off, the bench keys) minus what needs HTTPS, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in ("SLUICE_DEMO", "SLUICE_TESTING", "DEBUG")}
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DEBUG="0",
        SECRET_KEY=os.environ.get("BENCH_SECRET_KEY") or BENCH_SECRET_KEY,
        SLUICE_AUDIT_KEYS=os.environ.get("BENCH_AUDIT_KEYS") or BENCH_AUDIT_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
        STATIC_ROOT=static_root,
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def manage(env: dict, *command: str, capture: bool = False, timeout: float = 3_600) -> str:
    result = subprocess.run(  # noqa: S603 -- our own manage.py with fixed arguments
        [str(PYTHON), "manage.py", *command],
        cwd=ROOT,
        env=env,
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else None,
        timeout=timeout,
    )
    return result.stdout or ""


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


class Process:
    """A child in its own process group, its output in a log file; stop() ends the whole group."""

    def __init__(self, name: str, command: list[str], env: dict, log_path: str):
        self.name, self.log_path = name, log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 -- closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 -- our own programs with fixed arguments
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def running(self) -> bool:
        return self.process.poll() is None

    def wait_http(self, url: str, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}); see {self.log_path}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} did not answer {url} within {seconds:.0f} s; see {self.log_path}")

    def stop(self, sig: int = signal.SIGTERM, grace: float = 20) -> int | None:
        if self.running():
            try:
                os.killpg(self.process.pid, sig)
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
            except ProcessLookupError:
                pass
        self._log.close()
        return self.process.returncode

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(Path(self.log_path).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


# Method, path, status, microseconds spent in the worker, user agent (gunicorn's access log atoms).
ACCESS_LOG_FORMAT = '%(m)s %(U)s %(s)s %(D)s "%(a)s"'


def gunicorn(
    env: dict, *, port: int, workers: int, log_path: str, access_log: str = "", app: str = "config.wsgi"
) -> Process:
    """`app` (config.wsgi, or a benchmark's own WSGI entry point around it) on 127.0.0.1:`port`."""
    command = [
        str(GUNICORN),
        app,
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--pythonpath",
        str(ROOT),
        "--timeout",
        "120",
    ]
    if access_log:
        command += ["--access-logfile", access_log, "--access-logformat", ACCESS_LOG_FORMAT]
    return Process("gunicorn", command, env, log_path)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def main_until_interrupted(run, args) -> int:
    """run(args), turning SIGTERM into Ctrl-C so that gunicorn is stopped either way (the scripts'
    own `finally` blocks stop it); 130 when interrupted."""

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        return run(args)
    except KeyboardInterrupt:
        print("Interrupted; gunicorn stopped.", file=sys.stderr)
        return 130
