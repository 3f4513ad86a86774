"""The reviewer console's forms: a decision on one submission, and the simulator's settings."""

from django import forms
from django.utils.translation import gettext_lazy as _

from simulator import services
from simulator.models import SimSettings


def _reason_choices() -> list[tuple[str, str]]:
    return [(e["key"], services.format_reasons([e])) for e in services.reason_catalogue()]


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[("approved", _("Approve")), ("rejected", _("Reject")), ("delayed", _("Delay"))]
    )
    reasons = forms.MultipleChoiceField(choices=_reason_choices, required=False)
    free_text = forms.CharField(required=False, max_length=2000)
    screenshots = forms.CharField(required=False, max_length=1000, help_text=_("Media ids, separated by |"))

    def clean(self):
        data = super().clean()
        if data.get("outcome") == "rejected" and not (
            data.get("reasons") or data.get("free_text", "").strip()
        ):
            raise forms.ValidationError(
                _("A rejection needs at least one reason from the catalogue or a text.")
            )
        return data

    def reason(self) -> str:
        picked = set(self.cleaned_data["reasons"])
        entries = [e for e in services.reason_catalogue() if e["key"] in picked]
        return services.format_reasons(entries, self.cleaned_data["free_text"])

    def screenshot_ids(self) -> list[str]:
        return [s.strip() for s in self.cleaned_data["screenshots"].split("|") if s.strip()]


PERCENT_FIELDS = (
    "scripted_approve_pct",
    "scripted_reject_pct",
    "scripted_delay_pct",
    "error_rate_pct",
    "lost_push_pct",
)


class SettingsForm(forms.ModelForm):
    expire_tokens = forms.BooleanField(
        required=False, label=_("Expire every token issued so far (callers get 42001 and must refresh)")
    )

    class Meta:
        model = SimSettings
        fields = [
            "scripted_enabled",
            "scripted_after_seconds",
            "scripted_approve_pct",
            "scripted_reject_pct",
            "scripted_delay_pct",
            "error_rate_pct",
            "latency_ms",
            "pushes_enabled",
            "lost_push_pct",
            "quota_limit",
            "speedup_limit",
        ]
        labels = {
            "scripted_enabled": _("Scripted mode: decide every new submission automatically"),
            "scripted_after_seconds": _("Decide after (seconds)"),
            "scripted_approve_pct": _("Approve (%)"),
            "scripted_reject_pct": _("Reject (%)"),
            "scripted_delay_pct": _("Delay first (%)"),
            "error_rate_pct": _("API calls failing with -1 system error (%)"),
            "latency_ms": _("Added latency per API call (ms)"),
            "pushes_enabled": _("Push audit events"),
            "lost_push_pct": _("Pushes lost (%)"),
            "quota_limit": _("Monthly submit quota per platform"),
            "speedup_limit": _("Monthly speed-up quota per platform"),
        }

    def clean(self):
        data = super().clean()
        for name in PERCENT_FIELDS:
            if data.get(name) is not None and data[name] > 100:
                self.add_error(name, _("A percentage is at most 100."))
        odds = [data.get(n) or 0 for n in PERCENT_FIELDS[:3]]
        if data.get("scripted_enabled") and sum(odds) != 100:
            raise forms.ValidationError(_("Approve, reject and delay must add up to 100%."))
        if (data.get("latency_ms") or 0) > 30_000:
            self.add_error("latency_ms", _("At most 30000 ms."))
        return data
