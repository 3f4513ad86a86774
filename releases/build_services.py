"""`build_record`: CI posts a build, and the release of its version is created or brought up to
date from it (issue 15: POST /api/v1/apps/{id}/builds).

A pipeline reruns: posting the same build twice changes nothing and answers with the same
build. A new build of a version whose release can still be edited (a draft, or checked,
rejected, withdrawn...) is an edit like any other: a new revision, so the checks and
approvals given to the old code no longer count. A version already on its way (submitted,
approved, published) is a 409 `version_exists`: its code is what the reviewer saw.
"""

from django.db import transaction
from django.utils.translation import gettext_noop

from releases.builds import derive_build_report, validate_build_source
from releases.draft_services import release_create, release_update
from releases.errors import Invalid, Refused
from releases.models import EDITABLE, App, Build, Release, Role
from releases.transitions import _require_role, _state_label
from releases.versioning import parse


def build_record(
    *,
    app: App,
    actor,
    version: str,
    description: str = "",
    commit: str = "",
    branch: str = "",
    ci_url: str = "",
    miniprogram_ci=None,
    app_json=None,
    build_report: dict | None = None,
    ip: str | None = None,
) -> Build:
    _require_role(actor, app.team_id, Role.DEVELOPER, "post a build")
    commit, branch = commit.lower(), branch.strip()
    if errors := validate_build_source(commit=commit, branch=branch, ci_url=ci_url):
        raise Invalid(
            "invalid_build",
            gettext_noop("The build has malformed fields: %(fields)s.") % {"fields": ", ".join(errors)},
            details=errors,
        )
    if parse((version or "").strip()) is None:
        raise Invalid(
            "invalid_version",
            gettext_noop("“%(version)s” is not a semantic version such as 1.4.0.") % {"version": version},
            details={"version": gettext_noop("Use MAJOR.MINOR.PATCH, e.g. 1.4.0.")},
        )
    version = version.strip()
    report = derive_build_report(miniprogram_ci, app_json, keep=build_report)
    source = {"build_commit": commit, "build_branch": branch, "build_ci_url": ci_url}
    posted = {
        "description": description,
        "commit": commit,
        "branch": branch,
        "ci_url": ci_url,
        "miniprogram_ci": miniprogram_ci,
        "app_json": app_json,
    }
    with transaction.atomic():
        # The app's row lock orders two pipelines posting the same version at once.
        App.objects.select_for_update().filter(pk=app.pk).first()
        release = Release.objects.filter(app=app, version=version).first()
        if release is None:
            release = release_create(
                app=app,
                actor=actor,
                version=version,
                release_notes=description,
                build_report=report,
                build=source,
                ip=ip,
            )
        else:
            latest = release.builds.first()
            if latest is not None and all(getattr(latest, k) == v for k, v in posted.items()):
                return latest  # the same build again: a pipeline's retry
            if release.state not in EDITABLE:
                raise Refused(
                    "version_exists",
                    gettext_noop(
                        "%(app)s %(version)s is %(state)s: its code can no longer change; "
                        "build a new version."
                    )
                    % {"app": app, "version": version, "state": _state_label(release.state)},
                )
            changes = {"build_report": report, **source}
            if description:
                changes["release_notes"] = description
            release = release_update(release=release, actor=actor, changes=changes, ip=ip)
        return Build.objects.create(app=app, release=release, version=version, created_by=actor, **posted)
