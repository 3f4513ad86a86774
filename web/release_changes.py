"""What changes a release from the pages: the create and edit forms, ticking a checklist item
and the action buttons. Thin: call one service or `actions.perform`, then redirect with a
flash message (or render the form again with the service's refusal)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from releases import actions, selectors, services
from releases.errors import SluiceError
from releases.gate.facts import facts_for
from releases.messages import localize
from releases.models import EDITABLE, Release, State
from web.page_helpers import request_ip, require_developer
from web.release_form import ReleaseForm

# What the flash says after a pressed button worked; the new state follows it.
DONE = {
    "check": gettext_lazy("The checks passed"),
    "approve": gettext_lazy("Approved"),
    "override-approval": gettext_lazy("Approved by override"),
    "send-back": gettext_lazy("Sent back to the author"),
    "submit": gettext_lazy("Submitted for review"),
    "record-outcome": gettext_lazy("Review outcome recorded"),
    "withdraw": gettext_lazy("Withdrawal requested"),
    "publish": gettext_lazy("Publish requested"),
    "rollback": gettext_lazy("Rollback requested"),
    "speedup": gettext_lazy("Speed-up requested"),
    "rollout-advance": gettext_lazy("Next stage requested"),
    "rollout-pause": gettext_lazy("Rollout paused"),
    "rollout-resume": gettext_lazy("Rollout resumed"),
    "rollout-revert": gettext_lazy("Revert requested"),
    "schedule-publish": gettext_lazy("Publish scheduled"),
    "unschedule": gettext_lazy("Scheduled publish cancelled"),
    "retry": gettext_lazy("Retried"),
    "cancel": gettext_lazy("Cancelled"),
}


@login_required
def release_create(request, app_id: int):
    app = get_object_or_404(selectors.apps_for(request.user), pk=app_id)
    require_developer(request, app.team_id)
    form = ReleaseForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            release = services.release_create(
                app=app, actor=request.user, ip=request_ip(request), **form.cleaned_data
            )
        except SluiceError as exc:
            form.add_service_error(exc)
        else:
            messages.success(
                request,
                _("Created %(app)s %(version)s as a draft. Next: run the checks.")
                % {"app": app, "version": release.version},
            )
            return redirect("web:release-detail", release_id=release.pk)
    return render(request, "releases/release_form.html", {"app": app, "form": form, "release": None})


@login_required
def release_edit(request, release_id: int):
    release = get_object_or_404(selectors.releases_for(request.user), pk=release_id)
    require_developer(request, release.app.team_id)
    if release.state not in EDITABLE:
        messages.error(
            request,
            _("A release that is %(state)s can no longer be edited.")
            % {"state": State(release.state).label.lower()},
        )
        return redirect("web:release-detail", release_id=release.pk)
    form = ReleaseForm.for_release(release, request.POST if request.method == "POST" else None)
    if form.is_valid():
        before = (release.revision, release.state)
        try:
            release = services.release_update(
                release=release,
                actor=request.user,
                changes=form.cleaned_data,
                revision=form.cleaned_data["revision"],
                ip=request_ip(request),
            )
        except SluiceError as exc:
            if exc.code == "stale_revision":  # keep the typed text, now based on the current revision
                form = form.rebased(exc.details["current_revision"])
                form.add_error(None, exc.message)
                form.add_error(None, _("Your text is kept below: saving it again replaces that revision."))
            else:
                form.add_service_error(exc)
        else:
            if (release.revision, release.state) == before:
                messages.info(request, _("Nothing changed."))
            else:
                messages.success(
                    request,
                    _("Saved revision %(revision)s. It is a draft: run the checks again.")
                    % {"revision": release.revision},
                )
            return redirect("web:release-detail", release_id=release.pk)
    return render(
        request, "releases/release_form.html", {"app": release.app, "form": form, "release": release}
    )


@login_required
@require_POST
def release_confirm(request, release_id: int, key: str):
    release = get_object_or_404(selectors.releases_for(request.user), pk=release_id)
    try:
        tick = services.release_confirm_check(
            release=release, actor=request.user, key=key, ip=request_ip(request)
        )
    except SluiceError as exc:
        messages.error(request, exc.message)
    else:
        release.refresh_from_db()
        done = _("Confirmed: %(item)s.") % {"item": tick.label}
        if release.state == State.CHECKED:
            done += " " + _(
                "The checklist is complete and the checks passed: %(version)s is now checked."
            ) % {"version": release.version}
        messages.success(request, done)
    return redirect(f"{reverse('web:release-detail', args=[release.pk])}#checklist-title")


def _after_check(request, release: Release) -> None:
    """The flash after "Run checks": passed, still running, or waiting for the checklist."""
    run = selectors.latest_check_run(release)
    pending = sum(1 for r in run.result_list if r.status == "pending") if run else 0
    open_items = facts_for(release).unticked
    if release.state == State.CHECKED:
        messages.success(
            request,
            _("The checks passed: %(app)s %(version)s is now checked.")
            % {"app": release.app, "version": release.version},
        )
    elif pending:
        messages.info(
            request,
            _(
                "Checks started: %(pending)s still running in the background. "
                "This page updates when they finish."
            )
            % {"pending": pending},
        )
    elif open_items:
        messages.info(
            request,
            _(
                "The automated checks passed. Tick the %(count)s open checklist item(s) "
                "to move %(version)s to checked."
            )
            % {"count": len(open_items), "version": release.version},
        )
    else:
        messages.info(request, _("Checks run."))


@login_required
@require_POST
def release_action(request, release_id: int, name: str):
    release = get_object_or_404(selectors.releases_for(request.user), pk=release_id)
    action = actions.BY_NAME.get(name)
    if action is None:
        raise Http404("No such action.")
    payload = {field: request.POST.get(field, "") for field in action.fields}
    try:
        actions.perform(release, name, actor=request.user, payload=payload, ip=request_ip(request))
    except SluiceError as exc:
        still = exc.details.get("pending") if isinstance(exc.details, dict) else None
        running = ""
        if still:
            running = " " + ngettext(
                "%(count)s more still running.", "%(count)s more still running.", len(still)
            ) % {"count": len(still)}
        messages.error(request, localize(exc.message) + running)
    else:
        release = selectors.releases_for(request.user).get(pk=release.pk)
        if name == "check":
            _after_check(request, release)
            return redirect("web:release-detail", release_id=release.pk)
        state = State(release.state).label.lower()
        messages.success(
            request,
            _("%(done)s: %(app)s %(version)s is now %(state)s.")
            % {"done": DONE[name], "app": release.app, "version": release.version, "state": state},
        )
    return redirect("web:release-detail", release_id=release.pk)
