"""`manage.py seed_scale`: 2,000 apps, 200,000 releases and 2,000,000 audit events for the
scale benchmark (bench/pages.py). See bench/scale/ for what is generated and how.

    manage.py seed_scale                                   # full scale, a few minutes on PostgreSQL
    manage.py seed_scale --apps 20 --releases-per-app 10 --events 2000
    manage.py seed_scale --force                           # add another set on top of an earlier one
"""

from django.core.management.base import BaseCommand, CommandError

from bench.scale import APPS, EVENTS, RELEASES_PER_APP, Options, ScaleError, seed_scale, summary


class Command(BaseCommand):
    help = "Generate a large, realistic data set (apps, releases, audit events) for the scale benchmark."

    def add_arguments(self, parser):
        parser.add_argument("--apps", type=int, default=APPS, help=f"Apps to create (default {APPS:,}).")
        parser.add_argument(
            "--releases-per-app",
            type=int,
            default=RELEASES_PER_APP,
            help=f"Releases per app (default {RELEASES_PER_APP}).",
        )
        parser.add_argument(
            "--events", type=int, default=EVENTS, help=f"Audit events in total (default {EVENTS:,})."
        )
        parser.add_argument("--seed", type=int, default=6, help="Random seed (default 6).")
        parser.add_argument(
            "--force", action="store_true", help="Run even if generated data is already there (adds on top)."
        )

    def handle(self, *args, **options):
        wanted = Options(
            apps=options["apps"],
            releases_per_app=options["releases_per_app"],
            events=options["events"],
            seed=options["seed"],
            force=options["force"],
        )
        self.stdout.write(
            f"Generating {wanted.apps:,} apps, {wanted.apps * wanted.releases_per_app:,} releases and "
            f"{wanted.events:,} audit events..."
        )
        try:
            result = seed_scale(wanted, log=self.stdout.write)
        except ScaleError as exc:
            raise CommandError(str(exc)) from None
        for line in summary(result):
            self.stdout.write(self.style.SUCCESS(line))
        self.stdout.write("Check the audit chain with `manage.py verify_audit`.")
