"""Walking the audit chain on a schedule: each walk is kept as an AuditVerification row.

Walking takes about 30 s per two million events, so pages show the latest recorded walk instead
of verifying inside a request; the periodic job (config/cron.py) and `manage.py verify_audit` call
`audit_verify_and_record`.
"""

from django.db import connection, transaction
from django.utils import timezone

from releases.audit import ChainReport, audit_verify
from releases.models import AuditVerification

VERIFY_EVERY_SECONDS = 3600
VERIFY_JOB_TIMEOUT_SECONDS = 1800


def _verify_on_one_snapshot() -> ChainReport:
    """audit_verify on one consistent view of the table.

    Outside a transaction on PostgreSQL the walk runs REPEATABLE READ, so events appended by
    others while it walks (it takes minutes at scale) neither appear half-way nor make the
    chain head look ahead of the rows it read.
    """
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            return audit_verify()
    return audit_verify()


def audit_verify_and_record(source: str = "job") -> AuditVerification:
    """Walk the chain once and keep the outcome for the pages (the periodic job calls this)."""
    started = timezone.now()
    report = _verify_on_one_snapshot()
    return AuditVerification.objects.create(
        started_at=started,
        finished_at=timezone.now(),
        checked=report.checked,
        ok=report.ok,
        broken_id=report.broken_id,
        problem=report.problem,
        source=source,
    )


def verify_audit_job() -> dict:
    """RQ entry point for config/cron.py; the result is stored, the return value is for RQ's log."""
    run = audit_verify_and_record("job")
    return {"ok": run.ok, "checked": run.checked, "broken_id": run.broken_id}
