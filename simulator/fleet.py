"""The simulated WeChat for fleets (wechat-fleet.md §1, §2, §3.2): pre-auth codes and the
authorization a mini program's administrator clicks through, api_query_auth, the authorizer list,
the template draft box and library, and the experience QR code.

Operations follow operations.py: they take the component token (or the authorised mini program)
and the parsed body or query, return the response dict or raise SimError, and change nothing when
they raise. The authorization itself (what the administrator's click does) and the seeding helpers
are at the end; the authorization pushes `authorized` / `updateauthorized` to the component's
authorization URL exactly like WeChat, encrypted.
"""

import secrets
from datetime import timedelta

import segno
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from simulator import services
from simulator.models import (
    SimAuthorizationCode,
    SimAuthorizer,
    SimComponent,
    SimPreAuthCode,
    SimPush,
    SimTemplate,
    SimTemplateDraft,
    SimToken,
)
from simulator.operations import SimError, ok, resolve_token

PRE_AUTH_SECONDS = 600  # the example's expires_in (§1.1)
AUTH_CODE_SECONDS = 3600
LIST_MAX = 500
TEMPLATE_LIMIT = 200
FLEET_ERRMSG = {
    61009: "code is invalid",
    61010: "code is expired",
    85064: "template not found",
    85065: "template list is full",
    85014: "template_id invalid",
    85048: "ext_json parse failed",
    86001: "not exist third party commit",
}


def _error(errcode: int) -> SimError:
    return SimError(errcode, FLEET_ERRMSG.get(errcode, ""))


def _component(token: str, body: dict) -> SimComponent:
    component = resolve_token(token, SimToken.Kind.COMPONENT).component
    if "component_appid" in body and str(body["component_appid"]) != component.appid:
        raise SimError(40001)
    return component


# --- authorization (§1) -------------------------------------------------------------------------


def create_preauthcode(token: str, body: dict) -> dict:
    component = _component(token, body)
    code = SimPreAuthCode.objects.create(
        component=component, code="preauthcode@@@" + secrets.token_urlsafe(24)
    )
    return {"pre_auth_code": code.code, "expires_in": PRE_AUTH_SECONDS}


def query_auth(token: str, body: dict) -> dict:
    """The AuthorizationCode of a push or a redirect: 61009 unknown, 61010 older than an hour."""
    component = _component(token, body)
    code = (
        SimAuthorizationCode.objects.select_related("authorizer")
        .filter(code=str(body.get("authorization_code") or ""), authorizer__component=component)
        .first()
    )
    if code is None:
        raise _error(61009)
    if code.issued_at <= timezone.now() - timedelta(seconds=AUTH_CODE_SECONDS):
        raise _error(61010)
    authorizer = code.authorizer
    issued = SimToken.objects.create(
        token=secrets.token_urlsafe(48),
        kind=SimToken.Kind.AUTHORIZER,
        component=component,
        authorizer=authorizer,
        expires_at=timezone.now() + timedelta(seconds=7200),
    )
    return ok(
        authorization_info={
            "authorizer_appid": authorizer.appid,
            "authorizer_access_token": issued.token,
            "expires_in": 7200,
            "authorizer_refresh_token": authorizer.refresh_token,
            "func_info": [{"funcscope_category": {"id": i}} for i in (17, 18, 25)],
        }
    )


def authorizer_list(token: str, body: dict) -> dict:
    """Paged by offset and count (at most 500, else 40097), oldest authorization first."""
    component = _component(token, body)
    offset, count = body.get("offset"), body.get("count")
    if not isinstance(offset, int) or not isinstance(count, int) or offset < 0 or not 1 <= count <= LIST_MAX:
        raise SimError(40097)
    authorizers = component.authorizers.order_by("auth_time", "pk")
    page = authorizers[offset : offset + count]
    return ok(
        total_count=authorizers.count(),
        list=[
            {
                "authorizer_appid": a.appid,
                "refresh_token": a.refresh_token,
                "auth_time": services.unix(a.auth_time),
            }
            for a in page
        ],
    )


# --- template library (§2) ----------------------------------------------------------------------


def _entry(row, **extra) -> dict:
    return {
        "create_time": services.unix(row.created_at),
        "user_version": row.user_version,
        "user_desc": row.user_desc,
        "draft_id": row.draft_id,
        "source_miniprogram_appid": "wxsimdevtools0001",
        "source_miniprogram": "Simulated DevTools app",
        "developer": "sim-developer",
        **extra,
    }


def gettemplatedraftlist(token: str, query: dict) -> dict:
    component = _component(token, {})
    return ok(
        draft_list=[_entry(d, category_list=[]) for d in component.template_drafts.order_by("draft_id")]
    )


def gettemplatelist(token: str, query: dict) -> dict:
    component = _component(token, {})
    templates = component.templates.order_by("template_id")
    if query.get("template_type") not in (None, ""):
        templates = templates.filter(template_type=int(query["template_type"]))
    return ok(
        template_list=[
            _entry(t, template_id=t.template_id, template_type=t.template_type, category_list=[])
            for t in templates
        ]
    )


def addtotemplate(token: str, body: dict) -> dict:
    """85064 no such draft, 85065 the library holds 200 templates already."""
    component = _component(token, body)
    with transaction.atomic():
        SimComponent.objects.select_for_update().get(pk=component.pk)
        draft = component.template_drafts.filter(draft_id=_int(body.get("draft_id"))).first()
        if draft is None:
            raise _error(85064)
        if component.templates.count() >= TEMPLATE_LIMIT:
            raise _error(85065)
        last = SimTemplate.objects.order_by("-template_id").values_list("template_id", flat=True).first()
        SimTemplate.objects.create(
            component=component,
            template_id=(last or 0) + 1,
            draft_id=draft.draft_id,
            user_version=draft.user_version,
            user_desc=draft.user_desc,
            template_type=_int(body.get("template_type")) or 0,
        )
    return ok()


def deletetemplate(token: str, body: dict) -> dict:
    component = _component(token, body)
    deleted, _ = component.templates.filter(template_id=_int(body.get("template_id"))).delete()
    if not deleted:
        raise _error(85064)
    return ok()


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- code: commit and the experience QR code (§3.1, §3.2) ---------------------------------------


def commit(authorizer: SimAuthorizer, body: dict) -> dict:
    """Records the trial version: template, ext_json (a JSON *string*: 47001 otherwise, 85048 when
    it does not parse), user_version (≤ 64, else 47001). 85014 for a template the component's
    library does not hold; a component with an empty library takes any id (older demos commit
    without a library)."""
    import json

    ext_json = body.get("ext_json", "")
    if not isinstance(ext_json, str) or len(str(body.get("user_version", ""))) > 64:
        raise SimError(47001)
    if ext_json.strip():
        try:
            json.loads(ext_json)
        except ValueError:
            raise _error(85048) from None
    template_id = _int(body.get("template_id"))
    library = authorizer.component.templates
    if library.exists() and not library.filter(template_id=template_id).exists():
        raise _error(85014)
    authorizer.trial_user_version = str(body.get("user_version", ""))
    authorizer.trial_user_desc = str(body.get("user_desc", ""))
    authorizer.trial_template_id = template_id
    authorizer.trial_ext_json = ext_json
    authorizer.save(
        update_fields=["trial_user_version", "trial_user_desc", "trial_template_id", "trial_ext_json"]
    )
    return ok()


def get_qrcode(authorizer: SimAuthorizer, query: dict) -> bytes:
    """The experience version's QR code as image bytes (PNG); 86001 before any commit."""
    if not authorizer.trial_user_version:
        raise _error(86001)
    path = query.get("path") or "pages/index/index"
    text = f"https://sim.weixin.qq.com/experience?appid={authorizer.appid}&version={authorizer.trial_user_version}&path={path}"
    import io

    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=4)
    return buffer.getvalue()


# --- the administrator's click, and seeding -----------------------------------------------------


class AuthorizationRefused(ValueError):
    """The pre-auth code cannot open the page (unknown, used or expired): WeChat shows an error."""


def pre_auth_code_check(component_appid: str, code: str) -> SimPreAuthCode:
    found = SimPreAuthCode.objects.select_related("component").filter(code=code).first()
    if found is None or found.component.appid != component_appid:
        raise AuthorizationRefused(
            gettext_noop("This authorization link is not valid (unknown pre_auth_code).")
        )
    if found.used_at is not None:
        raise AuthorizationRefused(
            gettext_noop("This authorization link was used already: ask for a new one.")
        )
    if found.issued_at <= timezone.now() - timedelta(seconds=PRE_AUTH_SECONDS):
        raise AuthorizationRefused(gettext_noop("This authorization link has expired: ask for a new one."))
    return found


def sim_authorize(*, component_appid: str, pre_auth_code: str, appid: str, nick_name: str = "") -> str:
    """The administrator of `appid` confirms: the pre-auth code is spent, the mini program
    (re)authorises the component with a new refresh token (re-authorization voids the old one),
    `authorized` (or `updateauthorized`) is pushed with an AuthorizationCode, which is returned
    for the redirect."""
    with transaction.atomic():
        list(SimPreAuthCode.objects.select_for_update().filter(code=pre_auth_code))  # one click wins
        pre = pre_auth_code_check(component_appid, pre_auth_code)
        component = pre.component
        existing = SimAuthorizer.objects.filter(appid=appid, component=component).first()
        authorizer = services.sim_register_authorizer(
            component_appid=component.appid,
            appid=appid,
            refresh_token="refreshtoken@@@" + secrets.token_urlsafe(24),
        )
        if nick_name:
            authorizer.nick_name = nick_name[:120]
        authorizer.auth_time = timezone.now()
        authorizer.save(update_fields=["nick_name", "auth_time"])
        pre.used_at = timezone.now()
        pre.save(update_fields=["used_at"])
        code = SimAuthorizationCode.objects.create(
            authorizer=authorizer, code="queryauthcode@@@" + secrets.token_urlsafe(24)
        )
        info_type = "updateauthorized" if existing is not None else "authorized"
        _push_authorization(component, authorizer.appid, info_type, code=code.code, pre_auth_code=pre.code)
    return code.code


def sim_unauthorize(appid: str) -> None:
    """The administrator revokes the authorization in the WeChat console: `unauthorized` is pushed."""
    with transaction.atomic():
        authorizer = SimAuthorizer.objects.select_related("component").get(appid=appid)
        _push_authorization(authorizer.component, appid, "unauthorized")
        authorizer.delete()


def _push_authorization(
    component: SimComponent, appid: str, info_type: str, *, code="", pre_auth_code=""
) -> None:
    now = services.unix(timezone.now())
    fields = {"AppId": component.appid, "CreateTime": now, "InfoType": info_type, "AuthorizerAppid": appid}
    if code:
        fields |= {
            "AuthorizationCode": code,
            "AuthorizationCodeExpiredTime": now + AUTH_CODE_SECONDS,
            "PreAuthCode": pre_auth_code,
        }
    from reviews.platforms.wechat.events import to_xml

    push = SimPush.objects.create(
        component=component,
        kind=SimPush.Kind.TICKET,  # the authorization URL's kind: never lost on purpose
        appid=appid,
        event=info_type,
        url=component.auth_callback_url,
        plaintext=to_xml(fields),
    )
    from simulator import jobs

    transaction.on_commit(lambda: jobs.enqueue_push(push.pk))


def sim_seed_authorizers(component_appid: str, count: int, *, prefix: str = "wxfleet") -> int:
    """`count` more mini programs authorise the component (a configurable fleet); returns the total."""
    component = SimComponent.objects.get(appid=component_appid)
    start = component.authorizers.filter(appid__startswith=prefix).count()
    now = timezone.now()
    SimAuthorizer.objects.bulk_create(
        [
            SimAuthorizer(
                component=component,
                appid=f"{prefix}{start + n:08d}",
                refresh_token="refreshtoken@@@" + secrets.token_urlsafe(16),
                nick_name=f"Fleet shop {start + n + 1}",
                principal_name=f"Fleet merchant {start + n + 1} Ltd.",
                auth_time=now + timedelta(microseconds=n),
            )
            for n in range(count)
        ],
        ignore_conflicts=True,
    )
    return component.authorizers.count()


def sim_add_draft(component_appid: str, user_version: str, user_desc: str = "") -> SimTemplateDraft:
    """A draft appears in the draft box, as if uploaded from DevTools."""
    component = SimComponent.objects.get(appid=component_appid)
    last = SimTemplateDraft.objects.order_by("-draft_id").values_list("draft_id", flat=True).first()
    return SimTemplateDraft.objects.create(
        component=component, draft_id=(last or 0) + 1, user_version=user_version, user_desc=user_desc
    )
