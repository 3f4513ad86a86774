"""After approval: the health reports of phased releases and the emergency stop of an app.

The release actions of phased releases (rollout-advance, -pause, -resume, -revert, rollback,
speedup) are POST /releases/{id}/{action} in web/api/releases.py; these two take bodies of
their own, so they are routed before that catch-all."""

from datetime import datetime
from typing import Literal

from ninja import Router, Schema
from pydantic import Field

from releases import rollout as phased
from releases import selectors
from releases.health_services import METRIC, release_health_report
from releases.urgent_services import app_service_set
from releases.windows import team_publish_policy_set
from web.api.core import client_ip, get_or_404
from web.api.schemas.common import ERRORS, Strict, checked_text

router = Router()


class HealthIn(Strict):
    metric: str = Field(pattern=METRIC.pattern, description="e.g. js_error_rate")
    value: float = Field(description="The metric's current value, e.g. 0.031.")


class HealthOut(Schema):
    release: int
    metric: str
    value: float
    breached: bool
    at: datetime
    rollout: dict | None


@router.post("/releases/{release_id}/health", response={200: HealthOut, **ERRORS}, tags=["releases"])
def report_health(request, release_id: int, payload: HealthIn):
    """A metric from monitoring, judged against the app's thresholds (`settings.health.metrics`):
    a breach halts the phased release (and reverts it when `settings.health.auto_revert`); a
    required metric not reported within its window keeps the next stage from starting."""
    release = get_or_404(selectors.releases_for(request.user), release_id)
    sample = release_health_report(
        release=release, actor=request.user, metric=payload.metric, value=payload.value, ip=client_ip(request)
    )
    release.refresh_from_db()
    return {
        "release": release.pk,
        "metric": sample.metric,
        "value": sample.value,
        "breached": sample.breached,
        "at": sample.at,
        "rollout": phased.public(release.rollout),
    }


class ServiceIn(Strict):
    online: bool
    reason: str = checked_text(10_000)


class ServiceErrorOut(Schema):
    code: str
    message: str


class ServiceOut(Schema):
    app: int
    online: bool  # what the platform last confirmed
    # online, going_offline, offline, stop_failed, going_online, start_failed (the change's state)
    state: str
    reason: str
    changed_at: datetime | None
    error: ServiceErrorOut | None = None  # why the last change failed (stop_failed, start_failed)


@router.post("/apps/{app_id}/service", response={200: ServiceOut, **ERRORS}, tags=["apps"])
def set_service(request, app_id: int, payload: ServiceIn):
    """The emergency stop (team admins): `{"online": false, "reason": "..."}` takes the app's
    service offline on the platform (WeChat's change_visitstatus close), `true` brings it back.
    `state` goes through going_offline / going_online while the platform is called; a refusal is a
    409 with the platform's code and leaves `stop_failed` / `start_failed`; a second change while
    one is in flight is a 409 `service_change_in_flight`."""
    app = get_or_404(selectors.apps_for(request.user), app_id)
    app = app_service_set(
        app=app, actor=request.user, online=payload.online, reason=payload.reason, ip=client_ip(request)
    )
    return service_out(app)


def service_out(app) -> dict:
    return {
        "app": app.pk,
        "online": app.service_online,
        "state": app.service_state,
        "reason": app.service_reason,
        "changed_at": app.service_changed_at,
        "error": (
            {"code": app.service_error_code, "message": app.service_error} if app.service_error else None
        ),
    }


@router.get("/apps/{app_id}/service", response={200: ServiceOut, **ERRORS}, tags=["apps"])
def get_service(request, app_id: int):
    """The app's service on the platform and the state of the last change (the emergency stop)."""
    return service_out(get_or_404(selectors.apps_for(request.user), app_id))


class PublishPolicyOut(Schema):
    team: int
    publish_policy: dict


@router.get("/teams/{team_id}/publish-policy", response={200: PublishPolicyOut, **ERRORS}, tags=["apps"])
def get_publish_policy(request, team_id: int):
    """The team's publish windows and freezes (an app may replace them in `settings.publish_window`)."""
    team = get_or_404(selectors.teams_for(request.user), team_id)
    return {"team": team.pk, "publish_policy": team.publish_policy or {}}


Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class WindowIn(Strict):
    days: list[Day] = Field(min_length=1)
    from_: str = Field(alias="from", pattern=CLOCK, description="Beijing time, e.g. 10:00")
    to: str = Field(pattern=CLOCK, description="Beijing time, after `from`, e.g. 16:00")


class FreezeIn(Strict):
    from_: datetime = Field(alias="from", description="ISO-8601; Beijing time without an offset")
    to: datetime = Field(description="after `from`")
    reason: str = checked_text(500)


class PolicyIn(Strict):
    windows: list[WindowIn] = []
    working_days_only: bool = False
    freezes: list[FreezeIn] = []
    advance_in_window: bool = False


class PublishPolicyIn(Strict):
    publish_policy: PolicyIn


@router.put("/teams/{team_id}/publish-policy", response={200: PublishPolicyOut, **ERRORS}, tags=["apps"])
def put_publish_policy(request, team_id: int, payload: PublishPolicyIn):
    """Replace the team's publish policy (team admins): `{"windows": [{"days": ["mon", "tue"],
    "from": "10:00", "to": "16:00"}], "working_days_only": true, "freezes": [{"from": ISO, "to": ISO,
    "reason": "Double 11"}], "advance_in_window": false}`; 400 `invalid_publish_policy` if wrong."""
    team = get_or_404(selectors.teams_for(request.user), team_id)
    policy = payload.publish_policy.model_dump(by_alias=True, mode="json")
    team = team_publish_policy_set(team=team, actor=request.user, policy=policy, ip=client_ip(request))
    return {"team": team.pk, "publish_policy": team.publish_policy}
