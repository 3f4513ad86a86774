"""The audit trail browser (/audit/) and its CSV and JSON exports. Thin: the filter, the keyset
page and the exports are plain functions in releases/audit_browser.py."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from releases import selectors
from web import audit_browser as browser

EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json; charset=utf-8"}


@login_required
@require_GET
def audit_list(request):
    form = browser.AuditFilterForm(
        request.GET or None,
        choices=browser.audit_choices(request.user),
        apps=selectors.apps_for(request.user),
    )
    valid = form.is_valid() if form.is_bound else True
    pick = form.pick
    page, rows = None, []
    if valid:
        events = browser.audit_events(request.user, form.cleaned_data if form.is_bound else {})
        page = browser.audit_page(
            browser.with_names(events, request.user),
            before=request.GET.get("before"),
            after=request.GET.get("after"),
        )
        rows = browser.audit_rows(page.events, ip_teams=browser.ip_team_ids(request.user))
    # Links name the app by id: the typed text is resolved once, here, not again on every page.
    paging = ("before", "after")
    query = browser.app_query(request.GET, pick.app_id, drop=paging)
    without_app = browser.app_query(request.GET, drop=paging)
    return render(
        request,
        "releases/audit_list.html",
        {
            "form": form,
            "options": form.select_options(),
            "pick": pick,
            "app_error": form.errors.get("app") or form.errors.get(browser.APP_TEXT_PARAM),
            "app_choices": [
                (app, browser.app_query(request.GET, app["id"], drop=paging)) for app in pick.matches
            ],
            "without_app": without_app,
            "valid": valid,
            "page": page,
            "rows": rows,
            "filtered": any(request.GET.get(name) for name in form.fields),
            "query": query,
            "any_ip": bool(browser.ip_team_ids(request.user)),
            "chain": browser.chain_status(request.user),
            "page_size": browser.PAGE_SIZE,
            "app_text_max": browser.APP_TEXT_MAX_LENGTH,
        },
    )


@login_required
@require_GET
def audit_export(request, fmt: str):
    """The filtered events of the user's teams, streamed oldest first; a bad filter is a 400."""
    if fmt not in EXPORT_TYPES:
        raise Http404("Export as csv or json.")
    form = browser.AuditFilterForm(
        request.GET,
        choices=browser.audit_choices(request.user),
        apps=selectors.apps_for(request.user),
    )
    if not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        return HttpResponseBadRequest(f"Invalid filter: {problems}", content_type="text/plain; charset=utf-8")
    if form.pick.matches:  # an export never guesses: a text naming several apps is refused
        return HttpResponseBadRequest(
            f"Invalid filter: {browser.APP_TEXT_PARAM}: several apps match; name one with app=ID.",
            content_type="text/plain; charset=utf-8",
        )
    records = browser.export_records(browser.audit_events(request.user, form.cleaned_data), user=request.user)
    lines = browser.csv_lines(records) if fmt == "csv" else browser.json_chunks(records)
    response = StreamingHttpResponse(lines, content_type=EXPORT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{browser.export_filename(fmt)}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
