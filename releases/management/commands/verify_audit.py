from django.core.management.base import BaseCommand, CommandError

from releases.audit_checkpoints import CheckpointError, read_files
from releases.audit_verification import audit_verify_and_record


class Command(BaseCommand):
    help = (
        "Walk the audit trail's keyed hash chain and name the first broken event. "
        "The result is recorded for the audit page, like the periodic job's."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="FILE",
            help=(
                "Also check the chain against the signed checkpoints in FILE (JSON lines from "
                "`manage.py audit_checkpoint` or SLUICE_AUDIT_CHECKPOINT_DIR): a chain recomputed "
                "since, or shortened, does not match them. Repeat for several files."
            ),
        )

    def handle(self, *args, **options):
        try:
            checkpoints = read_files(options["checkpoint"])
        except CheckpointError as exc:
            raise CommandError(str(exc)) from None
        run = audit_verify_and_record("command", checkpoints=checkpoints)
        report = run.report
        if not run.ok:
            where = f"event #{run.broken_id}" if run.broken_id else "the chain's end"
            raise CommandError(
                f"Audit chain broken at {where}: {run.problem} ({run.checked} verified before it)."
            )
        notes = []
        if report.legacy:
            notes.append(f"{report.legacy} of them from before the chain was keyed")
        if options["checkpoint"]:
            notes.append(f"matching {report.checkpoints} of {len(checkpoints)} checkpoints")
        extra = f" ({'; '.join(notes)})" if notes else ""
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {run.checked} events verified{extra}."))
