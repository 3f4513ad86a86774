"""The audit trail browser (/audit/) and its CSV and JSON exports. Thin: the filter, the keyset
page, the rows and the exports are plain functions in web/audit_browser/, the chain's last
verification is releases.audit_verification.chain_status."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from releases import selectors
from releases.audit_verification import chain_status
from web.app_picker import APP_TEXT_MAX_LENGTH, APP_TEXT_PARAM, app_query
from web.audit_browser.export import csv_lines, export_filename, export_records, json_chunks
from web.audit_browser.filters import AuditFilterForm, audit_choices, audit_events, ip_team_ids, with_names
from web.audit_browser.paging import PAGE_SIZE, audit_page
from web.audit_browser.rows import audit_rows

EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json; charset=utf-8"}


@login_required
@require_GET
def audit_list(request):
    form = AuditFilterForm(
        request.GET or None,
        choices=audit_choices(request.user),
        apps=selectors.apps_for(request.user),
    )
    valid = form.is_valid() if form.is_bound else True
    pick = form.pick
    page, rows = None, []
    if valid:
        events = audit_events(request.user, form.cleaned_data if form.is_bound else {})
        page = audit_page(
            with_names(events, request.user),
            before=request.GET.get("before"),
            after=request.GET.get("after"),
        )
        rows = audit_rows(page.events, ip_teams=ip_team_ids(request.user))
    # Links name the app by id: the typed text is resolved once, here, not again on every page.
    paging = ("before", "after")
    query = app_query(request.GET, pick.app_id, drop=paging)
    without_app = app_query(request.GET, drop=paging)
    return render(
        request,
        "releases/audit_list.html",
        {
            "form": form,
            "options": form.select_options(),
            "pick": pick,
            "app_error": form.errors.get("app") or form.errors.get(APP_TEXT_PARAM),
            "app_choices": [(app, app_query(request.GET, app["id"], drop=paging)) for app in pick.matches],
            "without_app": without_app,
            "valid": valid,
            "page": page,
            "rows": rows,
            "filtered": any(request.GET.get(name) for name in form.fields),
            "query": query,
            "any_ip": bool(ip_team_ids(request.user)),
            "chain": chain_status(request.user),
            "page_size": PAGE_SIZE,
            "app_text_max": APP_TEXT_MAX_LENGTH,
        },
    )


@login_required
@require_GET
def audit_export(request, fmt: str):
    """The filtered events of the user's teams, streamed oldest first; a bad filter is a 400."""
    if fmt not in EXPORT_TYPES:
        raise Http404("Export as csv or json.")
    form = AuditFilterForm(
        request.GET,
        choices=audit_choices(request.user),
        apps=selectors.apps_for(request.user),
    )
    if not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        return HttpResponseBadRequest(f"Invalid filter: {problems}", content_type="text/plain; charset=utf-8")
    if form.pick.matches:  # an export never guesses: a text naming several apps is refused
        return HttpResponseBadRequest(
            f"Invalid filter: {APP_TEXT_PARAM}: several apps match; name one with app=ID.",
            content_type="text/plain; charset=utf-8",
        )
    records = export_records(audit_events(request.user, form.cleaned_data), user=request.user)
    lines = csv_lines(records) if fmt == "csv" else json_chunks(records)
    response = StreamingHttpResponse(lines, content_type=EXPORT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{export_filename(fmt)}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
