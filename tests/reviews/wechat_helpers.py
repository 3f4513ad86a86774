"""Helpers shared by the WeChat adapter, token, polling and crash tests."""

import pytest
from django.utils import timezone

from releases.models import Release, State
from releases.platforms import adapter_for
from reviews.platforms.wechat.adapter import WeChatAdapter
from reviews.platforms.wechat.errors import ERRCODES, WeChatError
from simulator.models import SimCall
from simulator.services import sim_decide

REJECTION = "1:账号信息不符合规范:<br>(1):包含色情因素<br>"


def calls(path: str):
    return SimCall.objects.filter(path=path).order_by("at", "pk")


def adapter(sim) -> WeChatAdapter:
    return adapter_for(sim.account)


def refused(errcode: int, call, *args, **kwargs) -> WeChatError:
    with pytest.raises(WeChatError) as caught:
        call(*args, **kwargs)
    assert caught.value.errcode == errcode
    assert caught.value.code == f"wechat_{errcode}"
    assert caught.value.message == ERRCODES[errcode].sentence
    return caught.value


def submitted(sim, **fields) -> int:
    return (
        adapter(sim).submit_audit(sim.app, version_desc=fields.pop("version_desc", "notes"), **fields).auditid
    )


def released_version(sim) -> None:
    auditid = submitted(sim)
    sim_decide(auditid=auditid, outcome="approved")
    adapter(sim).release(sim.app)


def in_flight(wechat_release, state=State.SUBMITTING, *, came_from=State.CHECKED, audit_id=""):
    release = wechat_release(state=state, audit_id=audit_id)
    Release.objects.filter(pk=release.pk).update(in_flight_from=came_from, state_changed_at=timezone.now())
    return Release.objects.get(pk=release.pk)
