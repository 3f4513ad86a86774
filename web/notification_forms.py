"""The forms of the notification pages: a channel, and a person's own preferences."""

from django import forms
from django.utils.translation import gettext_lazy as _

from notify.kinds import KINDS
from notify.models import Kind, Language


class ChannelForm(forms.Form):
    team = forms.TypedChoiceField(label=_("Team"), coerce=int, choices=())
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    name = forms.CharField(label=_("Name"), max_length=120)
    url = forms.CharField(
        label=_("Webhook URL"),
        required=False,
        max_length=2000,
        help_text=_(
            "The robot's or endpoint's webhook URL. Stored encrypted; leave empty to keep the saved one."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    to = forms.CharField(
        label=_("Email addresses"), required=False, max_length=2000, help_text=_("Comma-separated.")
    )
    secret = forms.CharField(
        label=_("Signing secret"),
        required=False,
        max_length=500,
        help_text=_(
            "DingTalk (SEC…) or Feishu signing secret, or the webhook's whsec_… key. Never shown again."
        ),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=list(KINDS.items()), widget=forms.CheckboxSelectMultiple, required=False
    )
    apps = forms.TypedMultipleChoiceField(
        label=_("Apps"),
        coerce=int,
        choices=(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every app of the team."),
    )
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    quiet_start = forms.TimeField(
        label=_("Quiet hours from"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text=_("Beijing time. Messages that can wait are held until the end."),
    )
    quiet_end = forms.TimeField(
        label=_("Quiet hours until"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    digest_time = forms.TimeField(
        label=_("Morning digest at"),
        initial="09:30",
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text=_("Beijing time."),
    )
    digest_working_days_only = forms.BooleanField(
        label=_("Digest on working days only"), required=False, initial=True
    )
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)

    def __init__(self, *args, teams=(), apps=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [(t.pk, t.name) for t in teams]
        self.fields["apps"].choices = [(a.pk, f"{a.name} ({a.team})") for a in apps]

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("team", None)
        for key in ("url", "secret"):
            if not data.get(key):
                data.pop(key, None)  # keep what is stored
        if not data.get("events"):
            data.pop("events")
        return data

    def errors_text(self) -> str:
        return " ".join(
            f"{self.fields[n].label if n in self.fields else ''}: {' '.join(e)}"
            for n, e in self.errors.items()
        )


class PreferenceForm(forms.Form):
    email_enabled = forms.BooleanField(label=_("Email me what needs my attention"), required=False)
    language = forms.ChoiceField(label=_("Language of my notifications"), choices=Language.choices)
    mobile = forms.CharField(
        label=_("Mobile number"),
        required=False,
        max_length=20,
        help_text=_("The robots @ you by this number when your action is needed."),
    )
