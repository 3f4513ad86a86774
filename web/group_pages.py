"""The release group pages (issue 16): the form that creates one, where each platform of one
version stands, and the group's actions (check, approve, submit, publish), each acting on every
member that allows it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from releases import actions, selectors
from releases.errors import SluiceError
from releases.group_services import GROUP_ACTIONS, group_members, release_group_act, release_group_create
from releases.messages import localize
from releases.models import ReleaseGroup
from web.group_form import ReleaseGroupForm
from web.page_helpers import request_ip


def _group(request, group_id: int) -> ReleaseGroup:
    return get_object_or_404(
        ReleaseGroup.objects.filter(team_id__in=selectors.team_ids_for(request.user)), pk=group_id
    )


@login_required
def release_group_create_page(request):
    """GET `?app=<id>` ticks that app (the link from an app's page); POST creates the group."""
    form = ReleaseGroupForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method != "POST":
        ticked = [v for v in request.GET.getlist("app") if v.isdigit() and int(v) in form.by_pk]
        form.initial["apps"] = [int(v) for v in ticked]
    if form.is_bound and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("apps")
        try:
            group = release_group_create(
                apps=form.chosen_apps(), actor=request.user, ip=request_ip(request), **data
            )
        except SluiceError as exc:
            form.add_service_error(exc)
        else:
            messages.success(
                request,
                _("Created version %(version)s on %(count)s platforms as drafts. Next: run the checks.")
                % {"version": group.version, "count": len(form.cleaned_data["apps"])},
            )
            return redirect("web:release-group", group_id=group.pk)
    return render(request, "releases/release_group_form.html", {"form": form})


@login_required
def release_group_detail(request, group_id: int):
    group = _group(request, group_id)
    rows = []
    for release in group_members(group):
        offered = {
            name: actions.availability(release, request.user, actions.BY_NAME[name]) for name in GROUP_ACTIONS
        }
        rows.append(
            {"release": release, "next": [a for a in offered.values() if a is not None and a.enabled]}
        )
    labels = {name: actions.BY_NAME[name].label for name in GROUP_ACTIONS}
    return render(request, "releases/release_group.html", {"group": group, "rows": rows, "labels": labels})


@login_required
@require_POST
def release_group_action(request, group_id: int, action: str):
    group = _group(request, group_id)
    try:
        results = release_group_act(group=group, action=action, actor=request.user, ip=request_ip(request))
    except SluiceError as exc:
        messages.error(request, localize(exc.message))
    else:
        done = sum(result["done"] for result in results)
        messages.success(
            request,
            _("%(done)s of %(total)s platforms went ahead.") % {"done": done, "total": len(results)},
        )
    return redirect("web:release-group", group_id=group.pk)
