"""`manage.py seed_scale` at a small scale: exact counts, a valid audit chain, consistent stories,
the demo users in the big team, and a second run refused unless forced."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count, OuterRef, Subquery

from bench.scale import APPID_PREFIX, BIG_TEAM
from releases import selectors
from releases.audit import audit_verify
from releases.models import (
    App,
    Approval,
    AuditChainHead,
    AuditEvent,
    ChecklistTick,
    CheckRun,
    Membership,
    Rejection,
    Release,
    RemediationTask,
    Role,
    State,
    Team,
)
from reviews.models import ReviewWatch
from reviews.rejections import classify_reason

SMALL = ["--apps", "20", "--releases-per-app", "10", "--events", "2000"]


def _seed(*extra):
    call_command("seed_scale", *SMALL, *extra, stdout=_Sink())


class _Sink:
    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text


@pytest.fixture
def seeded(db):
    _seed()


def test_it_creates_exactly_the_apps_releases_and_events_asked_for(seeded):
    apps = App.objects.filter(appid__startswith=APPID_PREFIX)
    assert apps.count() == 20
    assert Release.objects.filter(app__in=apps).count() == 200
    assert set(
        Release.objects.filter(app__in=apps).values("app").annotate(n=Count("id")).values_list("n", flat=True)
    ) == {10}
    assert AuditEvent.objects.count() == 2000
    assert AuditChainHead.objects.get(pk=1).count == 2000


def test_the_audit_chain_verifies_afterwards(seeded):
    report = audit_verify()
    assert report.ok, report.problem
    assert report.checked == 2000
    call_command("verify_audit", stdout=_Sink())


def test_the_generated_data_spans_both_platforms_several_teams_and_many_states(seeded):
    apps = App.objects.filter(appid__startswith=APPID_PREFIX)
    assert set(apps.values_list("platform_account__platform", flat=True)) == {"wechat", "manual"}
    assert apps.values("team").distinct().count() == 5
    states = set(Release.objects.filter(app__in=apps).values_list("state", flat=True))
    assert {State.PUBLISHED, State.CANCELLED} <= states
    assert len(states) >= 6
    assert Rejection.objects.exists() and RemediationTask.objects.exists()


def test_the_demo_users_are_in_the_big_team_and_see_its_apps_but_no_other_team_s(seeded):
    team = Team.objects.get(name=BIG_TEAM)
    roles = dict(Membership.objects.filter(team=team).values_list("user__username", "role"))
    assert roles["admin"] == Role.ADMIN
    assert roles["manager"] == Role.RELEASE_MANAGER
    assert roles["dev"] == Role.DEVELOPER
    assert roles["viewer"] == Role.VIEWER
    manager = get_user_model().objects.get(username="manager")
    assert manager.check_password("sluice-demo")
    visible = set(selectors.apps_for(manager).values_list("pk", flat=True))
    assert visible == set(App.objects.filter(team=team).values_list("pk", flat=True))
    assert App.objects.filter(appid__startswith=APPID_PREFIX).exclude(team=team).exists()


def test_every_release_is_in_the_state_its_audit_trail_ends_in(seeded):
    last = (
        AuditEvent.objects.filter(release_id=OuterRef("pk"))
        .exclude(to_state="")
        .order_by("-id")
        .values("to_state")[:1]
    )
    rows = Release.objects.annotate(trail=Subquery(last)).values_list(
        "state", "trail", "created_at", "updated_at"
    )
    for state, trail, created, updated in rows:
        assert state == trail
        assert created <= updated


def test_each_event_kind_is_backed_by_its_row(seeded):
    assert CheckRun.objects.count() == AuditEvent.objects.filter(action="check").count()
    assert Approval.objects.count() == AuditEvent.objects.filter(action="approve").count()
    assert ChecklistTick.objects.count() == AuditEvent.objects.filter(action="checklist_confirm").count()
    rejected = AuditEvent.objects.filter(action="review_rejected")
    assert set(Rejection.objects.values_list("audit_event_id", flat=True)) == set(
        rejected.values_list("pk", flat=True)
    )
    for rejection in Rejection.objects.all():
        assert rejection.items == classify_reason(rejection.reason)
        assert rejection.tasks.exists() or RemediationTask.objects.filter(release=rejection.release).exists()
    in_review = Release.objects.filter(state=State.SUBMITTED, app__platform_account__platform="wechat")
    assert ReviewWatch.objects.filter(active=True).count() == in_review.count()


def test_events_come_in_time_order_and_humans_act_with_their_names(seeded):
    ats = list(AuditEvent.objects.order_by("id").values_list("at", flat=True))
    assert ats == sorted(ats)
    names = dict(get_user_model().objects.values_list("pk", "username"))
    for actor_id, actor_name in AuditEvent.objects.exclude(actor_id=None).values_list(
        "actor_id", "actor_name"
    ):
        assert names[actor_id] == actor_name


def test_a_second_run_is_refused_unless_forced_and_a_forced_one_extends_the_chain(seeded):
    with pytest.raises(CommandError, match="--force"):
        _seed()
    _seed("--force")
    assert App.objects.filter(appid__startswith=APPID_PREFIX).count() == 40
    assert AuditEvent.objects.count() == 4000
    assert audit_verify().ok


def test_it_continues_the_chain_after_events_written_by_the_services(make_release):
    make_release("1.0.0", upto="published")
    before = AuditEvent.objects.count()
    last_hash = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    _seed()
    first = AuditEvent.objects.order_by("id")[before]
    assert first.prev_hash == last_hash
    assert AuditEvent.objects.count() == before + 2000
    assert audit_verify().ok


def test_asking_for_fewer_events_than_the_stories_need_writes_nothing(db):
    with pytest.raises(CommandError, match="--events"):
        call_command(
            "seed_scale", "--apps", "20", "--releases-per-app", "10", "--events", "100", stdout=_Sink()
        )
    assert not App.objects.filter(appid__startswith=APPID_PREFIX).exists()
    assert not AuditEvent.objects.exists()
