from django.core.management.base import BaseCommand

from web.throttle import api_token_unlock


class Command(BaseCommand):
    help = "Let ADDRESS use the API again now, after a lockout for unknown tokens (web/throttle.py)."

    def add_arguments(self, parser):
        parser.add_argument("address", help="The client address, as in the api_token_lockout audit event.")

    def handle(self, *args, address, **options):
        if api_token_unlock(address):
            self.stdout.write(f"{address} may use the API again.")
        else:
            self.stdout.write(f"{address} was not locked out; its failure count is reset.")
