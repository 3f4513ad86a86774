"""Pre-submission checks: catch what the platform reviewer would reject, before it costs a submission.

Each check is a small unit with a key, a title, a severity (an "error" blocks, a "warning"
informs), the platforms it applies to and an explanation for people. `run_checks` runs
every applicable one and never lets a crashing check pass silently; slow checks (network)
are left "pending" for a worker (`run_pending`).
"""

from releases.checks import (  # noqa: F401,E402
    builtin,
    category,
    content,
    douyin,
    performance,
    privacy,
    qualifications,
)
from releases.checks.base import REGISTRY, Check, Outcome, run_checks, run_pending  # noqa: F401
