from django.core.management.base import BaseCommand, CommandError

from releases.audit_checkpoints import CheckpointError, checkpoint_take, checkpoint_write


class Command(BaseCommand):
    help = (
        "Print a signed checkpoint of the audit chain (count, last hash, time) as one JSON line, "
        "to be kept outside the database; `verify_audit --checkpoint FILE` checks the chain against it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir",
            default="",
            help="Append it to this month's file in this directory instead of printing it.",
        )

    def handle(self, *args, **options):
        try:
            if options["dir"]:
                path = checkpoint_write(options["dir"])
                self.stderr.write(f"Checkpoint appended to {path}.")
                return
            self.stdout.write(checkpoint_take().line())
        except CheckpointError as exc:
            raise CommandError(str(exc)) from None
