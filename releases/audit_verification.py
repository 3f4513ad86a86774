"""Walking the audit chain on a schedule: each walk is kept as an AuditVerification row.

Walking takes about 30 s per two million events, so pages show the latest recorded walk
(chain_status) instead of verifying inside a request; the periodic job (config/cron.py) and
`manage.py verify_audit` call `audit_verify_and_record`. The periodic walk also checks the chain against the
checkpoints the cron job wrote (releases/audit_checkpoints.py), if SLUICE_AUDIT_CHECKPOINT_DIR is set.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from releases import selectors
from releases.audit import ChainReport, audit_verify, one_snapshot
from releases.audit_checkpoints import CheckpointError, configured_files, read_files
from releases.models import AuditEvent, AuditVerification

VERIFY_EVERY_SECONDS = 3600
VERIFY_JOB_TIMEOUT_SECONDS = 1800
# A verification older than three rounds of verify_audit_job (config/cron.py runs it every
# VERIFY_EVERY_SECONDS; 2,000,000 events take about 30 s of one core) is shown as stale: the
# periodic job has probably stopped.
VERIFICATION_STALE_AFTER = timedelta(seconds=3 * VERIFY_EVERY_SECONDS)


def audit_verify_and_record(source: str = "job", checkpoints=None) -> AuditVerification:
    """Walk the chain once, on one snapshot (releases.audit.one_snapshot), and keep the outcome for
    the pages: against the configured checkpoint files by default, or the given checkpoints
    (`verify_audit --checkpoint FILE`). An unreadable or forged checkpoint file is a failed walk."""
    started = timezone.now()
    try:
        if checkpoints is None:
            checkpoints = read_files(configured_files())
        with one_snapshot():
            report = audit_verify(checkpoints)
    except CheckpointError as exc:
        report = ChainReport(0, None, str(exc))
    run = AuditVerification.objects.create(
        started_at=started,
        finished_at=timezone.now(),
        checked=report.checked,
        ok=report.ok,
        broken_id=report.broken_id,
        problem=report.problem,
        source=source,
    )
    run.report = report  # the details the command prints (legacy events, checkpoints matched)
    return run


def verify_audit_job() -> dict:
    """RQ entry point for config/cron.py; the result is stored, the return value is for RQ's log."""
    run = audit_verify_and_record("job")
    return {"ok": run.ok, "checked": run.checked, "broken_id": run.broken_id}


@dataclass
class ChainStatus:
    run: AuditVerification | None
    stale: bool = False
    broken_visible: bool = False  # the broken event belongs to one of the user's teams
    recorded_since: int = 0  # events appended after that walk began: the next one checks them

    @property
    def duration_seconds(self) -> float | None:
        if self.run is None:
            return None
        return max(0.0, (self.run.finished_at - self.run.started_at).total_seconds())


def chain_status(user, now: datetime | None = None) -> ChainStatus:
    """The latest recorded verification, as the audit trail shows it to `user`: stale when the
    periodic job has not run for three rounds, the broken event named only if it is of the user's
    teams, and how many events were recorded since (so "checked all 16" is not read as the whole
    trail of 50). Two queries (an index range on `at`), three when it names a broken event."""
    run = AuditVerification.objects.order_by("-finished_at", "-pk").first()
    if run is None:
        return ChainStatus(None)
    stale = (now or timezone.now()) - run.finished_at > VERIFICATION_STALE_AFTER
    visible = bool(
        run.broken_id
        and AuditEvent.objects.filter(pk=run.broken_id, team_id__in=selectors.team_ids_for(user)).exists()
    )
    since = AuditEvent.objects.filter(at__gt=run.started_at).count() if run.ok else 0
    return ChainStatus(run, stale=stale, broken_visible=visible, recorded_since=since)
