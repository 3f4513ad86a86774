from django.core.management.base import BaseCommand

from releases.playbooks.seed import seed_playbooks


class Command(BaseCommand):
    help = "Create the remediation playbooks that do not exist yet (idempotent; edits are kept)."

    def handle(self, *args, **options):
        created = seed_playbooks()
        if created:
            self.stdout.write(f"Created {len(created)} playbook(s): {', '.join(created)}.")
        else:
            self.stdout.write("All playbooks already exist; nothing changed.")
