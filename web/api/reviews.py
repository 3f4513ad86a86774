"""REST endpoints for rejections, remediation and limits (a django-ninja Router).

Mounted on the main API in web/api/__init__.py, so it inherits the bearer auth and the
error envelope: services raise releases.errors, the API's handlers format them.
`release_extras` is merged into GET /releases/{id} by web/api/release_out.py.
"""

from datetime import datetime

from ninja import Query, Router, Schema

from releases import selectors
from releases.errors import NotFound
from releases.limits import app_limits
from releases.remediation import (
    EXPLAIN_KEY,
    FEEDBACK_MAX,
    NOTE_MAX,
    latest_rejection,
    rejection_out,
    remediation_complete,
    remediation_override,
    task_out,
    tasks_for,
)
from web.api.core import client_ip
from web.api.paging import PageQuery, page
from web.api.schemas.common import ERRORS, Strict, checked_text, page_of
from web.api.schemas.releases import RemediationTaskOut as TaskOut

router = Router(tags=["remediation"])


class NoteIn(Strict):
    note: str = checked_text(NOTE_MAX, description=f"At most {FEEDBACK_MAX} characters for {EXPLAIN_KEY}.")


class ReasonIn(Strict):
    reason: str = checked_text(4000)


class TaskList(Schema):
    results: list[TaskOut]


class LimitOut(Schema):
    key: str
    label: str
    code: str
    used: int
    limit: int | None
    remaining: int | None
    resets_at: datetime | None


LimitPage = page_of(LimitOut, "LimitPage")


def release_extras(release) -> dict:
    """`rejection` ({reason, items: [{text, category}], screenshots, at} or None) and
    `remediation` (the tasks) for the release representation."""
    return {
        "rejection": rejection_out(latest_rejection(release)),
        "remediation": [task_out(task) for task in tasks_for(release)],
    }


def _release(request, release_id: int):
    release = selectors.releases_for(request.user).filter(pk=release_id).first()
    if release is None:
        raise NotFound("not_found", "No such object, or it belongs to a team you are not in.")
    return release


@router.post("/releases/{release_id}/remediation/{key}/done", response={200: TaskOut, **ERRORS})
def remediation_done(request, release_id: int, key: str, payload: NoteIn):
    """Complete one remediation task with a note saying what was done (developers and above)."""
    release = _release(request, release_id)
    task = remediation_complete(
        release=release, key=key, actor=request.user, note=payload.note, ip=client_ip(request)
    )
    return task_out(task)


@router.post("/releases/{release_id}/remediation/override", response={200: TaskList, **ERRORS})
def remediation_override_open(request, release_id: int, payload: ReasonIn):
    """Waive every open required task with a reason (release managers and above); audited."""
    release = _release(request, release_id)
    remediation_override(release=release, actor=request.user, reason=payload.reason, ip=client_ip(request))
    return {"results": [task_out(task) for task in tasks_for(release)]}


@router.get("/apps/{app_id}/limits", response={200: LimitPage, **ERRORS})
def limits_of_app(request, app_id: int, paging: Query[PageQuery]):
    """Every submission limit of the app with what is left and when it resets (Beijing time)."""
    app = selectors.apps_for(request.user).filter(pk=app_id).first()
    if app is None:
        raise NotFound("not_found", "No such object, or it belongs to a team you are not in.")
    return page(request, app_limits(app), paging, lambda limit: limit)
