"""WeChat's API rules, as the simulator enforces them (platform-apis.md §1, §2, §3, §4, §6).

Each operation takes the authorised mini-program (or the component for the token calls), the
parsed JSON body and the query, and returns the response dict or raises `SimError(errcode)`;
nothing changes when it raises. The HTTP layer (views.py) only parses, authenticates and logs.
"""

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from simulator import services
from simulator.models import (
    SimAuthorizer,
    SimComponent,
    SimSettings,
    SimSubmission,
    SimTicket,
    SimToken,
    SimVersion,
)

TOKEN_SECONDS = 7200
TICKET_VALIDITY = timedelta(hours=12)
UNDO_PER_DAY, UNDO_PER_MONTH = 5, 10
HISTORY_KEPT = 5  # released or rolled-back versions kept for rollback, the online one included
Status = SimSubmission.Status

ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40007: "invalid media_id",
    40097: "invalid args",
    40125: "invalid appsecret",
    41001: "access_token missing",
    41004: "appsecret missing",
    42001: "access_token expired",
    43001: "require GET method",
    43002: "require POST method",
    44002: "empty post data",
    47001: "data format error",
    61003: "component is not authorized by this account",
    61005: "component ticket is expired",
    61006: "component ticket is invalid",
    61011: "invalid component",
    61023: "refresh_token is invalid",
    85009: "already submit a version under auditing",
    85010: "item_list 有项目为空",
    85012: "invalid audit id",
    85019: "no version is under auditing",
    85020: "status not allowed",
    85023: "item size is not in valid range",
    85052: "app is already released",
    85058: "no valid audit_id exist",
    85079: "miniprogram has no online release",
    85080: "miniprogram commit not approved",
    85081: "invalid gray percentage",
    85082: "gray percentage too low",
    85085: "submit audit reach limit pleasetry later",
    87011: "现网已经在灰度发布，不能进行版本回退",
    87012: "该版本不能回退",
    87013: "no quota to undo code",
    85022: "invalid action",
    89402: "该审核单不在待审核队列",
    89403: "本单属于平台不支持加急种类",
    89404: "本单已加速成功，请勿重复提交",
    89405: "本月加急额度已用完",
}


class SimError(Exception):
    def __init__(self, errcode: int, errmsg: str = ""):
        self.errcode = errcode
        self.errmsg = errmsg or ERRMSG.get(errcode, "error")
        super().__init__(f"{self.errcode} {self.errmsg}")


def ok(**fields) -> dict:
    return {"errcode": 0, "errmsg": "ok", **fields}


# --- tokens (§1) --------------------------------------------------------------------------------


def component_token(body: dict) -> dict:
    """api_component_token: a registered component, its secret and a ticket issued < 12 h ago."""
    component = SimComponent.objects.filter(appid=str(body.get("component_appid") or "")).first()
    if component is None:
        raise SimError(61011)
    if not body.get("component_appsecret"):
        raise SimError(41004)
    if not secrets.compare_digest(str(body["component_appsecret"]), component.secret):
        raise SimError(40125)
    ticket = SimTicket.objects.filter(
        component=component, ticket=str(body.get("component_verify_ticket") or "")
    ).first()
    if ticket is None:
        raise SimError(61006)
    if ticket.issued_at <= timezone.now() - TICKET_VALIDITY:
        raise SimError(61005)
    token = _issue(SimToken.Kind.COMPONENT, component)
    return {"component_access_token": token.token, "expires_in": TOKEN_SECONDS}


def authorizer_token(component_access_token: str, body: dict) -> dict:
    """api_authorizer_token: the component's token and the mini-program's refresh token."""
    token = resolve_token(component_access_token, SimToken.Kind.COMPONENT)
    if str(body.get("component_appid") or "") != token.component.appid:
        raise SimError(40001)
    authorizer = SimAuthorizer.objects.filter(
        component=token.component, appid=str(body.get("authorizer_appid") or "")
    ).first()
    if authorizer is None:
        raise SimError(61003)
    if not secrets.compare_digest(str(body.get("authorizer_refresh_token") or ""), authorizer.refresh_token):
        raise SimError(61023)
    issued = _issue(SimToken.Kind.AUTHORIZER, token.component, authorizer)
    return {
        "authorizer_access_token": issued.token,
        "expires_in": TOKEN_SECONDS,
        "authorizer_refresh_token": authorizer.refresh_token,
    }


def authorizer_info(component_access_token: str, body: dict) -> dict:
    """api_get_authorizer_info (wechat-fleet.md §1.6): who the mini-program is, notably its
    original ID `user_name`, which audit pushes are addressed to."""
    token = resolve_token(component_access_token, SimToken.Kind.COMPONENT)
    if str(body.get("component_appid") or "") != token.component.appid:
        raise SimError(40001)
    authorizer = SimAuthorizer.objects.filter(
        component=token.component, appid=str(body.get("authorizer_appid") or "")
    ).first()
    if authorizer is None:
        raise SimError(61003)
    return ok(
        authorizer_info={
            "nick_name": authorizer.nick_name or f"Mini program {authorizer.appid}",
            "head_img": "",
            "service_type_info": {"id": 0},
            "verify_type_info": {"id": -1},
            "user_name": services.sim_original_id(authorizer.appid),
            "principal_name": authorizer.principal_name or "Simulated company",
            "signature": "",
            "qrcode_url": "",
            "account_status": 1,
            "MiniProgramInfo": {
                "network": {},
                "categories": [{"first": "商业服务", "second": "软件服务提供"}],
                "visit_status": 0,
            },
            "register_type": 0,
        },
        authorization_info={
            "authorizer_appid": authorizer.appid,
            "authorizer_refresh_token": authorizer.refresh_token,
            "func_info": [{"funcscope_category": {"id": i}} for i in (17, 18, 25)],
        },
    )


def _issue(kind: str, component: SimComponent, authorizer: SimAuthorizer | None = None) -> SimToken:
    now = timezone.now()
    return SimToken.objects.create(
        token=secrets.token_urlsafe(48),
        kind=kind,
        component=component,
        authorizer=authorizer,
        issued_at=now,
        expires_at=now + timedelta(seconds=TOKEN_SECONDS),
    )


def resolve_token(value: str, kind: str) -> SimToken:
    """41001 missing, 40001 unknown (or the wrong kind of token), 42001 expired."""
    if not value:
        raise SimError(41001)
    token = SimToken.objects.select_related("component", "authorizer").filter(token=value, kind=kind).first()
    if token is None:
        raise SimError(40001)
    if token.expires_at <= timezone.now():
        raise SimError(42001)
    return token


# --- code management (§2) -----------------------------------------------------------------------


def submit_audit(authorizer: SimAuthorizer, body: dict) -> dict:
    """One review at a time per mini-program (85009); the monthly quota is the component's (85085).

    feedback_info / feedback_stuff count only after a rejection; otherwise they are ignored, as the
    official page says ("否则忽略处理").
    """
    _check_item_list(body.get("item_list"))
    with transaction.atomic():
        SimComponent.objects.select_for_update().get(pk=authorizer.component_id)
        authorizer = SimAuthorizer.objects.select_for_update().get(pk=authorizer.pk)
        latest = latest_submission(authorizer)
        if latest and latest.in_review:
            raise SimError(85009)
        if quota(authorizer.component)["rest"] <= 0:
            raise SimError(85085)
        after_rejection = latest is not None and latest.status == Status.REJECTED
        submission = SimSubmission.objects.create(
            auditid=_new_auditid(),
            authorizer=authorizer,
            version_desc=str(body.get("version_desc") or ""),
            item_list=body.get("item_list") or [],
            feedback_info=str(body.get("feedback_info") or "") if after_rejection else "",
            user_version=authorizer.trial_user_version,
            user_desc=authorizer.trial_user_desc,
        )
        if SimSettings.load().scripted_enabled:
            services.schedule_scripted_decision(submission.auditid)
    return ok(auditid=submission.auditid)


def _check_item_list(items) -> None:
    if items is None:
        return  # optional in practice (platform-apis.md §2.4)
    if not isinstance(items, list) or not 1 <= len(items) <= 5:
        raise SimError(85023)
    required = ("first_class", "second_class", "first_id", "second_id")
    if any(not isinstance(item, dict) or any(not item.get(key) for key in required) for item in items):
        raise SimError(85010)


def _new_auditid() -> int:
    """Increasing, like WeChat's: a later submission always has the larger auditid (the poller
    relies on it to tell a resubmission made in the console from a stale answer)."""
    last = SimSubmission.objects.order_by("-auditid").values_list("auditid", flat=True).first()
    return (last or 400_000_000) + 1 + secrets.randbelow(1000)


def latest_submission(authorizer: SimAuthorizer) -> SimSubmission | None:
    return authorizer.submissions.order_by("-submitted_at", "-pk").first()


def get_auditstatus(authorizer: SimAuthorizer, body: dict) -> dict:
    submission = _own_submission(authorizer, body.get("auditid"), missing=85012)
    return ok(status=submission.status, reason=submission.reason, screenshot=submission.screenshot)


def get_latest_auditstatus(authorizer: SimAuthorizer, query: dict) -> dict:
    """Uses `ScreenShot`, the key of the official response example (the field table says
    `screenshot`): clients must accept both, and this spelling catches those that don't."""
    submission = latest_submission(authorizer)
    if submission is None:
        raise SimError(85058)
    return ok(
        auditid=submission.auditid,
        status=submission.status,
        reason=submission.reason,
        ScreenShot=submission.screenshot,
        user_version=submission.user_version,
        user_desc=submission.user_desc,
        submit_audit_time=services.unix(submission.submitted_at),
    )


def _own_submission(authorizer: SimAuthorizer, auditid, *, missing: int) -> SimSubmission:
    try:
        return authorizer.submissions.get(auditid=int(auditid))
    except (SimSubmission.DoesNotExist, TypeError, ValueError):
        raise SimError(missing) from None


def undocodeaudit(authorizer: SimAuthorizer, query: dict) -> dict:
    """At most 5 withdrawals a day and 10 a month per mini-program, in Shanghai days (87013)."""
    with transaction.atomic():
        authorizer = SimAuthorizer.objects.select_for_update().get(pk=authorizer.pk)
        withdrawn = authorizer.submissions.filter(withdrawn_at__isnull=False)
        if (
            withdrawn.filter(withdrawn_at__gte=services.shanghai_day_start()).count() >= UNDO_PER_DAY
            or withdrawn.filter(withdrawn_at__gte=services.shanghai_month_start()).count() >= UNDO_PER_MONTH
        ):
            raise SimError(87013)
        submission = latest_submission(authorizer)
        if submission is None or not submission.in_review:
            raise SimError(85058)
        submission.status, submission.withdrawn_at = Status.WITHDRAWN, timezone.now()
        submission.save(update_fields=["status", "withdrawn_at"])
    return ok()


def speedupaudit(authorizer: SimAuthorizer, body: dict) -> dict:
    with transaction.atomic():
        SimComponent.objects.select_for_update().get(pk=authorizer.component_id)
        submission = _own_submission(authorizer, body.get("auditid"), missing=89402)
        if not submission.in_review:
            raise SimError(89402)
        if submission.sped_up_at:
            raise SimError(89404)
        if quota(authorizer.component)["speedup_rest"] <= 0:
            raise SimError(89405)
        submission.sped_up_at = timezone.now()
        submission.save(update_fields=["sped_up_at"])
    return ok()


def quota(component: SimComponent) -> dict:
    """Monthly (Shanghai month), per component, shared by all its mini-programs (§6).

    Every submission counts, withdrawn or rejected ones included (community reports; undocumented).
    """
    conf = SimSettings.load()
    month = SimSubmission.objects.filter(
        authorizer__component=component, submitted_at__gte=services.shanghai_month_start()
    )
    sped_up = SimSubmission.objects.filter(
        authorizer__component=component, sped_up_at__gte=services.shanghai_month_start()
    )
    return {
        "rest": max(conf.quota_limit - month.count(), 0),
        "limit": conf.quota_limit,
        "speedup_rest": max(conf.speedup_limit - sped_up.count(), 0),
        "speedup_limit": conf.speedup_limit,
    }


def queryquota(authorizer: SimAuthorizer, query: dict) -> dict:
    return ok(**quota(authorizer.component))


def get_code_privacy_info(authorizer: SimAuthorizer, query: dict) -> dict:
    """The simulated code never uses an undeclared privacy interface."""
    return ok(without_auth_list=[], without_conf_list=[])


def _trial_time(authorizer: SimAuthorizer):
    latest = latest_submission(authorizer)
    return latest.submitted_at if latest else timezone.now()


def getversioninfo(authorizer: SimAuthorizer, body: dict | None) -> dict:
    """The trial version and the online one (platform-apis.md §2.18); the body must be `{}`."""
    if body != {}:
        raise SimError(44002)
    fields = {}
    if authorizer.trial_user_version:
        fields["exp_info"] = {
            "exp_time": services.unix(_trial_time(authorizer)),
            "exp_version": authorizer.trial_user_version,
            "exp_desc": authorizer.trial_user_desc,
        }
    online = authorizer.online_version
    if online is not None:
        fields["release_info"] = {
            "release_time": services.unix(online.online_at),
            "release_version": online.user_version,
            "release_desc": online.user_desc,
        }
    return ok(**fields)


# --- release, gray release, rollback ------------------------------------------------------------


def release(authorizer: SimAuthorizer, body: dict | None) -> dict:
    """The body must be exactly `{}` (44002). 85019 when nothing was ever submitted, 85020 when the
    latest submission is not approved, 85052 when it was already released."""
    if body != {}:
        raise SimError(44002)
    with transaction.atomic():
        authorizer = SimAuthorizer.objects.select_for_update().get(pk=authorizer.pk)
        submission = latest_submission(authorizer)
        if submission is None:
            raise SimError(85019)
        if submission.status != Status.APPROVED:
            raise SimError(85020)
        if submission.released_at:
            raise SimError(85052)
        now = timezone.now()
        last = authorizer.versions.order_by("-app_version").first()
        version = SimVersion.objects.create(
            authorizer=authorizer,
            app_version=(last.app_version + 1) if last else 1,
            submission=submission,
            user_version=submission.user_version,
            user_desc=submission.user_desc or submission.version_desc,
            commit_time=submission.submitted_at,
            online_at=now,
        )
        submission.released_at = now
        submission.save(update_fields=["released_at"])
        authorizer.online_version, authorizer.rolled_back = version, False
        if authorizer.gray_status == SimAuthorizer.GrayStatus.RUNNING:
            authorizer.gray_status = SimAuthorizer.GrayStatus.FINISHED
        authorizer.save()
    return ok()


def grayrelease(authorizer: SimAuthorizer, body: dict) -> dict:
    """The gray percentage may only grow while a plan runs (85082)."""
    percentage = body.get("gray_percentage")
    if isinstance(percentage, bool) or not isinstance(percentage, int) or not 0 <= percentage <= 100:
        raise SimError(85081)
    experiencers = bool(body.get("support_experiencer_first", False))
    debugers = bool(body.get("support_debuger_first", False))
    if percentage == 0 and not (experiencers or debugers):
        raise SimError(40097)
    with transaction.atomic():
        authorizer = SimAuthorizer.objects.select_for_update().get(pk=authorizer.pk)
        if authorizer.online_version_id is None:
            raise SimError(85079)
        submission = latest_submission(authorizer)
        if submission is None or submission.status != Status.APPROVED or submission.released_at:
            raise SimError(85080)
        running = authorizer.gray_status == SimAuthorizer.GrayStatus.RUNNING
        if running and percentage < authorizer.gray_percentage:
            raise SimError(85082)
        if not running:
            authorizer.gray_created_at = timezone.now()
        authorizer.gray_status = SimAuthorizer.GrayStatus.RUNNING
        authorizer.gray_percentage = percentage
        authorizer.gray_support_experiencer_first, authorizer.gray_support_debuger_first = (
            experiencers,
            debugers,
        )
        authorizer.save()
    return ok()


def getgrayreleaseplan(authorizer: SimAuthorizer, query: dict) -> dict:
    return ok(
        gray_release_plan={
            "status": authorizer.gray_status,
            "create_timestamp": services.unix(authorizer.gray_created_at),
            "gray_percentage": authorizer.gray_percentage,
            "support_experiencer_first": authorizer.gray_support_experiencer_first,
            "support_debuger_first": authorizer.gray_support_debuger_first,
        }
    )


def revertgrayrelease(authorizer: SimAuthorizer, query: dict) -> dict:
    """Users in the gray group go back to the online version; the plan is deleted (status 4)."""
    with transaction.atomic():
        authorizer = SimAuthorizer.objects.select_for_update().get(pk=authorizer.pk)
        if authorizer.gray_status == SimAuthorizer.GrayStatus.RUNNING:
            authorizer.gray_status = SimAuthorizer.GrayStatus.DELETED
            authorizer.save(update_fields=["gray_status"])
    return ok()


def revertcoderelease(authorizer: SimAuthorizer, query: dict) -> dict:
    """`action=get_history_version` lists and changes nothing; otherwise roll back to the previous
    version (or `app_version`). 87011 while a gray release runs; 87012 with nothing to go back to,
    right after a rollback, or for a version not in the history."""
    if query.get("action") == "get_history_version":
        return ok(version_list=[_version_json(v) for v in reversed(_history(authorizer))])
    with transaction.atomic():
        authorizer = SimAuthorizer.objects.select_for_update().get(pk=authorizer.pk)
        if authorizer.gray_status == SimAuthorizer.GrayStatus.RUNNING:
            raise SimError(87011)
        candidates = _history(authorizer)
        if authorizer.online_version_id is None or authorizer.rolled_back or not candidates:
            raise SimError(87012)
        target = candidates[0]
        if query.get("app_version"):
            target = next((v for v in candidates if str(v.app_version) == query["app_version"]), None)
            if target is None:
                raise SimError(87012)
        target.online_at = timezone.now()
        target.save(update_fields=["online_at"])
        authorizer.online_version, authorizer.rolled_back = target, True
        authorizer.save(update_fields=["online_version", "rolled_back"])
    return ok()


def change_visitstatus(authorizer: SimAuthorizer, body: dict) -> dict:
    """`{"action": "close"}` hides the mini program (service paused), "open" shows it (§2.14)."""
    action = body.get("action") if isinstance(body, dict) else None
    if action not in ("open", "close"):
        raise SimError(85022)
    SimAuthorizer.objects.filter(pk=authorizer.pk).update(visible=action == "open")
    return ok()


def getvisitstatus(authorizer: SimAuthorizer, body: dict | None) -> dict:
    if body != {}:
        raise SimError(44002)
    authorizer.refresh_from_db(fields=["visible"])
    return ok(status=0 if authorizer.visible else 1)


def _history(authorizer: SimAuthorizer) -> list[SimVersion]:
    """Versions one can roll back to, most recently online first."""
    kept = list(authorizer.versions.order_by("-online_at", "-pk")[:HISTORY_KEPT])
    return [v for v in kept if v.pk != authorizer.online_version_id]


def _version_json(version: SimVersion) -> dict:
    return {
        "commit_time": services.unix(version.commit_time),
        "user_version": version.user_version,
        "user_desc": version.user_desc,
        "app_version": version.app_version,
    }


# --- rejection screenshots (wechat-fleet.md §6) -------------------------------------------------


def material(authorizer: SimAuthorizer, media_id) -> bytes:
    """get_material (and media/get): the picture of a screenshot this app's reviewer attached;
    a media id the app's rejections never carried is 40007, as WeChat answers an unknown one."""
    media_id = str(media_id or "").strip()
    if not media_id:
        raise SimError(40007)
    attached = SimSubmission.objects.filter(authorizer=authorizer, screenshot__contains=media_id)
    if not any(media_id in submission.screenshot.split("|") for submission in attached):
        raise SimError(40007)
    from simulator.pictures import screenshot

    return screenshot(media_id)
