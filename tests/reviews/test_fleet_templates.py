"""The template draft box and library (issue 14, wechat-fleet.md §2), synced from the simulated
WeChat over HTTP, and the 200-template limit refused before WeChat is asked."""

import pytest

from releases.models import AuditEvent
from reviews.models import CodeTemplate, TemplateDraft
from simulator.fleet import sim_add_draft
from simulator.models import SimComponent, SimTemplate
from tests.fixtures.wechat import COMPONENT_APPID
from tests.reviews.wechat_helpers import calls


@pytest.fixture
def library(sim):
    """Two drafts in the simulated draft box; the library is empty."""
    sim_add_draft(COMPONENT_APPID, "1.0.0", "first")
    sim_add_draft(COMPONENT_APPID, "1.1.0", "points")
    return f"/platform-accounts/{sim.account.pk}/templates"


def fill_library(count: int) -> None:
    component = SimComponent.objects.get(appid=COMPONENT_APPID)
    SimTemplate.objects.bulk_create(
        SimTemplate(component=component, template_id=1000 + n, draft_id=1, user_version=f"0.{n}")
        for n in range(count)
    )


def test_a_sync_mirrors_the_draft_box_and_the_library(library, api_client, mike, vera):
    fill_library(2)

    synced = api_client("post", f"{library}/sync", user=mike)

    assert synced.status_code == 200 and synced.json() == {"drafts": 2, "templates": 2}
    listed = api_client("get", library, user=vera).json()["results"]
    assert [t["template_id"] for t in listed] == [1001, 1000]
    drafts = api_client("get", library.replace("templates", "template-drafts"), user=vera).json()["results"]
    assert [(d["user_version"], d["user_desc"]) for d in drafts] == [("1.1.0", "points"), ("1.0.0", "first")]
    assert calls("wxa/gettemplatelist").get().query == {"template_type": "0"}


def test_a_draft_becomes_a_template_with_its_version_and_description(library, api_client, mike):
    api_client("post", f"{library}/sync", user=mike)
    draft = TemplateDraft.objects.get(user_version="1.1.0")

    added = api_client("post", library, user=mike, draft_id=draft.draft_id)

    assert added.status_code == 201, added.content
    body = added.json()
    assert (body["draft_id"], body["user_version"], body["user_desc"]) == (draft.draft_id, "1.1.0", "points")
    assert CodeTemplate.objects.filter(template_id=body["template_id"]).exists()
    assert AuditEvent.objects.filter(action="template_add").count() == 1


def test_a_full_library_is_refused_with_409_before_wechat_is_asked(library, api_client, mike):
    fill_library(200)
    api_client("post", f"{library}/sync", user=mike)
    draft = TemplateDraft.objects.first()

    refused = api_client("post", library, user=mike, draft_id=draft.draft_id)

    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "template_library_full"
    assert "200" in refused.json()["error"]["message"]
    assert not calls("wxa/addtotemplate").exists()
    assert CodeTemplate.objects.count() == 200


def test_wechats_own_full_library_answer_is_the_same_409(library, api_client, mike):
    api_client("post", f"{library}/sync", user=mike)
    fill_library(200)  # filled on WeChat's side after our sync: our mirror does not know yet

    refused = api_client("post", library, user=mike, draft_id=TemplateDraft.objects.first().draft_id)

    assert refused.status_code == 409
    assert calls("wxa/addtotemplate").get().errcode == 85065


def test_a_template_is_deleted_on_wechat_and_in_the_mirror(library, api_client, mike):
    fill_library(1)
    api_client("post", f"{library}/sync", user=mike)

    deleted = api_client("delete", f"{library}/1000", user=mike)

    assert deleted.status_code == 204
    assert not SimTemplate.objects.exists() and not CodeTemplate.objects.exists()
    assert api_client("delete", f"{library}/1000", user=mike).status_code == 404


def test_only_release_managers_change_the_library_and_other_teams_see_nothing(
    library, api_client, vera, olga
):
    assert api_client("post", f"{library}/sync", user=vera).status_code == 403
    assert api_client("get", library, user=olga).status_code == 404
    assert not calls("wxa/gettemplatelist").exists()
