from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from releases.tokens import api_token_create


class Command(BaseCommand):
    help = "Print a new REST API token for USERNAME (stored hashed; shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="A label to recognise the token by.")

    def handle(self, *args, username, name, **options):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        self.stdout.write(api_token_create(user=user, name=name))
