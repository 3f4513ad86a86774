"""A fleet on the simulated WeChat: one platform account, several authorized apps, a creator
(alice, developer) and an approver (mike, release manager), and a worker run on demand."""

import copy
import json

import django_rq
import pytest

from config.workers import SimpleWorker
from releases.campaigns.driver import campaign_drive
from releases.campaigns.models import Campaign
from releases.campaigns.services import campaign_approve, campaign_create, campaign_start
from releases.models import App
from simulator.models import SimCall
from simulator.services import sim_configure, sim_register_authorizer
from tests.conftest import GOOD_REPORT
from tests.fixtures.wechat import COMPONENT_APPID

EXT_JSON = {"extAppid": "{{ appid }}", "ext": {"merchant": "{{ merchant_name }}", "tier": "{{ tier }}"}}
NOTES = "Menu and ordering for {{ merchant_name }}; points are granted after payment."


def work() -> None:
    """Every job queued so far (and those they queue), by an in-process worker."""
    queue = django_rq.get_queue("default")
    SimpleWorker([queue, django_rq.get_queue("platform")], connection=queue.connection).work(burst=True)


def calls(path: str = "wxa/submit_audit"):
    return SimCall.objects.filter(path=path).order_by("at", "pk")


def submits() -> list[dict]:
    return [json.loads(call.body) for call in calls()]


def submitted_appids() -> list[str]:
    return list(calls().values_list("appid", flat=True))


@pytest.fixture
def fleet(sim, team):
    """`fleet(n)`: n more authorized apps on the simulated platform account (the sim's own app too)."""
    sim_configure(pushes_enabled=True)

    def make(n: int) -> list[App]:
        apps = [sim.app]
        for i in range(1, n):
            appid = f"wxfleet{i:09d}"
            sim_register_authorizer(
                component_appid=COMPONENT_APPID, appid=appid, refresh_token=f"refresh-{appid}"
            )
            apps.append(
                App.objects.create(
                    team=team,
                    platform_account=sim.account,
                    name=f"Merchant {i:02d}",
                    appid=appid,
                    authorizer_refresh_token=f"refresh-{appid}",
                )
            )
        return apps

    return make


@pytest.fixture
def campaign(sim, alice, mike, settings):
    """`campaign(apps, reserve=0, approve=True)`: created and started by alice, prepared, approved
    by mike (nothing submitted until the test drives it)."""

    def make(apps, *, reserve=0, approve=True, **fields) -> Campaign:
        created, plan = campaign_create(
            account=sim.account,
            actor=alice,
            template_id="7",
            version=fields.pop("version", "2.0.0"),
            review_notes=NOTES,
            release_notes="Spring menu",
            ext_json=EXT_JSON,
            variables={app.appid: {"tier": "gold"} for app in apps},
            targets={"apps": [app.pk for app in apps]},
            reserve=reserve,
            build_report=copy.deepcopy(GOOD_REPORT),
            **fields,
        )
        created.plan = plan
        campaign_start(campaign=created, actor=alice)
        work()  # the driver's run: releases created, checklists ticked, checks run (and finished)
        campaign_drive(created.pk)
        created.refresh_from_db()
        if approve:
            campaign_approve(campaign=created, actor=mike)
            created.refresh_from_db()
        return created

    return make
