"""Forms for the server-rendered pages. They parse input; the services decide what is allowed."""

from django import forms
from django.utils.translation import gettext_lazy as _

from releases.messages import localize
from releases.models import DEFAULT_CHECKLIST, Qualification


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
        return cls(initial={"items": "\n".join(localize(label) for label in labels)})

    def clean_items(self) -> list[dict]:
        """Lines become items; the service keeps the key of an unchanged label (its ticks count).
        A default item shown in the reader's language is stored as its English message id again."""
        defaults = {localize(label): label for _key, label in DEFAULT_CHECKLIST}
        lines = [line.strip() for line in self.cleaned_data["items"].splitlines()]
        return [{"label": defaults.get(line, line)} for line in lines if line]
