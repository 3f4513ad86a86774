"""The audit trail browser (/audit/) and its CSV and JSON exports. Thin: the filter, the keyset
page and the exports are plain functions in releases/audit_browser.py."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from releases import audit_browser as browser

EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json; charset=utf-8"}


@login_required
@require_GET
def audit_list(request):
    choices = browser.audit_choices(request.user)
    form = browser.AuditFilterForm(request.GET or None, choices=choices)
    valid = form.is_valid() if form.is_bound else True
    page, rows = None, []
    if valid:
        events = browser.audit_events(request.user, form.cleaned_data if form.is_bound else {})
        page = browser.audit_page(events, before=request.GET.get("before"), after=request.GET.get("after"))
        rows = browser.audit_rows(
            page.events, apps=choices.app_names, ip_teams=browser.ip_team_ids(request.user)
        )
    query = request.GET.copy()
    for key in ("before", "after"):
        query.pop(key, None)
    return render(
        request,
        "releases/audit_list.html",
        {
            "form": form,
            "options": form.select_options(),
            "valid": valid,
            "page": page,
            "rows": rows,
            "filtered": any(query.get(name) for name in form.fields),
            "query": query.urlencode(),
            "any_ip": bool(browser.ip_team_ids(request.user)),
            "chain": browser.chain_status(request.user),
            "page_size": browser.PAGE_SIZE,
        },
    )


@login_required
@require_GET
def audit_export(request, fmt: str):
    """The filtered events of the user's teams, streamed oldest first; a bad filter is a 400."""
    if fmt not in EXPORT_TYPES:
        raise Http404("Export as csv or json.")
    form = browser.AuditFilterForm(request.GET, choices=browser.audit_choices(request.user))
    if not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        return HttpResponseBadRequest(f"Invalid filter: {problems}", content_type="text/plain; charset=utf-8")
    records = browser.export_records(browser.audit_events(request.user, form.cleaned_data), user=request.user)
    lines = browser.csv_lines(records) if fmt == "csv" else browser.json_chunks(records)
    response = StreamingHttpResponse(lines, content_type=EXPORT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{browser.export_filename(fmt)}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
