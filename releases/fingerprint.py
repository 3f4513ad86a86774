"""The content a check run or a checklist tick vouches for, as one SHA-256 (issue 11).

A run and its ticks name the revision they saw, and also the hash of the content the checks
read; they count only while the release still has exactly that content, whatever wrote it
(a stale save, a direct database write). Pure: the migration that stamped the runs and ticks
stored before this existed uses it too.
"""

import hashlib
import json

# What the checks read of a release (releases/checks/): everything else they read is the app's.
CONTENT_FIELDS = ("version", "release_notes", "review_notes", "build_report")
# The commit CI built it from (issue 15): a new commit is new content even when its report reads
# the same. Hashed only when set, so the hashes of releases without a build never changed.
# The template and ext.json a third-party platform ships (issues 14 and 16): hashed only when set too.
CODE_FIELDS = ("template_id", "ext_json")
HASHED_FIELDS = (*CONTENT_FIELDS, "build_commit", *CODE_FIELDS)


def content_hash(values) -> str:
    """The hash of a release's content: `values` is a Release, or anything with those attributes.

    Canonical JSON (sorted keys, no spacing), so a build report reads the same after a trip
    through the database, whose JSON column does not keep key order.
    """
    content = [getattr(values, name) for name in CONTENT_FIELDS]
    if commit := getattr(values, "build_commit", ""):
        content.append({"commit": commit})
    if code := code_identity(values):
        content.append({"code": code})
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def code_identity(values) -> str:
    """What names the uploaded code exactly: the template and the app's ext.json, canonical.

    Empty for a release that ships no template (its code is uploaded outside Sluice). The adapter
    compares it with the platform's test version to upload only when it differs.
    """
    template_id = getattr(values, "template_id", "") or ""
    if not template_id:
        return ""
    ext = getattr(values, "ext_json", None) or {}
    canonical = json.dumps([template_id, ext], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
