"""{% live_stamp release as live %}: the stamp an open release page starts from (see web/live.py)."""

from django import template

from web.live import release_stamp

register = template.Library()


@register.simple_tag(takes_context=True)
def live_stamp(context, release) -> str:
    found = release_stamp(context["request"].user, release.pk)
    return found["stamp"] if found else ""
