"""The audit trail: one event per change, in the change's transaction, tamper-evident."""

import itertools
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections

from releases import services
from releases.audit import audit_verify
from releases.errors import Refused
from releases.models import AuditEvent, Release, State


def _events(release):
    return list(
        AuditEvent.objects.filter(release_id=release.pk).values_list("action", "from_state", "to_state")
    )


def test_every_step_of_a_release_writes_exactly_one_event(make_release, alice, mike, tick_checklist):
    release = tick_checklist(make_release(), alice)
    calls = [
        (lambda: services.release_check(release=release, actor=alice), [("check", "draft", "checked")]),
        (lambda: services.release_approve(release=release, actor=mike), [("approve", "checked", "checked")]),
        (
            lambda: services.release_submit(release=release, actor=mike),
            [("submit", "checked", "submitting"), ("submit_succeeded", "submitting", "submitted")],
        ),
        (
            lambda: services.release_record_outcome(
                release=release, actor=mike, outcome="delayed", reason="假期"
            ),
            [("review_delayed", "submitted", "submitted")],
        ),
        (
            lambda: services.release_record_outcome(release=release, actor=mike, outcome="approved"),
            [("review_approved", "submitted", "approved")],
        ),
        (
            lambda: services.release_publish(release=release, actor=mike),
            [("publish", "approved", "publishing"), ("publish_succeeded", "publishing", "published")],
        ),
    ]
    for call, expected in calls:
        before = len(_events(release))
        call()
        assert _events(release)[before:] == expected
    release.refresh_from_db()
    assert release.state == State.PUBLISHED
    event = AuditEvent.objects.filter(release_id=release.pk, action="publish").get()
    assert (event.actor_id, event.actor_name, event.team_id, event.app_id) == (
        mike.pk,
        "mike",
        release.app.team_id,
        release.app_id,
    )


def test_a_system_decision_already_recorded_writes_no_second_event(make_release):
    release = make_release(upto="submitted")
    services.release_review_decided(release=release, outcome="approved")
    again = Release.objects.get(pk=release.pk)
    assert services.release_review_decided(release=again, outcome="approved") is None
    assert [e[0] for e in _events(release)].count("review_approved") == 1


@pytest.mark.django_db(transaction=True)
def test_a_failed_audit_write_rolls_the_transition_back(make_release, mike):
    release = make_release(upto="approved_by_manager")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse_insert() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full'; END; $$"
            " LANGUAGE plpgsql; CREATE TRIGGER refuse_insert BEFORE INSERT ON releases_auditevent"
            " FOR EACH ROW EXECUTE FUNCTION refuse_insert();"
        )
    try:
        with pytest.raises(DatabaseError):
            services.release_cancel(release=release, actor=mike)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "DROP TRIGGER refuse_insert ON releases_auditevent; DROP FUNCTION refuse_insert();"
            )
    assert Release.objects.get(pk=release.pk).state == State.CHECKED


def test_the_database_refuses_to_update_or_delete_audit_events(make_release):
    make_release()
    for statement in ("UPDATE releases_auditevent SET action = 'x'", "DELETE FROM releases_auditevent"):
        with pytest.raises(DatabaseError, match="append-only"), connection.cursor() as cursor:
            # a savepoint so the test transaction survives the refused statement
            cursor.execute("SAVEPOINT s")
            try:
                cursor.execute(statement)
            finally:
                cursor.execute("ROLLBACK TO SAVEPOINT s")


def test_verify_audit_names_the_first_tampered_event(make_release):
    make_release("1.0.0", upto="published")
    call_command("verify_audit")  # intact
    victim = AuditEvent.objects.filter(action="approve").get()
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE releases_auditevent DISABLE TRIGGER releases_auditevent_append_only")
        cursor.execute("UPDATE releases_auditevent SET actor_name = 'mallory' WHERE id = %s", [victim.pk])
        cursor.execute("ALTER TABLE releases_auditevent ENABLE TRIGGER releases_auditevent_append_only")
    with pytest.raises(CommandError, match=f"event #{victim.pk}: its content does not match"):
        call_command("verify_audit")


def test_verify_audit_notices_a_deleted_event(make_release):
    make_release("1.0.0", upto="published")
    first, second = AuditEvent.objects.order_by("id")[:2]
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE releases_auditevent DISABLE TRIGGER releases_auditevent_append_only")
        cursor.execute("DELETE FROM releases_auditevent WHERE id = %s", [first.pk])
        cursor.execute("ALTER TABLE releases_auditevent ENABLE TRIGGER releases_auditevent_append_only")
    report = audit_verify()
    assert (report.ok, report.broken_id) == (False, second.pk)


def _race(target, count=2):
    barrier = threading.Barrier(count)
    outcomes = []

    def run():
        try:
            barrier.wait()
            outcomes.append(target())
        except Exception as exc:  # collected and asserted by the caller
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_connections_transitioning_one_release_have_one_winner(make_release, mike, nina):
    release = make_release(upto="approved_by_manager")
    copies = iter([Release.objects.get(pk=release.pk), Release.objects.get(pk=release.pk)])
    actors = iter([mike, nina])
    lock = threading.Lock()

    def cancel():
        with lock:
            copy, actor = next(copies), next(actors)
        return services.release_cancel(release=copy, actor=actor)

    outcomes = _race(cancel)
    refusals = [o for o in outcomes if isinstance(o, Refused)]
    assert len(refusals) == 1, outcomes
    assert refusals[0].code in ("concurrent_transition", "invalid_state")
    assert refusals[0].status == 409
    assert [e[0] for e in _events(release)].count("cancel") == 1
    assert audit_verify().ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_hash_chain(app, alice):
    writers = itertools.count()  # a number per thread: its ident % 1000 was not unique (two threads 1.0.512)

    def write():
        writer = next(writers)
        return [services.release_create(app=app, actor=alice, version=f"1.{i}.{writer}") for i in range(5)]

    outcomes = _race(write, count=4)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    report = audit_verify()
    assert report.ok, report
    assert report.checked == AuditEvent.objects.count() == 20
