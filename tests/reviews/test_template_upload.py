"""A release naming a template ships exactly that code: uploaded before submitting, once.

Third-party platforms (issues 14 and 16) ship a template with each app's ext.json; the submit
step commits it as the trial version unless Sluice already uploaded that exact code.
"""

import json

from releases.fingerprint import content_hash
from releases.models import Release, State
from releases.services import release_step_perform
from tests.reviews.wechat_helpers import calls, in_flight


def with_code(release, template_id="7", ext_json=None):
    Release.objects.filter(pk=release.pk).update(
        template_id=template_id, ext_json=ext_json if ext_json is not None else {"extAppid": "wxshop"}
    )
    return Release.objects.get(pk=release.pk)


def test_a_release_naming_a_template_commits_it_before_it_is_submitted(sim, wechat_release):
    release = with_code(in_flight(wechat_release), ext_json={"ext": {"merchant": "Demo Cafe 咖啡"}})

    assert release_step_perform(release_id=release.pk).state == State.SUBMITTED

    (commit,) = calls("wxa/commit")
    body = json.loads(commit.body)
    assert body["template_id"] == 7  # a JSON number
    assert json.loads(body["ext_json"]) == {"ext": {"merchant": "Demo Cafe 咖啡"}}
    assert body["user_version"] == release.version
    assert commit.at <= calls("wxa/submit_audit").get().at


def test_the_same_code_already_uploaded_is_not_committed_again(sim, wechat_release):
    first = with_code(in_flight(wechat_release))
    release_step_perform(release_id=first.pk)
    Release.objects.filter(pk=first.pk).update(state=State.REJECTED)
    again = Release.objects.get(pk=first.pk)
    Release.objects.filter(pk=again.pk).update(state=State.SUBMITTING, in_flight_from=State.REJECTED)

    release_step_perform(release_id=again.pk)

    assert calls("wxa/commit").count() == 1
    assert calls("wxa/submit_audit").count() == 2


def test_other_ext_json_is_other_content_and_is_committed(sim, wechat_release):
    release = with_code(in_flight(wechat_release))
    hashed = content_hash(release)
    release_step_perform(release_id=release.pk)
    Release.objects.filter(pk=release.pk).update(
        state=State.SUBMITTING, in_flight_from=State.REJECTED, ext_json={"extAppid": "wxother"}
    )
    changed = Release.objects.get(pk=release.pk)

    release_step_perform(release_id=changed.pk)

    assert content_hash(changed) != hashed  # checks and approvals of the old code no longer count
    assert [json.loads(json.loads(c.body)["ext_json"]) for c in calls("wxa/commit")] == [
        {"extAppid": "wxshop"},
        {"extAppid": "wxother"},
    ]


def test_a_release_without_a_template_uploads_nothing(sim, wechat_release):
    release = in_flight(wechat_release)
    release_step_perform(release_id=release.pk)
    assert not calls("wxa/commit").exists()
    assert content_hash(release) == content_hash(Release.objects.get(pk=release.pk))
