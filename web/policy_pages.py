"""The publish policy page: a team's weekly windows (Beijing time) and freezes, and an app's own
policy that replaces them (releases.windows). Team admins only; everyone else gets a 403. Linked
from the calendar and the team page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from releases import selectors, windows
from releases.errors import SluiceError
from releases.models import Role, Team, role_at_least
from web.page_helpers import request_ip
from web.policy_forms import (
    AppPolicyForm,
    FreezeFormSet,
    PolicyForm,
    WindowFormSet,
    initial_freezes,
    initial_windows,
)


def _admin_only(request, team_id: int) -> None:
    if not role_at_least(selectors.role_for(request.user, team_id), Role.ADMIN):
        raise PermissionDenied("Only a team admin can change the publish windows and freezes.")


@login_required
def team_policy(request, team_id: int):
    if team_id not in selectors.team_ids_for(request.user):
        raise Http404
    _admin_only(request, team_id)
    team = Team.objects.get(pk=team_id)

    def save(policy, form):
        windows.team_publish_policy_set(team=team, actor=request.user, policy=policy, ip=request_ip(request))

    return _policy_page(request, team=team, app=None, current=team.publish_policy or {}, save=save)


@login_required
def app_policy(request, app_id: int):
    app = get_object_or_404(selectors.apps_for(request.user).select_related("team"), pk=app_id)
    _admin_only(request, app.team_id)
    own = (app.settings or {}).get("publish_window")

    def save(policy, form):
        chosen = policy if form.cleaned_data["own"] else None
        windows.app_publish_window_set(app=app, actor=request.user, policy=chosen, ip=request_ip(request))

    current = own or app.team.publish_policy or {}
    return _policy_page(request, team=app.team, app=app, current=current, save=save, own=bool(own))


def _policy_page(request, *, team, app, current: dict, save, own: bool = False):
    policy = windows.parse_policy(current)
    form_class = AppPolicyForm if app is not None else PolicyForm
    if request.method == "POST":
        form = form_class(request.POST)
        window_rows = WindowFormSet(request.POST, prefix="windows")
        freeze_rows = FreezeFormSet(request.POST, prefix="freezes")
        if form.is_valid() and window_rows.is_valid() and freeze_rows.is_valid():
            chosen = {
                "windows": [w for w in (row.window() for row in window_rows) if w],
                "working_days_only": form.cleaned_data["working_days_only"],
                "freezes": [f for f in (row.freeze() for row in freeze_rows) if f],
                "advance_in_window": form.cleaned_data["advance_in_window"],
            }
            try:
                save(chosen, form)
            except SluiceError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, _("The publish windows and freezes are saved."))
                return redirect(request.path)
        elif not form.errors:
            form.add_error(None, _("Some windows or freezes are not right: see the rows marked below."))
    else:
        flags = {key: policy.get(key, False) for key in ("working_days_only", "advance_in_window")}
        form = form_class(initial={**flags, "own": own})
        window_rows = WindowFormSet(initial=initial_windows(policy), prefix="windows")
        freeze_rows = FreezeFormSet(initial=initial_freezes(policy), prefix="freezes")
    context = {
        "team": team,
        "app": app,
        "form": form,
        "window_rows": window_rows,
        "freeze_rows": freeze_rows,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "web/publish_policy.html", context, status=status)
