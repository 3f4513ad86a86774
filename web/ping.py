"""A trivial logged-in page: the baseline bench/pages.py measures every other page against.

It pays what every page pays (session, user, base layout) and nothing else: no query of its own.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET


@login_required
@require_GET
def ping(request):
    return render(request, "releases/ping.html")
