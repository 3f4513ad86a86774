"""The playbook library: each edit publishes a new version; old versions stay, and tasks keep
a link to the version they were planned from."""

from django.db import transaction
from django.db.models import Max

from releases.errors import Invalid
from releases.models import Playbook, PlaybookStep, PlaybookVersion

STEP_FIELDS = ("key", "title", "description", "required", "check_key", "evidence")


def _validated(steps: list[dict]) -> list[dict]:
    cleaned, keys = [], set()
    for index, step in enumerate(steps, 1):
        key, title = str(step.get("key", "")).strip(), str(step.get("title", "")).strip()
        if not key or not title:
            raise Invalid("invalid_step", f"Step {index} needs a key and a title.")
        if key in keys:
            raise Invalid("duplicate_step", f"Step key “{key}” appears twice in the playbook.")
        keys.add(key)
        cleaned.append(
            {
                "key": key,
                "title": title,
                "description": str(step.get("description", "")).strip(),
                "required": bool(step.get("required", True)),
                "check_key": str(step.get("check_key", "") or "").strip(),
                "evidence": str(step.get("evidence", "")).strip(),
            }
        )
    if not cleaned:
        raise Invalid("no_steps", "A playbook needs at least one step.")
    return cleaned


def playbook_publish(playbook: Playbook, *, steps: list[dict], actor=None, note: str = "") -> PlaybookVersion:
    """Publish `steps` as the playbook's next version (the current one stays as history)."""
    steps = _validated(steps)
    with transaction.atomic():
        Playbook.objects.select_for_update().filter(pk=playbook.pk).first()
        number = (playbook.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = PlaybookVersion.objects.create(
            playbook=playbook, number=number, note=note, created_by=actor
        )
        PlaybookStep.objects.bulk_create(
            PlaybookStep(version=version, position=i, **step) for i, step in enumerate(steps, 1)
        )
    return version


def current_steps(playbook: Playbook) -> list[dict]:
    version = playbook.current
    if version is None:
        return []
    return [{f: getattr(s, f) for f in STEP_FIELDS} for s in version.steps.order_by("position", "pk")]


def library() -> list[tuple[Playbook, PlaybookVersion | None, list[PlaybookStep]]]:
    """Every playbook with its current version and steps, for the list page."""
    rows = []
    for playbook in Playbook.objects.prefetch_related("versions__steps").order_by("category", "platform"):
        versions = sorted(playbook.versions.all(), key=lambda v: v.number, reverse=True)
        current = versions[0] if versions else None
        steps = sorted(current.steps.all(), key=lambda s: (s.position, s.pk)) if current else []
        rows.append((playbook, current, steps))
    return rows
