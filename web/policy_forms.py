"""Forms of the publish policy page: weekly windows (Beijing time) and freezes, one row each.

They parse what was typed and mark each mistake on its own field; releases.windows decides what
a policy is (and says so again, for the API). A row left entirely blank is no row: clearing a
row removes that window or freeze.
"""

from datetime import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from releases.limits import clock
from web.onboarding_forms import ServiceErrors

DAY_CHOICES = [
    ("mon", _("Mon")),
    ("tue", _("Tue")),
    ("wed", _("Wed")),
    ("thu", _("Thu")),
    ("fri", _("Fri")),
    ("sat", _("Sat")),
    ("sun", _("Sun")),
]
REQUIRED = _("Required.")


def _time_input() -> forms.TimeInput:
    return forms.TimeInput(format="%H:%M", attrs={"type": "time"})


class WindowForm(forms.Form):
    days = forms.MultipleChoiceField(
        label=_("Days"), choices=DAY_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    start = forms.TimeField(label=_("From"), required=False, widget=_time_input(), input_formats=["%H:%M"])
    end = forms.TimeField(label=_("To"), required=False, widget=_time_input(), input_formats=["%H:%M"])

    def clean(self):
        data = super().clean()
        days, start, end = data.get("days"), data.get("start"), data.get("end")
        if not days and start is None and end is None and not self.errors:
            return {}  # a blank row: no window
        if not days:
            self.add_error("days", _("Pick at least one day."))
        for name in ("start", "end"):
            if data.get(name) is None and name not in self.errors:
                self.add_error(name, REQUIRED)
        if start is not None and end is not None and end <= start:
            self.add_error("end", _("The window must end after it starts."))
        return data

    def window(self) -> dict | None:
        data = self.cleaned_data
        if not data:
            return None
        return {
            "days": data["days"],
            "from": data["start"].strftime("%H:%M"),
            "to": data["end"].strftime("%H:%M"),
        }


MOMENT_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d")


class MomentField(forms.CharField):
    """A date and time in Beijing time as typed (no time zone conversion): 2026-11-09T00:00."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"})

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        for pattern in MOMENT_FORMATS:
            try:
                return datetime.strptime(value, pattern)
            except ValueError:
                continue
        raise forms.ValidationError(_("Enter a date and time like 2026-11-09 00:00."))


class FreezeForm(forms.Form):
    start = MomentField(label=_("From"), required=False)
    end = MomentField(label=_("Until"), required=False)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500, strip=True)

    def clean(self):
        data = super().clean()
        start, end, reason = data.get("start"), data.get("end"), data.get("reason")
        if start is None and end is None and not reason and not self.errors:
            return {}  # a blank row: no freeze
        for name in ("start", "end", "reason"):
            if not data.get(name) and name not in self.errors:
                self.add_error(name, REQUIRED)
        if start is not None and end is not None and end <= start:
            self.add_error("end", _("The freeze must end after it starts."))
        return data

    def freeze(self) -> dict | None:
        data = self.cleaned_data
        if not data:
            return None
        return {
            "from": data["start"].strftime("%Y-%m-%dT%H:%M"),
            "to": data["end"].strftime("%Y-%m-%dT%H:%M"),
            "reason": data["reason"],
        }


WindowFormSet = forms.formset_factory(WindowForm, extra=2, max_num=14, absolute_max=20)
FreezeFormSet = forms.formset_factory(FreezeForm, extra=2, max_num=50, absolute_max=60)


class PolicyForm(ServiceErrors, forms.Form):
    working_days_only = forms.BooleanField(
        label=_("Working days only"),
        required=False,
        help_text=_("China's public holidays are closed; make-up working days open with a Monday's hours."),
    )
    advance_in_window = forms.BooleanField(
        label=_("Phased releases advance only inside a window"),
        required=False,
        help_text=_("The scheduler starts a rollout's next stage only while publishing is open."),
    )


class AppPolicyForm(PolicyForm):
    own = forms.BooleanField(
        label=_("This app has its own publish policy"),
        required=False,
        help_text=_("Unticked, the team's windows and freezes apply to this app."),
    )

    field_order = ["own", "working_days_only", "advance_in_window"]


def initial_windows(policy: dict) -> list[dict]:
    return [{"days": w["days"], "start": w["from"], "end": w["to"]} for w in policy.get("windows", [])]


def _beijing(moment: str) -> str:
    return datetime.fromisoformat(moment).astimezone(clock.BEIJING).strftime("%Y-%m-%dT%H:%M")


def initial_freezes(policy: dict) -> list[dict]:
    return [
        {"start": _beijing(f["from"]), "end": _beijing(f["to"]), "reason": f["reason"]}
        for f in policy.get("freezes", [])
    ]
