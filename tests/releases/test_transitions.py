"""The whole transition graph pinned in one place, and what each role may do in each state."""

import pytest
from django_fsm import GET_STATE

from releases.actions import available_actions
from releases.models import FAILED_TO_IN_FLIGHT, IN_FLIGHT_TO_FAILED, Release, State

S = State

GRAPH = {
    S.DRAFT: {"edit": S.DRAFT, "mark_checked": S.CHECKED, "cancel": S.CANCELLED},
    S.CHECKED: {
        "edit": S.DRAFT,
        "approve": S.CHECKED,
        "send_back": S.DRAFT,
        "submit": S.SUBMITTING,
        "cancel": S.CANCELLED,
    },
    S.SUBMITTING: {"submit_succeeded": S.SUBMITTED, "step_failed": S.SUBMIT_FAILED},
    S.SUBMIT_FAILED: {"edit": S.DRAFT, "retry": S.SUBMITTING, "cancel": S.CANCELLED},
    S.SUBMITTED: {
        "review_approved": S.APPROVED,
        "review_rejected": S.REJECTED,
        "review_delayed": S.SUBMITTED,
        "withdraw": S.WITHDRAWING,
        "withdrawn_outside": S.WITHDRAWN,
        "resubmitted_outside": S.SUBMITTED,
        "speedup": S.SUBMITTED,
    },
    S.APPROVED: {
        "publish": S.PUBLISHING,
        "schedule_publish": S.APPROVED,
        "unschedule": S.APPROVED,
        "cancel": S.CANCELLED,
    },
    S.REJECTED: {
        "edit": S.DRAFT,
        "submit": S.SUBMITTING,
        "expire": S.EXPIRED,
        "cancel": S.CANCELLED,
        "resubmitted_outside": S.SUBMITTED,
    },
    S.WITHDRAWING: {"withdraw_succeeded": S.WITHDRAWN, "step_failed": S.WITHDRAW_FAILED},
    S.WITHDRAW_FAILED: {"retry": S.WITHDRAWING},
    S.WITHDRAWN: {"edit": S.DRAFT, "cancel": S.CANCELLED, "resubmitted_outside": S.SUBMITTED},
    S.PUBLISHING: {
        "publish_succeeded": S.PUBLISHED,
        "stage_succeeded": S.ROLLING_OUT,
        "step_failed": S.PUBLISH_FAILED,
        "rollout_halt": S.PUBLISHING,  # a breach while a stage is in flight: it lands halted
    },
    S.PUBLISH_FAILED: {"retry": S.PUBLISHING, "cancel": S.CANCELLED, "rollout_revert": S.REVERTING},
    S.PUBLISHED: {"rollback": S.ROLLING_BACK},
    S.ROLLING_BACK: {"rollback_succeeded": S.ROLLED_BACK, "step_failed": S.ROLLBACK_FAILED},
    S.ROLLBACK_FAILED: {"retry": S.ROLLING_BACK},
    S.ROLLED_BACK: {},
    S.ROLLING_OUT: {
        "rollout_advance": S.PUBLISHING,
        "rollout_pause": S.ROLLING_OUT,
        "rollout_resume": S.ROLLING_OUT,
        "rollout_halt": S.ROLLING_OUT,
        "rollout_revert": S.REVERTING,
        "rollout_changed_outside": S.ROLLING_OUT,
        "reverted_outside": S.APPROVED,
    },
    S.REVERTING: {"revert_phased_succeeded": S.APPROVED, "step_failed": S.REVERT_FAILED},
    S.REVERT_FAILED: {"retry": S.REVERTING},
    S.EXPIRED: {"edit": S.DRAFT, "cancel": S.CANCELLED},
    S.CANCELLED: {},
}

# Buttons per state for a release written by alice (developer), on the manual platform.
MANAGER = {
    S.DRAFT: ["check", "cancel"],
    S.CHECKED: ["approve", "send-back", "submit", "cancel"],
    S.SUBMITTED: ["record-outcome", "withdraw"],
    S.APPROVED: ["publish", "schedule-publish", "cancel"],
    S.REJECTED: ["submit", "cancel"],
    S.PUBLISHED: ["rollback"],
    S.SUBMIT_FAILED: ["retry", "cancel"],
    S.PUBLISH_FAILED: ["retry", "cancel"],
    S.WITHDRAW_FAILED: ["retry"],
    S.ROLLBACK_FAILED: ["retry"],
    S.REVERT_FAILED: ["retry"],
    S.WITHDRAWN: ["cancel"],
    S.EXPIRED: ["cancel"],
}
DEVELOPER = {S.DRAFT: ["check"]}
AUTHOR_MANAGER = {**MANAGER, S.CHECKED: ["submit", "cancel"]}


def _target(transition, state):
    if isinstance(transition.target, GET_STATE):
        mapping = IN_FLIGHT_TO_FAILED if transition.name == "step_failed" else FAILED_TO_IN_FLIGHT
        return mapping[state]
    return transition.target


@pytest.mark.parametrize("state", list(S))
def test_the_transition_graph_is_exactly_the_designed_one(state):
    release = Release(state=state)
    found = {t.name: _target(t, state) for t in release.get_all_state_transitions() if t.source == state}
    assert found == GRAPH[state]


@pytest.mark.parametrize("state", list(S))
def test_each_role_sees_exactly_its_actions_in_every_state(state, app, alice, mike, vera, make_release):
    release = make_release()
    Release.objects.filter(pk=release.pk).update(state=state)
    release.refresh_from_db()
    names = {user: [a.action.name for a in available_actions(release, user)] for user in (alice, mike, vera)}
    assert names[vera] == []
    assert names[alice] == DEVELOPER.get(state, [])
    assert names[mike] == MANAGER.get(state, [])


@pytest.mark.parametrize("state", [S.CHECKED, S.SUBMITTED])
def test_a_manager_who_wrote_the_release_cannot_decide_on_it(state, app, mike, make_release):
    from releases import services

    release = services.release_create(app=app, actor=mike, version="2.0.0", review_notes="A" * 20)
    Release.objects.filter(pk=release.pk).update(state=state)
    release.refresh_from_db()
    assert [a.action.name for a in available_actions(release, mike)] == AUTHOR_MANAGER[state]
