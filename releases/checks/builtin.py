"""The first built-in checks. Limits follow WeChat's published rules (domain README)."""

import re

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from releases.checks.base import Check, Outcome, register
from releases.versioning import parse

PLACEHOLDER_NOTES = re.compile(
    r"^\s*(test|testing|bug ?fix(es)?|update|更新|修复|测试|优化|fix|none|n/?a|-+|\.+)\s*$", re.I
)
MIN_REVIEW_NOTES = 10
MB = 1024 * 1024


@register
class VersionIsSemantic(Check):
    key = "version_semantic"
    title = _("Version is a semantic version")
    explanation = _("Platforms compare versions numerically; use MAJOR.MINOR.PATCH such as 1.4.0.")

    def run(self, release) -> Outcome:
        if parse(release.version) is None:
            return Outcome(
                False,
                gettext_noop("“%(version)s” is not a semantic version (e.g. 1.4.0).")
                % {"version": release.version},
                {"version": release.version},
            )
        return Outcome(True)


@register
class VersionIsNewer(Check):
    key = "version_newer"
    title = _("Version is greater than the latest published one")
    explanation = _("The platform refuses a version that does not move forward.")

    def run(self, release) -> Outcome:
        from releases.selectors import latest_published_version

        latest = latest_published_version(release.app, exclude_release_id=release.pk)
        mine = parse(release.version)
        if latest is None or mine is None:
            return Outcome(True, gettext_noop("No published version yet.") if latest is None else "")
        if mine <= parse(latest):
            return Outcome(
                False,
                gettext_noop("%(version)s is not greater than the published %(latest)s.")
                % {"version": release.version, "latest": latest},
                {"version": release.version, "latest_published": latest},
            )
        return Outcome(True)


@register
class ReviewNotesPresent(Check):
    key = "review_notes"
    title = _("Review notes tell the reviewer what changed")
    explanation = _(
        "Reviewers reject versions whose notes do not explain what to look at. Describe the new "
        "features and where to find them; a bare “test” or “更新” is not enough."
    )

    def run(self, release) -> Outcome:
        notes = release.review_notes.strip()
        if not notes:
            return Outcome(False, gettext_noop("Review notes are empty."), {"review_notes": ""})
        if PLACEHOLDER_NOTES.match(notes):
            return Outcome(
                False,
                gettext_noop("“%(notes)s” is a placeholder, not a description.") % {"notes": notes},
                {"review_notes": notes},
            )
        if len(notes) < MIN_REVIEW_NOTES:
            return Outcome(
                False,
                gettext_noop("Review notes are %(count)s characters; write at least %(minimum)s.")
                % {"count": len(notes), "minimum": MIN_REVIEW_NOTES},
                {"review_notes": notes},
            )
        return Outcome(True)


@register
class PackageSize(Check):
    key = "package_size"
    platforms = ("wechat", "manual")  # WeChat's published limits; Douyin's are not in the reference
    title = _("Packages within the size limits")
    explanation = _("WeChat allows at most 2 MB for the main package and each subpackage, 20 MB in total.")
    main_limit = 2 * MB
    total_limit = 20 * MB

    def run(self, release) -> Outcome:
        packages = release.build_report.get("packages") or []
        if not packages:
            return Outcome(True, gettext_noop("The build report lists no packages."))
        oversized = [
            p for p in packages if p.get("name") != "__FULL__" and p.get("size", 0) > self.main_limit
        ]
        total = next((p.get("size", 0) for p in packages if p.get("name") == "__FULL__"), None)
        if total is None:
            total = sum(p.get("size", 0) for p in packages)
        if oversized or total > self.total_limit:
            parts = [
                gettext_noop("%(name)s is %(size)s MB") % {"name": p["name"], "size": f"{p['size'] / MB:.2f}"}
                for p in oversized
            ]
            if total > self.total_limit:
                parts.append(gettext_noop("the total is %(size)s MB") % {"size": f"{total / MB:.2f}"})
            return Outcome(
                False,
                gettext_noop("%(problems)s (limits: 2 MB each, 20 MB total).")
                % {"problems": "; ".join(parts)},
                {"oversized": oversized, "total": total},
            )
        return Outcome(True)
