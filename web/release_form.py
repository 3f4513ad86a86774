"""The release form: version, notes, and the build report as fields a person can fill in.

The build report is what the checks read (releases/checks/): package sizes, pages, the
permissions and private APIs the code uses, the first-screen time and the error monitoring.
CI sends it whole (POST /api/v1/apps/{id}/builds); here it is typed field by field, sizes in
KB, lists one item per line. Keys the form does not show (plugins, store texts, whatever CI
sent besides) are kept as they are, and a field left as it was keeps its stored value exactly
(a size shown rounded to 0.1 KB is not written back rounded): saving the notes never changes
the report.
"""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from releases.errors import SluiceError
from releases.models import Release

KB = 1024
MAIN_KB, TOTAL_KB = 2 * KB, 20 * KB  # WeChat's limits (releases.checks.builtin.PackageSize)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _kb(size) -> Decimal | None:
    if isinstance(size, bool) or not isinstance(size, int | float):
        return None
    return (Decimal(size) / KB).quantize(Decimal("0.1")).normalize()


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
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    review_notes = forms.CharField(
        label=_("Review notes"),
        required=False,
        max_length=10_000,
        help_text=_(
            "For the platform's reviewer: what changed and where to find it (at least 10 characters)."
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    total_kb = forms.DecimalField(
        label=_("Total size (KB)"),
        required=False,
        min_value=0,
        max_digits=9,
        decimal_places=1,
        help_text=_(
            "All packages together, as miniprogram-ci reports __FULL__. "
            "WeChat allows at most 20 MB (20480 KB)."
        ),
        widget=forms.NumberInput(attrs={"placeholder": "1800", "step": "0.1"}),
    )
    main_kb = forms.DecimalField(
        label=_("Main package (KB)"),
        required=False,
        min_value=0,
        max_digits=9,
        decimal_places=1,
        help_text=_("The main package (__APP__): at most 2 MB (2048 KB)."),
        widget=forms.NumberInput(attrs={"placeholder": "1100", "step": "0.1"}),
    )
    subpackages = forms.CharField(
        label=_("Subpackages"),
        required=False,
        help_text=_(
            "One per line: the root and its size in KB, e.g. “packageOrder 700”. Each at most 2048 KB."
        ),
        widget=forms.Textarea(
            attrs={"rows": 2, "spellcheck": "false", "class": "mono", "placeholder": "packageOrder 700"}
        ),
    )
    pages = forms.CharField(
        label=pgettext_lazy("a mini-program's pages", "Pages"),
        required=False,
        help_text=_("One path per line, as app.json lists them, e.g. pages/index/index."),
        widget=forms.Textarea(
            attrs={"rows": 3, "spellcheck": "false", "class": "mono", "placeholder": "pages/index/index"}
        ),
    )
    permissions = forms.CharField(
        label=_("Permissions and private APIs"),
        required=False,
        help_text=_(
            "One per line, as app.json declares them in permission and requiredPrivateInfos, e.g. "
            "scope.userLocation or getLocation. The privacy check looks for each in the privacy policy."
        ),
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false", "class": "mono"}),
    )
    first_screen_ms = forms.IntegerField(
        label=_("First screen (ms)"),
        required=False,
        min_value=0,
        max_value=600_000,
        help_text=_("Time to the first screen on a mid-range phone, from your performance test."),
        widget=forms.NumberInput(attrs={"placeholder": "1200"}),
    )
    error_monitoring = forms.CharField(
        label=_("Error monitoring"),
        required=False,
        max_length=100,
        help_text=_("The tool that reports script errors in production, e.g. Sentry or Fundebug."),
        widget=forms.TextInput(attrs={"placeholder": "Sentry"}),
    )

    REPORT_FIELDS = (
        "total_kb",
        "main_kb",
        "subpackages",
        "pages",
        "permissions",
        "first_screen_ms",
        "error_monitoring",
    )

    def __init__(self, *args, report: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # The stored report the fields start from; what they do not show is kept.
        self.report = dict(report or {})
        # Optional to save a draft, but the checks refuse a release without them.
        self.fields["review_notes"].hint = _("needed to pass the checks")

    @staticmethod
    def initial_from(report: dict) -> dict:
        """The fields' initial values from a stored build report."""
        packages = [p for p in report.get("packages") or [] if isinstance(p, dict)]
        by_name = {p.get("name"): p.get("size") for p in packages}
        subs = [
            f"{str(p.get('name', '')).strip('/')} {_kb(p.get('size'))}"
            for p in packages
            if p.get("name") not in ("__FULL__", "__APP__")
        ]
        listed = {
            key: report.get(key) if isinstance(report.get(key), list) else []
            for key in ("pages", "permissions")
        }
        return {
            "total_kb": _kb(by_name.get("__FULL__")),
            "main_kb": _kb(by_name.get("__APP__")),
            "subpackages": "\n".join(subs),
            "pages": "\n".join(str(v) for v in listed["pages"]),
            "permissions": "\n".join(str(v) for v in listed["permissions"]),
            "first_screen_ms": report.get("first_screen_ms"),
            "error_monitoring": report.get("error_monitoring") or "",
        }

    @classmethod
    def for_release(cls, release: Release, data=None) -> "ReleaseForm":
        """The form prefilled with a release's current content, and the revision it shows in a
        hidden field: the save is based on that revision, and refused if the release moved on."""
        initial = {
            "version": release.version,
            "release_notes": release.release_notes,
            "review_notes": release.review_notes,
            **cls.initial_from(release.build_report if isinstance(release.build_report, dict) else {}),
            "revision": release.revision,
        }
        form = cls(data, initial=initial, report=release.build_report)
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
        form = type(self)(data, initial={**self.initial, "revision": revision}, report=self.report)
        form.fields["revision"] = self.fields["revision"]
        form.is_valid()
        return form

    def clean_subpackages(self) -> list[dict]:
        packages = []
        for number, line in enumerate(_lines(self.cleaned_data["subpackages"]), start=1):
            root, _space, size = line.rpartition(" ")
            try:
                kb = Decimal(size.strip())
            except ArithmeticError:
                kb = None
            if not root.strip() or kb is None or not kb.is_finite() or kb < 0:
                raise forms.ValidationError(
                    _(
                        "Line %(number)s: write the root, a space and the size in KB, "
                        "e.g. “packageOrder 700”."
                    ),
                    code="invalid_subpackage",
                    params={"number": number},
                )
            packages.append({"name": f"/{root.strip().strip('/')}/", "size": int(kb * KB)})
        return packages

    def _changed(self, name: str) -> bool:
        field = self.fields[name]
        return field.has_changed(
            self.get_initial_for_field(field, name), self.data.get(self.add_prefix(name))
        )

    def clean(self) -> dict:
        """Gather the report fields into `build_report`, on top of the stored report."""
        cleaned = super().clean()
        if any(name not in cleaned for name in self.REPORT_FIELDS):
            for name in self.REPORT_FIELDS:
                cleaned.pop(name, None)
            return cleaned
        report = dict(self.report)
        if any(self._changed(name) for name in ("total_kb", "main_kb", "subpackages")):
            packages = [
                {"name": name, "size": int(cleaned[field] * KB)}
                for name, field in (("__FULL__", "total_kb"), ("__APP__", "main_kb"))
                if cleaned[field] is not None
            ]
            report["packages"] = packages + cleaned["subpackages"]
        for key in ("pages", "permissions"):
            if self._changed(key):
                report[key] = _lines(cleaned[key])
        if self._changed("first_screen_ms"):
            report["first_screen_ms"] = cleaned["first_screen_ms"]
        if self._changed("error_monitoring"):
            report["error_monitoring"] = cleaned["error_monitoring"].strip() or None
        cleaned["build_report"] = {k: v for k, v in report.items() if v not in (None, [], "")}
        for name in self.REPORT_FIELDS:
            cleaned.pop(name)
        return cleaned

    def add_service_error(self, exc: SluiceError) -> None:
        """Show a refusal from the services: its message on top, its details on their fields.

        A detail about part of the build report ("build_report.packages") lands on the field
        that edits it; one that names no field is shown on top, so no reason is ever dropped.
        """
        self.add_error(None, exc.message)
        for key, problem in exc.details.items():
            field, _sep, part = str(key).partition(".")
            if field == "build_report":
                field = REPORT_KEY_FIELDS.get(part, "")
            if field in self.fields:
                self.add_error(field, str(problem))
            else:
                self.add_error(None, f"{key}: {problem}")


# Which form field edits a key of the build report (for the services' error details).
REPORT_KEY_FIELDS = {
    "packages": "subpackages",
    "pages": "pages",
    "permissions": "permissions",
    "first_screen_ms": "first_screen_ms",
    "error_monitoring": "error_monitoring",
}
