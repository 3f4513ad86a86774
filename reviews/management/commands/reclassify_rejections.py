from django.core.management.base import BaseCommand

from releases.rejection_recording import reclassify_rejections, sync_rejections, unclassified_reasons


class Command(BaseCommand):
    help = (
        "Record rejections that older code stored without their items and tasks (a repair), "
        "apply the current rules (rules.toml) to every stored rejection, and list the reasons "
        "still unclassified, most frequent first."
    )

    def handle(self, *args, **options):
        synced = sync_rejections()
        count = reclassify_rejections()
        self.stdout.write(f"Recorded {synced} new rejection(s); reclassified {count}.")
        for row in unclassified_reasons(limit=30):
            self.stdout.write(f"{row.count:5d}  {row.text}")
