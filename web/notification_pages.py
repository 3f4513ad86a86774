"""The notification pages: channels (list, add, edit, test, delete), a channel's delivery log
with redelivery, and a person's own preferences. Each form calls one notify service and flashes
what happened or why not; a test flashes the platform's exact answer."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from notify import services
from notify.models import Delivery
from releases import selectors
from releases.errors import SluiceError
from releases.models import App, Team
from web.notification_forms import ChannelForm, PreferenceForm
from web.page_helpers import request_ip

DELIVERIES_PER_PAGE = 50


def _form(request, data=None, initial=None):
    teams = Team.objects.filter(pk__in=services.manageable_team_ids(request.user)).order_by("name")
    apps = App.objects.filter(team__in=teams).select_related("team").order_by("name")
    return ChannelForm(data, initial=initial, teams=teams, apps=apps)


def _flash_error(request, exc: SluiceError) -> None:
    details = " ".join(f"{k}: {v}" for k, v in exc.details.items())
    messages.error(request, f"{exc.message} {details}".strip())


@login_required
def channel_list(request):
    channels = services.channels_for(request.user).order_by("team__name", "name", "pk")
    managed = services.manageable_team_ids(request.user)
    return render(
        request,
        "notifications/channel_list.html",
        {
            "channels": channels,
            "form": _form(request) if managed else None,
            "robot_inbox": settings.SIMULATOR,  # the demo's stand-in robots (robotsim)
        },
    )


@login_required
@require_POST
def channel_create(request):
    form = _form(request, request.POST)
    if not form.is_valid():
        messages.error(request, _("The channel was not saved:") + " " + form.errors_text())
        return redirect("web:notifications")
    try:
        channel = services.channel_create(
            actor=request.user,
            values=form.values(),
            team_id=form.cleaned_data["team"],
            ip=request_ip(request),
        )
    except SluiceError as exc:
        _flash_error(request, exc)
        return redirect("web:notifications")
    messages.success(
        request, _("Channel “%(name)s” added. Send a test to see it work.") % {"name": channel.name}
    )
    return redirect("web:notification-channel", channel_id=channel.pk)


@login_required
def channel_detail(request, channel_id: int):
    channel = get_object_or_404(services.channels_for(request.user), pk=channel_id)
    initial = {
        "team": channel.team_id,
        "kind": channel.kind,
        "name": channel.name,
        "to": channel.to,
        "events": channel.events,
        "apps": channel.apps,
        "language": channel.language,
        "quiet_start": channel.quiet_start,
        "quiet_end": channel.quiet_end,
        "digest_time": channel.digest_time,
        "digest_working_days_only": channel.digest_working_days_only,
        "enabled": channel.enabled,
    }
    deliveries = channel.deliveries.order_by("-pk")
    page = Paginator(deliveries, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    can_manage = channel.team_id in services.manageable_team_ids(request.user)
    return render(
        request,
        "notifications/channel_detail.html",
        {
            "channel": channel,
            "form": _form(request, initial=initial) if can_manage else None,
            "page": page,
            "can_manage": can_manage,
            "pending": Delivery.PENDING,
        },
    )


def _channel_for_post(request, channel_id: int):
    return get_object_or_404(services.channels_for(request.user), pk=channel_id)


def _back(channel_id: int, anchor: str = ""):
    return redirect(reverse("web:notification-channel", args=[channel_id]) + (f"#{anchor}" if anchor else ""))


@login_required
@require_POST
def channel_edit(request, channel_id: int):
    channel = _channel_for_post(request, channel_id)
    form = _form(request, request.POST)
    if not form.is_valid():
        messages.error(request, _("The channel was not saved:") + " " + form.errors_text())
        return _back(channel.pk)
    try:
        services.channel_update(
            channel=channel, actor=request.user, values=form.values(), ip=request_ip(request)
        )
    except SluiceError as exc:
        _flash_error(request, exc)
    else:
        messages.success(request, _("Channel saved."))
    return _back(channel.pk)


@login_required
@require_POST
def channel_test(request, channel_id: int):
    channel = _channel_for_post(request, channel_id)
    try:
        item = services.channel_test(channel=channel, actor=request.user)
    except SluiceError as exc:
        _flash_error(request, exc)
        return _back(channel.pk)
    said = {"status": item.http_status or "—", "answer": item.answer or _("(no answer)")}
    if item.status == Delivery.Status.SENT:
        messages.success(request, _("Test sent. The platform answered %(status)s: %(answer)s") % said)
    else:
        messages.error(request, _("The test failed. The platform answered %(status)s: %(answer)s") % said)
    return _back(channel.pk, "deliveries-title")


@login_required
@require_POST
def channel_delete(request, channel_id: int):
    channel = _channel_for_post(request, channel_id)
    try:
        services.channel_delete(channel=channel, actor=request.user, ip=request_ip(request))
    except SluiceError as exc:
        _flash_error(request, exc)
        return _back(channel.pk)
    messages.success(request, _("Channel deleted."))
    return redirect("web:notifications")


@login_required
@require_POST
def delivery_redeliver(request, channel_id: int, delivery_id: int):
    channel = _channel_for_post(request, channel_id)
    item = get_object_or_404(channel.deliveries, pk=delivery_id)
    try:
        services.redeliver(item=item, actor=request.user)
    except SluiceError as exc:
        _flash_error(request, exc)
    else:
        messages.success(request, _("Queued again; the log shows the new attempt in a moment."))
    return _back(channel.pk, "deliveries-title")


@login_required
def preferences(request):
    preference = services.preference_for(request.user)
    if request.method == "POST":
        form = PreferenceForm(request.POST)
        if form.is_valid():
            try:
                services.preference_update(user=request.user, **form.cleaned_data)
            except SluiceError as exc:
                _flash_error(request, exc)
            else:
                messages.success(request, _("Your notification preferences are saved."))
            return redirect("web:notification-preferences")
    else:
        form = PreferenceForm(
            initial={
                "email_enabled": preference.email_enabled,
                "language": preference.language,
                "mobile": preference.mobile,
            }
        )
    teams = selectors.teams_for(request.user)
    return render(request, "notifications/preferences.html", {"form": form, "teams": teams})
