"""A phased (gray) release: the plan, where it stands, and the rules the platform enforces.

A release carries its rollout as one JSON value on its own row (`Release.rollout`), so every
change to it is made by a transition under the release's row lock, in the transaction that
writes its audit event; `Release.rollout_due_at` mirrors `next_stage_at` for the scheduler's
index. A plan is a list of stages, each a percentage and a hold time, ending at 100:

    [{"percentage": 5, "hold_minutes": 120}, {"percentage": 20, "hold_minutes": 480}, {"percentage": 100}]

The default plan of an app is `App.settings["rollout_plan"]`, a full release when unset.
WeChat refuses a percentage that does not grow (85082), so a plan must strictly increase.
"""

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext_noop

from releases.errors import Invalid

FULL_RELEASE = [{"percentage": 100}]
MAX_STAGES = 10
MAX_HOLD_MINUTES = 60 * 24 * 30


class Status:
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    HALTED = "halted"
    COMPLETED = "completed"
    REVERTED = "reverted"

    ALL = (SCHEDULED, RUNNING, PAUSED, HALTED, COMPLETED, REVERTED)


def _bad(message: str, field: str = "rollout") -> Invalid:
    return Invalid("invalid_rollout", message, details={field: message})


def parse_plan(value) -> dict:
    """{plan, experiencer_first, debuger_first} from what a client sent: a list of stages, or an
    object with `plan` and the two WeChat options. 400 `invalid_rollout` naming what is wrong."""
    options = {"experiencer_first": False, "debuger_first": False}
    if isinstance(value, dict):
        unknown = set(value) - {"plan", *options}
        if unknown:
            raise _bad(
                gettext_noop("Unknown rollout field(s): %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
            )
        for key in options:
            flag = value.get(key, False)
            if not isinstance(flag, bool):
                raise _bad(gettext_noop("“%(key)s” must be true or false.") % {"key": key})
            options[key] = flag
        value = value.get("plan")
    if not isinstance(value, list) or not value:
        raise _bad(gettext_noop("A rollout plan is a non-empty list of stages, each with a percentage."))
    if len(value) > MAX_STAGES:
        raise _bad(gettext_noop("A rollout plan has at most %(count)s stages.") % {"count": MAX_STAGES})
    stages, previous = [], -1
    for number, stage in enumerate(value, start=1):
        if not isinstance(stage, dict) or set(stage) - {"percentage", "hold_minutes"}:
            raise _bad(
                gettext_noop("Stage %(number)s must be an object with “percentage” and “hold_minutes”.")
                % {"number": number}
            )
        percentage, last = stage.get("percentage"), number == len(value)
        if isinstance(percentage, bool) or not isinstance(percentage, int) or not 0 <= percentage <= 100:
            raise _bad(
                gettext_noop("Stage %(number)s: the percentage must be a whole number from 0 to 100.")
                % {"number": number}
            )
        if percentage <= previous:
            raise _bad(
                gettext_noop(
                    "Stage %(number)s: percentages must only increase (%(percentage)s after %(previous)s); "
                    "the platform refuses a lower or equal one (85082)."
                )
                % {"number": number, "percentage": f"{percentage}%", "previous": f"{previous}%"}
            )
        if percentage == 0 and not (options["experiencer_first"] or options["debuger_first"]):
            raise _bad(
                gettext_noop("A %(zero)s stage only makes sense with experience or project members first.")
                % {"zero": "0%"}
            )
        hold = stage.get("hold_minutes", 0 if last else None)
        if isinstance(hold, bool) or not isinstance(hold, int) or not 0 <= hold <= MAX_HOLD_MINUTES:
            raise _bad(
                gettext_noop(
                    "Stage %(number)s: “hold_minutes” must be a whole number of minutes (0 to 43200)."
                )
                % {"number": number}
            )
        stages.append({"percentage": percentage, **({} if last else {"hold_minutes": hold})})
        previous = percentage
    if previous != 100:
        raise _bad(gettext_noop("The last stage of a rollout plan must be %(full)s.") % {"full": "100%"})
    return {"plan": stages, **options}


def from_text(text: str):
    """A plan typed in a form, "5:120, 20:480, 100" (percentage:hold minutes), as the list the
    API takes; blank means the app's default (None)."""
    text = (text or "").strip()
    if not text:
        return None
    stages = []
    for part in text.replace("→", ",").split(","):
        percentage, _, hold = part.strip().rstrip("%").partition(":")
        try:
            stage = {"percentage": int(percentage.strip().rstrip("%"))}
            if hold.strip():
                stage["hold_minutes"] = int(hold.strip())
        except ValueError:
            raise _bad(
                gettext_noop("“%(part)s” is not a stage; write percentage:minutes, e.g. 5:120, 20:480, 100.")
                % {"part": part.strip()}
            ) from None
        stages.append(stage)
    return stages


def default_plan(app) -> dict:
    """The app's default plan (its settings), or a full release when none is set."""
    configured = (app.settings or {}).get("rollout_plan")
    return parse_plan(configured) if configured else parse_plan(FULL_RELEASE)


def plan_text(plan: list[dict]) -> str:
    """5% (2 h) → 20% (8 h) → 100%: how the pages and audit data say a plan."""
    parts = []
    for stage in plan:
        hold = stage.get("hold_minutes")
        parts.append(f"{stage['percentage']}%" + (f" ({_duration(hold)})" if hold else ""))
    return " → ".join(parts)


def _duration(minutes: int) -> str:
    if minutes % 60 == 0 and minutes >= 60:
        return f"{minutes // 60} h"
    return f"{minutes} min"


def begin(parsed: dict) -> dict:
    """A new rollout about to make its first stage's call."""
    return {
        **parsed,
        "status": Status.RUNNING,
        "stage": 0,
        "target_stage": 1,
        "percentage": 0,
        "next_stage_at": None,
        "started_at": timezone.now().isoformat(),
        "halted_reason": "",
    }


def target_percentage(rollout: dict) -> int:
    """What the step in flight brings the platform to (100 without a rollout)."""
    if not rollout:
        return 100
    return rollout["plan"][rollout["target_stage"] - 1]["percentage"]


def is_full(rollout: dict) -> bool:
    return target_percentage(rollout) == 100


def stage_reached(rollout: dict, now: datetime | None = None) -> tuple[dict, datetime | None]:
    """The rollout once its target stage is live, and when the next stage is due (None at 100%,
    or while paused or halted: the hold starts again when it resumes)."""
    now = now or timezone.now()
    stage = rollout["target_stage"]
    current = rollout["plan"][stage - 1]
    reached = {**rollout, "stage": stage, "percentage": current["percentage"]}
    if current["percentage"] == 100:
        return {**reached, "status": Status.COMPLETED, "next_stage_at": None}, None
    due = now + timedelta(minutes=current.get("hold_minutes", 0))
    reached["stage_hold_minutes"] = current.get("hold_minutes", 0)
    if rollout["status"] in (Status.PAUSED, Status.HALTED):
        return {**reached, "next_stage_at": None}, None
    return {**reached, "status": Status.RUNNING, "next_stage_at": due.isoformat()}, due


def next_percentage(rollout: dict) -> int | None:
    """The percentage of the stage after the current one, None when there is none."""
    if not rollout or rollout.get("stage", 0) >= len(rollout.get("plan", [])):
        return None
    return rollout["plan"][rollout["stage"]]["percentage"]


def public(rollout: dict) -> dict | None:
    """What the API shows: {status, stage, percentage, next_stage_at, plan} and the options."""
    if not rollout:
        return None
    return {
        "status": rollout["status"],
        "stage": rollout["stage"],
        "percentage": rollout["percentage"],
        "next_stage_at": rollout.get("next_stage_at"),
        "plan": rollout["plan"],
        "experiencer_first": rollout.get("experiencer_first", False),
        "debuger_first": rollout.get("debuger_first", False),
        "halted_reason": rollout.get("halted_reason", ""),
    }
