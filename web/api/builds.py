"""Builds: CI posts what it built, and the release of that version follows (issue 15)."""

from ninja import Router, Status

from releases import selectors
from releases.build_services import build_record
from web.api.core import client_ip, get_or_404
from web.api.release_out import release_out
from web.api.schemas.builds import BuildIn, BuildOut
from web.api.schemas.common import ERRORS

router = Router()


@router.post("/apps/{app_id}/builds", response={201: BuildOut, **ERRORS}, tags=["builds"])
def create_build(request, app_id: int, payload: BuildIn):
    """Create the release of `version` from a CI build, or bring its editable release up to date
    (a new revision: earlier checks and approvals stop counting). The same build posted again is
    answered with the build already recorded; a version already submitted is a 409
    `version_exists`. The build report is derived from `miniprogram_ci` and `app_json`; a
    malformed part is a 400 `invalid_build` whose details name the field."""
    app = get_or_404(selectors.apps_for(request.user), app_id)
    build = build_record(app=app, actor=request.user, ip=client_ip(request), **payload.model_dump())
    return Status(201, {"id": build.pk, "release": release_out(build.release, request.user)})
