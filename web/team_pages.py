"""The team page (issue 15): members and their roles, the platform accounts, and where to add
an account or an app. Everyone in the team sees it; only admins change it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from releases import onboarding, selectors
from releases.errors import SluiceError
from releases.models import Membership, PlatformAccount, Role, Team, role_at_least
from web.onboarding_forms import MemberForm
from web.page_helpers import request_ip


def _team(request, team_id: int) -> Team:
    if team_id not in selectors.team_ids_for(request.user):
        raise Http404
    return Team.objects.get(pk=team_id)


@login_required
def my_team(request):
    """The first of the user's teams (most people are in one)."""
    team_ids = selectors.team_ids_for(request.user)
    if not team_ids:
        raise Http404
    return redirect("web:team", team_id=min(team_ids))


@login_required
def team_page(request, team_id: int, form: MemberForm | None = None):
    team = _team(request, team_id)
    role = selectors.role_for(request.user, team.pk)
    is_admin = role_at_least(role, Role.ADMIN)
    members = Membership.objects.filter(team=team).select_related("user").order_by("user__username")
    accounts = PlatformAccount.objects.filter(team=team).annotate(app_count=Count("apps")).order_by("name")
    context = {
        "team": team,
        "role_label": Role(role).label,
        "is_admin": is_admin,
        "can_add_app": role_at_least(role, Role.RELEASE_MANAGER) and accounts.exists(),
        "members": members,
        "admin_count": sum(1 for m in members if m.role == Role.ADMIN),
        "accounts": accounts,
        "roles": Role.choices,
        "teams": Team.objects.filter(pk__in=selectors.team_ids_for(request.user)).order_by("name"),
        "form": form or MemberForm(),
    }
    return render(request, "web/team.html", context, status=400 if form is not None else 200)


@login_required
@require_POST
def member_add(request, team_id: int):
    team = _team(request, team_id)
    form = MemberForm(request.POST)
    if form.is_valid():
        try:
            onboarding.member_add(
                team_id=team.pk, actor=request.user, ip=request_ip(request), **form.cleaned_data
            )
        except SluiceError as exc:
            form.add_service_error(exc)
        else:
            messages.success(
                request, _("%(user)s joined the team.") % {"user": form.cleaned_data["username"]}
            )
            return redirect("web:team", team_id=team.pk)
    return team_page(request, team.pk, form=form)


def _member_change(request, team_id: int, call, done: str):
    team = _team(request, team_id)
    try:
        call(team)
    except SluiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("web:team", team_id=team.pk)


@login_required
@require_POST
def member_role(request, team_id: int, user_id: int):
    role = request.POST.get("role", "")
    return _member_change(
        request,
        team_id,
        lambda team: onboarding.member_set_role(
            team_id=team.pk, actor=request.user, user_id=user_id, role=role, ip=request_ip(request)
        ),
        _("Role changed."),
    )


@login_required
@require_POST
def member_remove(request, team_id: int, user_id: int):
    return _member_change(
        request,
        team_id,
        lambda team: onboarding.member_remove(
            team_id=team.pk, actor=request.user, user_id=user_id, ip=request_ip(request)
        ),
        _("Removed from the team."),
    )
