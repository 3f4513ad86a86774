from django.core.management.base import BaseCommand, CommandError

from releases.audit_verification import audit_verify_and_record


class Command(BaseCommand):
    help = (
        "Walk the audit trail's hash chain and name the first broken event. "
        "The result is recorded for the audit page, like the periodic job's."
    )

    def handle(self, *args, **options):
        run = audit_verify_and_record("command")
        if not run.ok:
            where = f"event #{run.broken_id}" if run.broken_id else "the chain's end"
            raise CommandError(
                f"Audit chain broken at {where}: {run.problem} ({run.checked} verified before it)."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {run.checked} events verified."))
