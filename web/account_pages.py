"""Onboarding in pages (issue 15): add and edit a platform account (secrets write-only), see the
callback URLs to paste into the platform's console, test the connection, and add an app."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from releases import onboarding, selectors
from releases.errors import SluiceError
from releases.models import Platform, PlatformAccount, Role, role_at_least
from releases.platforms import PlatformError, Probe, adapter_for
from web.api.accounts import callback_urls
from web.onboarding_forms import AppForm, PlatformAccountForm
from web.page_helpers import request_ip
from web.team_pages import _team


def _admin_account(request, account_id: int) -> PlatformAccount:
    """An account of a team the user administers (another team's, or not an admin: 404; the
    page shows the callback URLs, which carry the account's secret key)."""
    account = get_object_or_404(PlatformAccount.objects.select_related("team"), pk=account_id)
    if not role_at_least(selectors.role_for(request.user, account.team_id), Role.ADMIN):
        raise Http404
    return account


def _account_page(request, account, form, probes=None, status=200, extra=None):
    context = {
        "account": account,
        "team": account.team,
        "form": form,
        "callback_urls": callback_urls(request, account),
        "probes": probes,
        "fleet": _fleet_counts(account),
        **(extra or {}),
    }
    return render(request, "web/account_form.html", context, status=status)


def _fleet_counts(account) -> dict | None:
    """What the account's fleet section says: how many apps authorized it, how many lost it."""
    if account.platform != Platform.WECHAT:
        return None
    apps = account.apps.all()
    return {"apps": apps.count(), "lost": apps.filter(authorization_lost_at__isnull=False).count()}


@login_required
def account_create(request, team_id: int):
    team = _team(request, team_id)
    if not role_at_least(selectors.role_for(request.user, team.pk), Role.ADMIN):
        raise Http404
    form = PlatformAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = onboarding.platform_account_create(
                team_id=team.pk, actor=request.user, ip=request_ip(request), **form.cleaned_data
            )
        except SluiceError as exc:
            form.add_service_error(exc)
        else:
            messages.success(
                request,
                _("Account added. Paste the callback URLs below into the platform's console, then test it."),
            )
            return redirect("web:account", account_id=account.pk)
    context = {"account": None, "team": team, "form": form, "callback_urls": None, "probes": None}
    return render(request, "web/account_form.html", context, status=400 if form.is_bound else 200)


@login_required
def account_edit(request, account_id: int):
    account = _admin_account(request, account_id)
    form = PlatformAccountForm(request.POST or None, account=account, initial=_initial(account))
    if request.method == "POST" and form.is_valid():
        try:
            onboarding.platform_account_update(
                account=account, actor=request.user, changes=form.cleaned_data, ip=request_ip(request)
            )
        except SluiceError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("web:account", account_id=account.pk)
        return _account_page(request, account, form, status=400)
    return _account_page(request, account, form, status=400 if form.is_bound else 200)


def _initial(account: PlatformAccount) -> dict:
    return {"name": account.name, "component_appid": account.component_appid}


@login_required
@require_POST
def account_test(request, account_id: int):
    """Try the credentials against the platform now and show what each probe saw."""
    account = _admin_account(request, account_id)
    try:
        probes = adapter_for(account).connection_test()
    except PlatformError as exc:
        probes = [Probe(_("Platform"), False, exc.message)]
    form = PlatformAccountForm(account=account, initial=_initial(account))
    return _account_page(request, account, form, probes=probes)


@login_required
def app_create(request):
    """Add an app to one of the platform accounts of a team where the user manages releases."""
    teams = selectors.team_ids_for(request.user, Role.RELEASE_MANAGER)
    accounts = (
        PlatformAccount.objects.filter(team_id__in=teams)
        .select_related("team")
        .order_by("team__name", "name")
    )
    if not teams:
        raise Http404
    if not accounts.exists():
        messages.info(request, _("Add a platform account first: apps are published through one."))
        return redirect("web:team", team_id=min(teams))
    form = AppForm(
        request.POST or None, accounts=accounts, initial={"platform_account": request.GET.get("account")}
    )
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        account = fields.pop("platform_account")
        try:
            app = onboarding.app_create(account=account, actor=request.user, ip=request_ip(request), **fields)
        except SluiceError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("%(app)s added. Next: its first release.") % {"app": app.name})
            return redirect("web:app-detail", app_id=app.pk)
    return render(request, "web/app_form.html", {"form": form}, status=400 if form.is_bound else 200)
