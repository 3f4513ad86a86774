"""What every page's top bar needs beyond the user: the simulator console's address, when the
development-only simulator is installed (demo mode and tests), so `make run` shows where the
reviewer's decisions are made."""

from django.conf import settings
from django.urls import NoReverseMatch, reverse


def navigation(request) -> dict:
    if "simulator" not in settings.INSTALLED_APPS:
        return {}
    try:
        return {"simulator_console": reverse("simulator:console")}
    except NoReverseMatch:
        return {}
