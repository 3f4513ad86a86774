"""A job that runs long, for stopping a real worker in the middle of it (test_run_demo.py)."""

import os
import time
from pathlib import Path


def write_pid_and_sleep(path: str, seconds: float) -> None:
    marker = Path(path)
    marker.with_suffix(".tmp").write_text(str(os.getpid()))
    marker.with_suffix(".tmp").replace(marker)
    time.sleep(seconds)
