"""The form that creates a release group (issue 16): the release form's version, notes and build
report, plus the apps (one per platform), the build CI posted (if any), each app's template and
ext.json where its platform account keeps templates, and the team's hold-on-rejection choice.

The apps offered are those of the teams where the person may create releases (developer or
above, as `POST /api/v1/release-groups` requires); the service still decides (one team, one
app per platform), and its refusals land on the fields here.
"""

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from releases.errors import SluiceError
from releases.messages import localize
from releases.models import App, Build, Role
from releases.selectors import team_ids_for
from reviews.models import CodeTemplate
from web.release_form import ReleaseForm

RECENT_BUILDS = 20


def group_apps_for(user):
    """The apps a person may put in a group: those of the teams where they may create releases."""
    return (
        App.objects.filter(team_id__in=team_ids_for(user, Role.DEVELOPER))
        .select_related("team", "platform_account")
        .order_by("team__name", "name", "pk")
    )


class ReleaseGroupForm(ReleaseForm):
    apps = forms.TypedMultipleChoiceField(
        label=_("Apps"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("One app per platform, of one team: the same product on WeChat, Douyin…"),
        error_messages={"required": _("Choose the apps to ship this version to.")},
    )
    build = forms.TypedChoiceField(
        label=_("From a CI build"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("The build report and the commit come from this build; the fields below add to it."),
    )
    hold_on_rejection = forms.BooleanField(
        label=_("Hold the group on a rejection"),
        required=False,
        help_text=_(
            "A rejection on one platform holds submitting and publishing for all. "
            "Left unticked, each platform goes ahead on its own."
        ),
    )

    def __init__(self, *args, user, apps=None, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["target_date"]
        self.offered = list(apps if apps is not None else group_apps_for(user))
        self.by_pk = {app.pk: app for app in self.offered}
        self.fields["apps"].choices = [
            (app.pk, f"{app.name} · {app.platform_account.get_platform_display()} · {app.team.name}")
            for app in self.offered
        ]
        builds = list(
            Build.objects.filter(app__in=self.offered).select_related("app", "release")[:RECENT_BUILDS]
        )
        self.builds = {build.pk: build for build in builds}
        self.fields["build"].choices = [("", _("None: type the build report below"))] + [
            (build.pk, f"{build.app.name} {build.version} · {build.commit[:10] or '—'} {build.branch}")
            for build in builds
        ]
        if not builds:
            del self.fields["build"]
        templates: dict[int, list] = {}
        for template in (
            CodeTemplate.objects.filter(account__apps__in=self.offered).distinct().order_by("-template_id")
        ):
            templates.setdefault(template.account_id, []).append(template)
        # Per app whose account keeps templates: which one it ships, and its ext.json.
        self.code_fields = []
        for app in self.offered:
            choices = templates.get(app.platform_account_id)
            if not choices:
                continue
            self.fields[f"template_{app.pk}"] = forms.ChoiceField(
                label=_("Template for %(app)s") % {"app": app.name},
                required=False,
                choices=[("", _("None: the code already on the platform"))]
                + [
                    (str(t.template_id), f"{t.template_id} · {t.user_version} {t.user_desc}") for t in choices
                ],
            )
            self.fields[f"ext_json_{app.pk}"] = forms.CharField(
                label=_("ext.json for %(app)s") % {"app": app.name},
                required=False,
                widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false", "class": "mono"}),
                help_text=_('A JSON object, e.g. {"extAppid": "wx…"}; empty for none.'),
            )
            self.code_fields.append(app.pk)
        self.order_fields(["apps", "version", "build", "release_notes", "review_notes"])

    def _clean_ext_json(self, pk: int) -> dict:
        raw = (self.data.get(self.add_prefix(f"ext_json_{pk}")) or "").strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            self.add_error(f"ext_json_{pk}", _('Write a JSON object, such as {"extAppid": "wx123"}.'))
            return {}
        return value

    def clean(self) -> dict:
        build = self.builds.get(self.cleaned_data.get("build") or 0)
        if build is not None and isinstance(build.release.build_report, dict):
            self.report = dict(build.release.build_report)
        cleaned = super().clean()
        cleaned["build"] = (
            {"build_commit": build.commit, "build_branch": build.branch, "build_ci_url": build.ci_url}
            if build is not None
            else None
        )
        chosen = set(cleaned.get("apps") or [])
        code = {}
        for pk in self.code_fields:
            template = cleaned.pop(f"template_{pk}", "")
            cleaned.pop(f"ext_json_{pk}", None)
            ext_json = self._clean_ext_json(pk)
            if pk in chosen and (template or ext_json):
                code[pk] = {"template_id": template, "ext_json": ext_json}
        cleaned["code"] = code
        return cleaned

    def chosen_apps(self) -> list[App]:
        return [self.by_pk[pk] for pk in dict.fromkeys(self.cleaned_data["apps"])]

    def add_service_error(self, exc: SluiceError) -> None:
        """A refusal about the apps (two on one platform, two teams) lands on the apps; any other
        as on the release form. Both in the reader's language."""
        if "apps" in exc.details:
            self.add_error("apps", localize(exc.message))
            return
        exc.message = localize(exc.message)
        exc.details = {key: localize(str(problem)) for key, problem in exc.details.items()}
        super().add_service_error(exc)
