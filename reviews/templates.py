"""The platform account's template draft box and template library (issue 14, wechat-fleet.md §2).

WeChat holds them; Sluice mirrors them (TemplateDraft, CodeTemplate) so pages and campaigns can
list and pick without a call. A sync replaces the mirror with what WeChat answers. Adding a draft
to the library is refused before calling when the library already holds 200 templates (WeChat
would answer 85065, which blocks every new release until old templates are deleted), and WeChat's
own 85065 is refused the same way. Platform calls run outside transactions; each change is
audited on the account.
"""

from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from releases.audit import audit_record
from releases.errors import NotFound, Refused
from releases.models import PlatformAccount
from releases.platforms import PlatformError, adapter_for
from reviews.models import CodeTemplate, TemplateDraft

TEMPLATE_LIBRARY_LIMIT = 200
LIBRARY_FULL = gettext_noop(
    "The template library holds %(count)s templates, WeChat's limit of 200: delete old templates first."
)


def _when(create_time: int | None):
    return datetime.fromtimestamp(create_time, tz=UTC) if create_time else None


def _fields(entry) -> dict:
    return {
        "user_version": entry.user_version[:64],
        "user_desc": entry.user_desc,
        "source_miniprogram_appid": entry.source_miniprogram_appid[:64],
        "source_miniprogram": entry.source_miniprogram[:120],
        "developer": entry.developer[:120],
        "created_on_platform": _when(entry.create_time),
    }


def templates_sync(*, account: PlatformAccount, actor=None, ip=None) -> dict:
    """Both lists from WeChat, mirrored. Returns {"drafts": n, "templates": n}. Raises PlatformError."""
    adapter = adapter_for(account)
    drafts = [d for d in adapter.gettemplatedraftlist().draft_list if d.draft_id is not None]
    templates = [t for t in adapter.gettemplatelist().template_list if t.template_id is not None]
    now = timezone.now()
    with transaction.atomic():
        for d in drafts:
            TemplateDraft.objects.update_or_create(
                account=account, draft_id=d.draft_id, defaults={**_fields(d), "synced_at": now}
            )
        TemplateDraft.objects.filter(account=account).exclude(
            draft_id__in=[d.draft_id for d in drafts]
        ).delete()
        for t in templates:
            defaults = {
                **_fields(t),
                "draft_id": t.draft_id,
                "template_type": t.template_type,
                "synced_at": now,
            }
            CodeTemplate.objects.update_or_create(
                account=account, template_id=t.template_id, defaults=defaults
            )
        CodeTemplate.objects.filter(account=account).exclude(
            template_id__in=[t.template_id for t in templates]
        ).delete()
        counts = {"drafts": len(drafts), "templates": len(templates)}
        audit_record(
            action="templates_sync", actor=actor, target=account, team_id=account.team_id, data=counts, ip=ip
        )
    return counts


def _library_full(count: int) -> Refused:
    return Refused(
        "template_library_full", LIBRARY_FULL % {"count": count}, details={"limit": TEMPLATE_LIBRARY_LIMIT}
    )


def template_add(*, account: PlatformAccount, draft_id: int, actor=None, ip=None) -> CodeTemplate | None:
    """addtotemplate: the draft becomes a template; the mirror is synced to learn its template_id.

    Refused (409 template_library_full) before calling when the library holds 200 templates.
    """
    if not TemplateDraft.objects.filter(account=account, draft_id=draft_id).exists():
        raise NotFound(
            "draft_not_found", gettext_noop("No such draft in this account's draft box (sync first?).")
        )
    count = CodeTemplate.objects.filter(account=account).count()
    if count >= TEMPLATE_LIBRARY_LIMIT:
        raise _library_full(count)
    try:
        adapter_for(account).addtotemplate(draft_id)
    except PlatformError as exc:
        if getattr(exc, "errcode", None) == 85065:
            raise _library_full(TEMPLATE_LIBRARY_LIMIT) from None
        raise
    templates_sync(account=account, actor=actor, ip=ip)
    with transaction.atomic():
        audit_record(
            action="template_add",
            actor=actor,
            target=account,
            team_id=account.team_id,
            data={"draft_id": draft_id},
            ip=ip,
        )
    return CodeTemplate.objects.filter(account=account, draft_id=draft_id).order_by("-template_id").first()


def template_delete(*, account: PlatformAccount, template_id: int, actor=None, ip=None) -> None:
    """deletetemplate, then the mirror forgets it. A template WeChat no longer has (85064) is gone
    already: the mirror forgets it too."""
    template = CodeTemplate.objects.filter(account=account, template_id=template_id).first()
    if template is None:
        raise NotFound("template_not_found", gettext_noop("No such template in this account's library."))
    try:
        adapter_for(account).deletetemplate(template_id)
    except PlatformError as exc:
        if getattr(exc, "errcode", None) != 85064:
            raise
    with transaction.atomic():
        template.delete()
        audit_record(
            action="template_delete",
            actor=actor,
            target=account,
            team_id=account.team_id,
            data={"template_id": template_id, "user_version": template.user_version},
            ip=ip,
        )
