"""The playbook library: seeded from the domain notes, edited into new versions, never rewritten."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from releases.errors import Invalid
from releases.models import Playbook, PlaybookVersion, RejectionCategory
from releases.playbooks import seed_douyin
from releases.playbooks.library import current_steps, library, playbook_publish
from releases.playbooks.seed import seed_playbooks


def test_seeding_creates_a_playbook_for_every_category_once_and_douyins_own_once(db):
    assert len(seed_playbooks()) == len(RejectionCategory) + len(seed_douyin.SEED)
    assert seed_playbooks() == []
    assert Playbook.objects.filter(platform="").count() == len(RejectionCategory)
    assert Playbook.objects.filter(platform="douyin").count() == len(seed_douyin.SEED)
    assert set(PlaybookVersion.objects.values_list("number", flat=True)) == {1}


def test_the_seed_follows_the_domain_table_of_remedies(db):
    seed_playbooks()
    privacy = current_steps(Playbook.objects.get(category="privacy_policy", platform=""))
    assert privacy[0]["title"] == "Explain every permission in the privacy policy"
    assert privacy[0]["check_key"] == "privacy_policy"
    performance = [
        s["check_key"] for s in current_steps(Playbook.objects.get(category="performance", platform=""))
    ]
    assert performance[:2] == ["package_size", "first_screen"]
    mismatch = current_steps(Playbook.objects.get(category="category_mismatch", platform=""))
    assert mismatch[0]["check_key"] == "category_features"


def test_the_command_is_idempotent(db):
    out = io.StringIO()
    call_command("seed_playbooks", stdout=out)
    call_command("seed_playbooks", stdout=out)
    assert f"Created {len(RejectionCategory) + len(seed_douyin.SEED)} playbook(s)" in out.getvalue()
    assert "nothing changed" in out.getvalue()


def test_seeding_never_overwrites_an_edited_playbook(db, adam):
    seed_playbooks()
    playbook = Playbook.objects.get(category="other", platform="")
    playbook_publish(playbook, steps=[{"key": "other.ask", "title": "Ask the reviewer"}], actor=adam)
    seed_playbooks()
    assert [s["key"] for s in current_steps(playbook)] == ["other.ask"]


def test_an_edit_is_a_new_version_and_the_old_one_stays(db, adam):
    seed_playbooks()
    playbook = Playbook.objects.get(category="performance", platform="")
    before = current_steps(playbook)
    version = playbook_publish(
        playbook,
        steps=[*before, {"key": "performance.images", "title": "Compress images"}],
        actor=adam,
        note="+images",
    )
    assert (version.number, version.created_by, version.note) == (2, adam, "+images")
    assert playbook.current == version
    first = playbook.versions.get(number=1)
    assert [s.key for s in first.steps.order_by("position")] == [s["key"] for s in before]


@pytest.mark.parametrize(
    ("steps", "code"),
    [
        ([], "no_steps"),
        ([{"key": "a", "title": ""}], "invalid_step"),
        ([{"key": "a", "title": "A"}, {"key": "a", "title": "B"}], "duplicate_step"),
    ],
)
def test_a_bad_edit_is_refused_and_changes_nothing(db, steps, code):
    seed_playbooks()
    playbook = Playbook.objects.get(category="other", platform="")
    with pytest.raises(Invalid) as refused:
        playbook_publish(playbook, steps=steps)
    assert refused.value.code == code
    assert playbook.versions.count() == 1


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "pw-root")


def _inline_post(version, changes: dict) -> dict:
    steps = list(version.steps.order_by("position", "pk"))
    data = {
        "note": "Edited in the admin",
        "steps-TOTAL_FORMS": str(len(steps)),
        "steps-INITIAL_FORMS": str(len(steps)),
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
    }
    for i, step in enumerate(steps):
        data.update(
            {
                f"steps-{i}-id": str(step.pk),
                f"steps-{i}-version": str(version.pk),
                f"steps-{i}-position": str(step.position),
                f"steps-{i}-key": step.key,
                f"steps-{i}-title": changes.get(step.key, step.title),
                f"steps-{i}-description": step.description,
                f"steps-{i}-check_key": step.check_key,
                f"steps-{i}-evidence": step.evidence,
            }
        )
        if step.required:
            data[f"steps-{i}-required"] = "on"
    return data


def test_saving_a_version_in_the_admin_publishes_a_new_one(client, staff):
    seed_playbooks()
    playbook = Playbook.objects.get(category="account_information", platform="")
    original = playbook.current
    client.force_login(staff)
    url = f"/admin/releases/playbookversion/{original.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(url, _inline_post(original, {"account_information.fix": "Fix name and avatar"}))
    assert response.status_code == 302, response.content.decode()[:2000]
    playbook.refresh_from_db()
    assert playbook.current.number == 2
    assert playbook.current.created_by == staff
    assert current_steps(playbook)[0]["title"] == "Fix name and avatar"
    original.refresh_from_db()
    assert (
        original.steps.order_by("position").first().title
        == "Fix the name, avatar or description in the platform console"
    )


def test_the_admin_lists_the_library_and_the_unknown_reasons(client, staff):
    seed_playbooks()
    client.force_login(staff)
    page = client.get("/admin/releases/playbook/").content.decode()
    assert "Edit (creates v2)" in page
    assert client.get("/admin/releases/unclassifiedreason/").status_code == 200


def test_the_library_lists_each_playbook_with_its_current_steps(db):
    seed_playbooks()
    rows = library()
    expected = [(c.value, "") for c in RejectionCategory] + [(c, "douyin") for c in seed_douyin.SEED]
    assert [(p.category, p.platform) for p, _, _ in rows] == sorted(expected)
    assert all(version.number == 1 and steps for _, version, steps in rows)
