"""Fleets in pages (issue 14): on a WeChat platform account's page, an authorization link with its
QR codes and the import of every existing authorizer; the account's template library; an app's tags.

The QR codes are inline SVG made on the server (segno): no script, no inline style, no image
from elsewhere, so the page keeps its Content-Security-Policy.
"""

import django_rq
import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from redis.exceptions import RedisError

from releases import fleet, selectors
from releases.errors import SluiceError
from releases.messages import localize
from releases.models import Platform, PlatformAccount, Role, role_at_least
from releases.platforms import PlatformError
from reviews import templates as library
from reviews.authorizations import authorization_link_create
from reviews.models import CodeTemplate, TemplateDraft
from web.account_pages import _account_page, _admin_account, _initial
from web.onboarding_forms import PlatformAccountForm
from web.page_helpers import request_ip


def qr_svg(url: str, title: str) -> str:
    """An inline SVG QR code of `url` (segno escapes the title)."""
    return mark_safe(segno.make(url, error="m").svg_inline(scale=3, title=title, border=2))  # noqa: S308


def _wechat_admin_account(request, account_id: int) -> PlatformAccount:
    account = _admin_account(request, account_id)
    if account.platform != Platform.WECHAT:
        raise Http404
    return account


@login_required
@require_POST
def authorization_link(request, account_id: int):
    """A fresh link (one use, about 10 minutes) for a mini program's administrator, with QR codes."""
    account = _wechat_admin_account(request, account_id)
    redirect_uri = request.build_absolute_uri(reverse("web:account-authorized", args=[account.pk]))
    form = PlatformAccountForm(account=account, initial=_initial(account))
    try:
        link = authorization_link_create(
            account=account, redirect_uri=redirect_uri, actor=request.user, ip=request_ip(request)
        )
    except PlatformError as exc:
        messages.error(
            request, _("WeChat did not give an authorization link: %(error)s") % {"error": exc.message}
        )
        return redirect("web:account", account_id=account.pk)
    shown = {
        "link": link,
        "pc_qr": qr_svg(link.pc_url, _("Authorization link (PC)")),
        "mobile_qr": qr_svg(link.mobile_url, _("Authorization link (inside WeChat)")),
    }
    return _account_page(request, account, form, extra=shown)


def authorized(request, account_id: int):
    """Where WeChat sends the administrator's browser after they confirm (redirect_uri). The
    `authorized` push does the work; this page only says so (it changes nothing, and the
    administrator is usually not a Sluice user)."""
    get_object_or_404(PlatformAccount, pk=account_id, platform=Platform.WECHAT)
    return render(request, "web/authorized.html", {"received": bool(request.GET.get("auth_code"))})


@login_required
@require_POST
def import_authorizers(request, account_id: int):
    """Queue the import of every authorizer (a worker pages through api_get_authorizer_list)."""
    account = _wechat_admin_account(request, account_id)
    from reviews.jobs import import_authorizers as job

    try:
        django_rq.get_queue("platform").enqueue(job, account.pk, job_timeout=3600)
    except (RedisError, OSError):
        messages.error(request, _("The import could not be queued: the job queue is unreachable. Try again."))
    else:
        messages.success(
            request, _("Import started: every mini program that authorized this account is added or updated.")
        )
    return redirect("web:account", account_id=account.pk)


def _template_account(request, account_id: int) -> tuple[PlatformAccount, bool]:
    """A WeChat account of one of the user's teams, and whether they may change its library."""
    account = get_object_or_404(
        selectors.platform_accounts_for(request.user), pk=account_id, platform=Platform.WECHAT
    )
    can_manage = role_at_least(selectors.role_for(request.user, account.team_id), Role.RELEASE_MANAGER)
    return account, can_manage


@login_required
def templates_page(request, account_id: int):
    account, can_manage = _template_account(request, account_id)
    templates = CodeTemplate.objects.filter(account=account).order_by("-template_id")
    context = {
        "account": account,
        "team": account.team,
        "can_manage": can_manage,
        "templates": templates,
        "drafts": TemplateDraft.objects.filter(account=account).order_by("-draft_id"),
        "limit": library.TEMPLATE_LIBRARY_LIMIT,
        "count": templates.count(),
    }
    return render(request, "web/templates.html", context)


def _template_change(request, account_id: int, change) -> object:
    account, can_manage = _template_account(request, account_id)
    if not can_manage:
        raise Http404
    try:
        change(account)
    except SluiceError as exc:
        messages.error(request, localize(exc.message))
    except PlatformError as exc:
        messages.error(request, _("WeChat refused: %(error)s") % {"error": exc.message})
    else:
        messages.success(request, _("Done."))
    return redirect("web:account-templates", account_id=account.pk)


@login_required
@require_POST
def templates_sync(request, account_id: int):
    return _template_change(
        request,
        account_id,
        lambda account: library.templates_sync(account=account, actor=request.user, ip=request_ip(request)),
    )


@login_required
@require_POST
def template_add(request, account_id: int):
    try:
        draft_id = int(request.POST.get("draft_id", ""))
    except ValueError:
        raise Http404 from None
    return _template_change(
        request,
        account_id,
        lambda account: library.template_add(
            account=account, draft_id=draft_id, actor=request.user, ip=request_ip(request)
        ),
    )


@login_required
@require_POST
def template_delete(request, account_id: int, template_id: int):
    return _template_change(
        request,
        account_id,
        lambda account: library.template_delete(
            account=account, template_id=template_id, actor=request.user, ip=request_ip(request)
        ),
    )


@login_required
@require_POST
def app_tags(request, app_id: int):
    """Replace the app's tags with the comma-separated list typed."""
    app = get_object_or_404(selectors.apps_for(request.user), pk=app_id)
    names = [part.strip() for part in request.POST.get("tags", "").split(",") if part.strip()]
    try:
        fleet.app_set_tags(app=app, actor=request.user, tags=names, ip=request_ip(request))
    except SluiceError as exc:
        messages.error(request, localize(exc.message))
    else:
        messages.success(request, _("Tags saved."))
    return redirect("web:app-detail", app_id=app.pk)
