"""The forms of the app page: settings, check suppressions, qualifications, the manual
checklist, the approval policy and members' approval capacities. Each calls one app service
(releases.app_services), flashes what happened or why not, and goes back to its section."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from releases import app_services, selectors
from releases.checks import REGISTRY
from releases.errors import SluiceError
from releases.messages import localize
from releases.models import Membership
from web.forms import ChecklistForm, QualificationForm, SuppressionForm
from web.page_helpers import request_ip


def _app_for_post(request, app_id: int):
    return get_object_or_404(selectors.apps_for(request.user), pk=app_id)


def _back_to_app(app, anchor: str):
    return redirect(f"{reverse('web:app-detail', args=[app.pk])}#{anchor}")


def _run_app_service(request, app, anchor: str, call, done: str):
    """Call one app service; flash what happened or why not; back to the app page section."""
    try:
        call()
    except SluiceError as exc:
        # in the reader's language now: the field details follow their key, which no sentence splits
        details = " ".join(f"{k}: {localize(str(v))}" for k, v in exc.details.items())
        messages.error(request, f"{localize(exc.message)} {details}".strip())
    else:
        messages.success(request, done)
    return _back_to_app(app, anchor)


@login_required
@require_POST
def app_settings(request, app_id: int):
    app = _app_for_post(request, app_id)
    url = request.POST.get("privacy_policy_url", "")
    return _run_app_service(
        request,
        app,
        "app-info",
        lambda: app_services.app_update(
            app=app, actor=request.user, changes={"privacy_policy_url": url}, ip=request_ip(request)
        ),
        _("Privacy policy URL saved. Run the checks again to use it."),
    )


@login_required
@require_POST
def suppression_create(request, app_id: int):
    app = _app_for_post(request, app_id)
    form = SuppressionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The suppression was not saved:") + " " + form.errors_text())
        return _back_to_app(app, "suppressions-title")
    key = form.cleaned_data["key"]
    return _run_app_service(
        request,
        app,
        "suppressions-title",
        lambda: app_services.app_suppress_check(
            app=app, actor=request.user, ip=request_ip(request), **form.cleaned_data
        ),
        _("“%(check)s” is suppressed until %(until)s.")
        % {"check": REGISTRY[key].title, "until": f"{form.cleaned_data['expires_on']:%Y-%m-%d}"},
    )


@login_required
@require_POST
def suppression_remove(request, app_id: int, suppression_id: int):
    app = _app_for_post(request, app_id)
    return _run_app_service(
        request,
        app,
        "suppressions-title",
        lambda: app_services.app_unsuppress_check(
            app=app, actor=request.user, suppression_id=suppression_id, ip=request_ip(request)
        ),
        _("Suppression removed: the check counts again from the next run."),
    )


@login_required
@require_POST
def qualification_create(request, app_id: int):
    app = _app_for_post(request, app_id)
    form = QualificationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The qualification was not saved:") + " " + form.errors_text())
        return _back_to_app(app, "qualifications-title")
    return _run_app_service(
        request,
        app,
        "qualifications-title",
        lambda: app_services.app_add_qualification(
            app=app, actor=request.user, ip=request_ip(request), **form.cleaned_data
        ),
        _("Qualification recorded."),
    )


@login_required
@require_POST
def qualification_remove(request, app_id: int, qualification_id: int):
    app = _app_for_post(request, app_id)
    return _run_app_service(
        request,
        app,
        "qualifications-title",
        lambda: app_services.app_remove_qualification(
            app=app, actor=request.user, qualification_id=qualification_id, ip=request_ip(request)
        ),
        _("Qualification removed."),
    )


@login_required
@require_POST
def checklist_update(request, app_id: int):
    app = _app_for_post(request, app_id)
    form = ChecklistForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The checklist was not saved:") + " " + form.errors_text())
        return _back_to_app(app, "checklist-title")
    return _run_app_service(
        request,
        app,
        "checklist-title",
        lambda: app_services.app_set_checklist(
            app=app, actor=request.user, items=form.cleaned_data["items"], ip=request_ip(request)
        ),
        _("Checklist saved. It applies to every release of this app from now on."),
    )


@login_required
@require_POST
def approval_policy_update(request, app_id: int):
    app = _app_for_post(request, app_id)
    required = request.POST.getlist("required")
    return _run_app_service(
        request,
        app,
        "policy-title",
        lambda: app_services.app_set_approval_policy(
            app=app, actor=request.user, required=required, ip=request_ip(request)
        ),
        _("Approval policy saved."),
    )


@login_required
@require_POST
def member_capacities_update(request, app_id: int, membership_id: int):
    app = _app_for_post(request, app_id)
    membership = get_object_or_404(
        Membership.objects.select_related("user"), pk=membership_id, team_id=app.team_id
    )
    capacities = request.POST.getlist("capacities")
    return _run_app_service(
        request,
        app,
        "policy-title",
        lambda: app_services.member_set_capacities(
            team_id=app.team_id,
            actor=request.user,
            user=membership.user,
            capacities=capacities,
            ip=request_ip(request),
        ),
        _("Approval capacities of %(user)s saved.") % {"user": membership.user.get_username()},
    )
