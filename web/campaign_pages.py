"""Campaign pages (issue 14): the list, the create form with each account's quota, and the
progress page (live counts, every app's state and last error, the rejection groups with their
remediation and resubmission, the campaign's buttons). The pages read; their forms post to the
campaign services and come back here."""

import json
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Max
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from releases import selectors
from releases.campaigns import groups, qr, services
from releases.campaigns.models import CampaignQrCode, CampaignState, Held
from releases.campaigns.plan import quota_left
from releases.campaigns.preview import campaign_preview
from releases.campaigns.progress import campaign_out, campaigns_for
from releases.errors import SluiceError
from releases.memo import read_scope
from releases.models import App, AppTag, Role
from releases.models import State as ReleaseState
from releases.platforms import has_monthly_quota
from web.app_picker import APP_SELECT_LIMIT
from web.page_helpers import request_ip

EXT_EXAMPLE = '{"extAppid": "{{ appid }}", "ext": {"merchant": "{{ merchant_name }}"}}'
# The buttons of each campaign state, in order: (action, label, style).
ACTIONS = {
    CampaignState.DRAFT: ["start", "cancel"],
    CampaignState.PREPARING: ["approve", "pause", "cancel", "retry-failed"],
    CampaignState.AWAITING_APPROVAL: ["approve", "pause", "cancel", "retry-failed"],
    CampaignState.SUBMITTING: ["publish", "pause", "cancel", "retry-failed"],
    CampaignState.PUBLISHING: ["pause", "cancel", "retry-failed"],
    CampaignState.PAUSED: ["resume", "cancel"],
}


def _labels() -> dict:
    return {
        "start": _("Start: create the releases and run the checks"),
        "approve": _("Approve for every app"),
        "publish": _("Publish the approved apps"),
        "pause": _("Pause"),
        "resume": _("Resume"),
        "cancel": _("Cancel the campaign"),
        "retry-failed": _("Retry the failed apps"),
    }


def campaign_stamp(user, campaign_id: int) -> str | None:
    """Changes whenever the page would: the campaign, any of its rows, any of its releases."""
    found = (
        campaigns_for(user)
        .filter(pk=campaign_id)
        .annotate(entry_at=Max("entries__updated_at"), release_at=Max("entries__release__updated_at"))
        .values("updated_at", "entry_at", "release_at", "halt_code", "state")
        .first()
    )
    if found is None:
        return None
    return "|".join(str(found[k]) for k in ("updated_at", "entry_at", "release_at", "halt_code", "state"))


@login_required
def campaign_list(request):
    rows = campaigns_for(request.user).order_by("-pk")[:200]
    return render(
        request, "campaigns/campaign_list.html", {"campaigns": rows, "current": "web:campaign-list"}
    )


def _accounts(user):
    teams = selectors.team_ids_for(user, Role.DEVELOPER)
    return list(selectors.platform_accounts_for(user).filter(team_id__in=teams).order_by("name"))


def _json_field(request, name: str, default):
    raw = (request.POST.get(name) or "").strip()
    if not raw:
        return default
    try:
        return json.loads(raw)
    except ValueError:
        raise SluiceError("invalid_json", _("%(field)s is not valid JSON.") % {"field": name}) from None


def _targets(request, account) -> dict:
    """The form's targets as the service takes them. Single apps come ticked in the list (a small
    fleet) or as AppIDs typed in (any size), resolved within the chosen account only."""
    kind = request.POST.get("target_kind", "all")
    if kind == "tags":
        return {"tags": [t.strip() for t in request.POST.get("tags", "").split(",") if t.strip()]}
    if kind == "apps":
        ids = {int(v) for v in request.POST.getlist("apps") if v.isdigit()}
        typed = {t.strip() for t in re.split(r"[\s,]+", request.POST.get("appids", "")) if t.strip()}
        if typed:
            found = dict(
                App.objects.filter(platform_account=account, appid__in=typed).values_list("appid", "pk")
            )
            unknown = sorted(typed - set(found))
            if unknown:
                raise SluiceError(
                    "unknown_apps",
                    _("These AppIDs are not apps of %(account)s: %(appids)s.")
                    % {"account": account.name, "appids": ", ".join(unknown[:20])},
                )
            ids |= set(found.values())
        return {"apps": sorted(ids)}
    return {"all": True}


def _fields(request, account) -> dict:
    return {
        "template_id": request.POST.get("template_id", ""),
        "version": request.POST.get("version", ""),
        "release_notes": request.POST.get("release_notes", ""),
        "review_notes": request.POST.get("review_notes", ""),
        "ext_json": _json_field(request, "ext_json", {}),
        "variables": _json_field(request, "variables", {}),
        "targets": _targets(request, account),
    }


def _pickable_apps(accounts) -> list | None:
    """Every app of the accounts, for ticking one by one; None when there are too many for a list
    (the form then takes AppIDs typed in)."""
    apps = App.objects.filter(platform_account__in=accounts).order_by("platform_account__name", "name", "pk")
    listed = list(apps.values("pk", "name", "appid", "platform_account__name")[: APP_SELECT_LIMIT + 1])
    return None if len(listed) > APP_SELECT_LIMIT else listed


@login_required
def campaign_create(request):
    accounts = _accounts(request.user)
    preview = None
    if request.method == "POST":
        account = next((a for a in accounts if str(a.pk) == request.POST.get("platform_account")), None)
        try:
            if account is None:
                raise SluiceError("not_found", _("Choose one of your platform accounts."))
            fields = _fields(request, account)
            if request.POST.get("preview"):
                preview = campaign_preview(account=account, actor=request.user, **fields)
            else:
                reserve = request.POST.get("reserve", "").strip()
                campaign, _plan = services.campaign_create(
                    account=account,
                    actor=request.user,
                    name=request.POST.get("name", ""),
                    build_report=_json_field(request, "build_report", {}),
                    reserve=int(reserve) if reserve.isdigit() else None,
                    ip=request_ip(request),
                    **fields,
                )
                messages.success(request, _("Campaign created. Check its plan, then start it."))
                return redirect("web:campaign-detail", campaign_id=campaign.pk)
        except SluiceError as exc:
            messages.error(request, exc.message)
    with read_scope():
        quotas = [
            (account, quota_left(account, refresh_unknown=False), has_monthly_quota(account.platform))
            for account in accounts
        ]
    tags = AppTag.objects.filter(team_id__in={a.team_id for a in accounts}).order_by("name")
    if preview is not None:
        for row in preview["samples"]:
            row["ext_text"] = json.dumps(row["ext_json"], ensure_ascii=False, indent=2)
        for row in preview["held"]:
            row["held_text"] = str(dict(Held.choices).get(row["held"], row["held"]))
    return render(
        request,
        "campaigns/campaign_form.html",
        {
            "quotas": quotas,
            "tags": tags,
            "pickable": _pickable_apps(accounts),
            "picked": set(request.POST.getlist("apps")),
            "form": request.POST,
            "preview": preview,
            "ext_example": EXT_EXAMPLE,
            "current": "web:campaign-list",
        },
    )


def _short(plan: dict) -> bool:
    left = plan["quota_left"]
    return left is not None and plan["submissions_needed"] > max(0, left - plan["reserve"])


@login_required
def campaign_detail(request, campaign_id: int):
    campaign = get_object_or_404(campaigns_for(request.user), pk=campaign_id)
    with read_scope():
        found = campaign_out(campaign)
    state = campaign.state
    labels = _labels()
    held = dict(Held.choices)

    def state_text(value: str) -> str:
        if value in held:
            return str(held[value])
        if value == "not_created":
            return _("No release yet")
        return str(ReleaseState(value).label)

    for row in found["apps"]:
        row["state_text"] = state_text(row["state"]) if row["release"] else _("No release yet")
        row["held_text"] = str(held[row["held"]]) if row["held"] else ""
    buttons = [(action, labels[action]) for action in ACTIONS.get(state, [])]
    return render(
        request,
        "campaigns/campaign_detail.html",
        {
            "campaign": campaign,
            "found": found,
            "state_label": CampaignState(state).label,
            "short_of_quota": _short(found["plan"]),
            "count_rows": [(state_text(k), n) for k, n in found["counts"].items()],
            "held_rows": [(str(held[k]), n) for k, n in found["held"].items()],
            "buttons": buttons,
            "live_stamp": campaign_stamp(request.user, campaign.pk),
            "current": "web:campaign-list",
        },
    )


@login_required
@require_GET
def campaign_live(request, campaign_id: int):
    stamp = campaign_stamp(request.user, campaign_id)
    if stamp is None:
        raise Http404
    return JsonResponse({"stamp": stamp})


@login_required
@require_GET
def campaign_qr_code(request, campaign_id: int, app_id: int):
    """One app's experience QR code, to members of the campaign's team only. Served as the image
    type its bytes were checked to be, never sniffed as anything else, never cached by a proxy."""
    campaign = get_object_or_404(campaigns_for(request.user), pk=campaign_id)
    code = get_object_or_404(CampaignQrCode, entry__campaign=campaign, entry__app_id=app_id)
    if code.content_type not in qr.ALLOWED_TYPES:
        raise Http404
    response = HttpResponse(bytes(code.image), content_type=code.content_type)
    extension = code.content_type.split("/")[1]
    response["Content-Disposition"] = f'inline; filename="qr-{campaign.pk}-{app_id}.{extension}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
@require_POST
def campaign_action(request, campaign_id: int, action: str):
    campaign = get_object_or_404(campaigns_for(request.user), pk=campaign_id)
    ip, actor = request_ip(request), request.user
    try:
        if action == "approve":
            services.campaign_approve(
                campaign=campaign, actor=actor, comment=request.POST.get("comment", ""), ip=ip
            )
        elif action == "retry-failed":
            count = services.campaign_retry_failed(campaign=campaign, actor=actor, ip=ip)
            messages.info(request, _("%(count)s failed apps will be tried again.") % {"count": count})
        elif action in ("start", "publish", "pause", "resume", "cancel"):
            getattr(services, f"campaign_{action}")(campaign=campaign, actor=actor, ip=ip)
        else:
            raise Http404
    except SluiceError as exc:
        messages.error(request, exc.message)
    return redirect("web:campaign-detail", campaign_id=campaign.pk)


@login_required
@require_POST
def campaign_group_action(request, campaign_id: int, key: str, action: str):
    campaign = get_object_or_404(campaigns_for(request.user), pk=campaign_id)
    try:
        if action == "remediate":
            done = groups.campaign_group_remediate(
                campaign=campaign,
                key=key,
                actor=request.user,
                note=request.POST.get("note", ""),
                ip=request_ip(request),
            )
            messages.success(request, _("%(count)s remediation tasks done.") % {"count": done["tasks_done"]})
        elif action == "resubmit":
            sent = groups.campaign_group_resubmit(
                campaign=campaign, key=key, actor=request.user, ip=request_ip(request)
            )
            messages.success(request, _("%(count)s apps go back into the waves.") % {"count": sent["queued"]})
        else:
            raise Http404
    except SluiceError as exc:
        messages.error(request, exc.message)
    return redirect("web:campaign-detail", campaign_id=campaign.pk)
