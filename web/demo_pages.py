"""Pages served in demo mode only (settings.DEBUG or DEMO): a sample privacy policy."""

from django.conf import settings
from django.http import Http404
from django.shortcuts import render


def _demo_only() -> None:
    if not (settings.DEBUG or getattr(settings, "DEMO", False)):
        raise Http404("Demo pages are served in demo mode only.")


def demo_privacy_policy(request, variant: str = "full"):
    """A sample privacy policy for the demo (and the privacy check's tests), public on purpose.

    `no-location` omits the location paragraph, so a build using location fails the check.
    """
    _demo_only()
    return render(request, "releases/demo_privacy_policy.html", {"with_location": variant == "full"})
