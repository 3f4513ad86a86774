"""Forms for the server-rendered pages. They parse input; the services decide what is allowed."""

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from releases.errors import SluiceError
from releases.models import Qualification, Release

BUILD_REPORT_EXAMPLE = (
    '{"packages": [{"name": "__FULL__", "size": 3400000}, {"name": "__APP__", "size": 1500000}]}'
)


class ReleaseForm(forms.Form):
    version = forms.CharField(
        label=_("Version"),
        max_length=64,
        help_text=_("A semantic version such as 1.4.0, greater than the published one."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": "1.4.0"}),
    )
    release_notes = forms.CharField(
        label=_("Release notes"),
        required=False,
        max_length=10_000,
        help_text=_("What users get in this version."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    review_notes = forms.CharField(
        label=_("Review notes"),
        required=False,
        max_length=10_000,
        help_text=_(
            "For the platform's reviewer: what changed and where to find it (at least 10 characters)."
        ),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    build_report = forms.CharField(
        required=False,
        label=_("Build report (JSON)"),
        help_text=_(
            "The build tool's report as a JSON object, sizes in bytes. Leave empty if you have none."
        ),
        widget=forms.Textarea(
            attrs={"rows": 8, "spellcheck": "false", "class": "mono", "placeholder": BUILD_REPORT_EXAMPLE}
        ),
    )

    target_date = forms.DateField(
        label=_("Target date"),
        required=False,
        help_text=_("When the team plans to ship it (shown on the calendar). Changing it voids nothing."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Optional to save a draft, but the checks refuse a release without them.
        self.fields["review_notes"].hint = _("needed to pass the checks")

    @classmethod
    def for_release(cls, release: Release, data=None) -> "ReleaseForm":
        """The form prefilled with a release's current content, and the revision it shows in a
        hidden field: the save is based on that revision, and refused if the release moved on."""
        initial = {
            "version": release.version,
            "release_notes": release.release_notes,
            "review_notes": release.review_notes,
            "build_report": json.dumps(release.build_report, indent=2, ensure_ascii=False)
            if release.build_report
            else "",
            "revision": release.revision,
            "target_date": release.target_date,
        }
        form = cls(data, initial=initial)
        form.fields["revision"] = forms.IntegerField(
            min_value=1,
            widget=forms.HiddenInput,
            error_messages={
                "required": _("This page is out of date: reload it and make your change again."),
                "invalid": _("This page is out of date: reload it and make your change again."),
                "min_value": _("This page is out of date: reload it and make your change again."),
            },
        )
        return form

    def rebased(self, revision: int) -> "ReleaseForm":
        """The same typed text, now based on `revision`: after a stale save was refused, saving
        again is a deliberate choice to replace that revision with this text."""
        data = self.data.copy()
        data["revision"] = str(revision)
        form = type(self)(data, initial={**self.initial, "revision": revision})
        form.fields["revision"] = self.fields["revision"]
        form.is_valid()
        return form

    def clean_build_report(self) -> dict:
        text = self.cleaned_data["build_report"].strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("This is not valid JSON: %(problem)s at line %(line)s, column %(column)s."),
                code="invalid_json",
                params={"problem": exc.msg, "line": exc.lineno, "column": exc.colno},
            ) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(
                _('The build report must be a JSON object, such as {"packages": [...]}; got a %(kind)s.'),
                code="not_an_object",
                params={"kind": _json_kind(value)},
            )
        return value

    def add_service_error(self, exc: SluiceError) -> None:
        """Show a refusal from the services: its message on top, its details on their fields.

        A detail about part of a field ("build_report.packages") lands on that field; one
        that names no field is shown on top, so no reason is ever dropped.
        """
        self.add_error(None, exc.message)
        for key, problem in exc.details.items():
            field, _sep, part = str(key).partition(".")
            if field in self.fields:
                self.add_error(field, f"{part}: {problem}" if part else str(problem))
            else:
                self.add_error(None, f"{key}: {problem}")


def _json_kind(value) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "true/false value"
    if value is None:
        return "null"
    return "number"


class _Flat(forms.Form):
    """A small form posted from a section of the app page: its errors go into one flash.

    Several sit on one page, some with the same field names (expires_on): each prefixes its
    element ids with `id_prefix` so labels point at their own field."""

    id_prefix = "id"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)

    def errors_text(self) -> str:
        parts = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else ""
            parts.append(f"{label or name}: {' '.join(errors)}" if name != "__all__" else " ".join(errors))
        return " ".join(parts)


def _check_choices():
    from releases.checks import REGISTRY

    return [(key, f"{check.title} ({key})") for key, check in REGISTRY.items()]


class SuppressionForm(_Flat):
    id_prefix = "suppression"
    key = forms.ChoiceField(label=_("Check"), choices=_check_choices)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        help_text=_("Why this check does not apply to this app; shown on every run while it holds."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    expires_on = forms.DateField(
        label=_("Until (inclusive)"),
        help_text=_("The check counts again from the next day."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class QualificationForm(_Flat):
    id_prefix = "qualification"
    kind = forms.ChoiceField(label=_("Kind"), choices=Qualification.Kind.choices)
    name = forms.CharField(
        label=_("Name"),
        required=False,
        max_length=120,
        widget=forms.TextInput(attrs={"placeholder": "食品经营许可证"}),
    )
    number = forms.CharField(label=_("Number"), max_length=64)
    expires_on = forms.DateField(
        label=_("Valid until"),
        required=False,
        help_text=_("Inclusive. Leave empty for a permit without expiry (长期有效)."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class ChecklistForm(_Flat):
    items = forms.CharField(
        label=_("Checklist items"),
        required=False,
        max_length=6000,
        help_text=_(
            "One item per line. Every release of this app must have each ticked before it is checked."
        ),
        widget=forms.Textarea(attrs={"rows": 6}),
    )

    @classmethod
    def for_app(cls, app) -> "ChecklistForm":
        labels = [item.get("label", "") for item in app.checklist or [] if isinstance(item, dict)]
        return cls(initial={"items": "\n".join(labels)})

    def clean_items(self) -> list[dict]:
        """Lines become items; the service keeps the key of an unchanged label (its ticks count)."""
        lines = [line.strip() for line in self.cleaned_data["items"].splitlines()]
        return [{"label": line} for line in lines if line]
