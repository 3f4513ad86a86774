from django.core.management.base import BaseCommand, CommandError

from releases.audit import audit_verify


class Command(BaseCommand):
    help = "Walk the audit trail's hash chain and name the first broken event."

    def handle(self, *args, **options):
        report = audit_verify()
        if not report.ok:
            where = f"event #{report.broken_id}" if report.broken_id else "the chain's end"
            raise CommandError(
                f"Audit chain broken at {where}: {report.problem} ({report.checked} verified before it)."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.checked} events verified."))
