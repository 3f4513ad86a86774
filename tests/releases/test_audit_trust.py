"""The audit trail survives a database compromise (issue 11, part 4): a keyed chain, a head that
only moves forward, no INSERT OR REPLACE on SQLite, and signed checkpoints kept outside the
database that notice a chain recomputed even with the key."""

import json
import secrets
import sqlite3
from contextlib import contextmanager
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from releases import services
from releases.audit import GENESIS, audit_record, audit_verify, event_hash, event_mac, head_values
from releases.audit_checkpoints import checkpoint_job
from releases.audit_keys import key_id_for, signing_key
from releases.audit_verification import verify_audit_job
from releases.models import AuditChainHead, AuditEvent, AuditVerification

ROOT = Path(__file__).resolve().parents[2]
OLD_KEY = "an-older-audit-key-for-the-rotation-test-0001"
NEW_KEY = "a-newer-audit-key-for-the-rotation-test-00002"


@contextmanager
def table_owner():
    """What the owner of the tables (or a superuser) can do: switch the triggers off."""
    tables = ("releases_auditevent", "releases_auditchainhead")
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def without_key(event, prev):
    """An attacker without the key can only compute plain SHA-256 hashes."""
    return event_hash(event, prev), ""


def with_key(event, prev):
    """An attacker who also stole the key signs like the application."""
    key = signing_key()
    return event_mac(event, prev, key), key.id


def rewrite(victim_id, sign, *, actor_name="mallory", head_key=None):
    """Change one event and recompute the chain from it to the end, and the head to match."""
    previous = AuditEvent.objects.filter(id__lt=victim_id).order_by("-id").first()
    prev = previous.hash if previous else GENESIS
    with table_owner():
        for event in AuditEvent.objects.filter(id__gte=victim_id).order_by("id"):
            if event.id == victim_id:
                event.actor_name = actor_name
            event.hash, event.key_id = sign(event, prev)
            AuditEvent.objects.filter(pk=event.pk).update(
                actor_name=event.actor_name, prev_hash=prev, hash=event.hash, key_id=event.key_id
            )
            prev = event.hash
        count = AuditEvent.objects.count()
        head = head_values(count, prev, head_key) if head_key else {"count": count, "last_hash": prev}
        AuditChainHead.objects.filter(pk=1).update(**head)


def refused(statement, params=None):
    with pytest.raises(DatabaseError) as error, connection.cursor() as cursor:
        cursor.execute("SAVEPOINT s")  # the test transaction survives the refused statement
        try:
            cursor.execute(statement, params)
        finally:
            cursor.execute("ROLLBACK TO SAVEPOINT s")
    return str(error.value)


def verify_command(*files):
    out = StringIO()
    call_command("verify_audit", *[f"--checkpoint={f}" for f in files], stdout=out)
    return out.getvalue()


def write_checkpoint(path):
    out = StringIO()
    call_command("audit_checkpoint", stdout=out)
    path.write_text(out.getvalue())
    return path


# -- the keyed chain -----------------------------------------------------------------------------


def test_every_event_is_signed_with_the_newest_audit_key(make_release, settings):
    settings.SLUICE_AUDIT_KEYS = [NEW_KEY, OLD_KEY]
    make_release()
    assert set(AuditEvent.objects.values_list("key_id", flat=True)) == {key_id_for(NEW_KEY)}
    head = AuditChainHead.objects.get(pk=1)
    assert (head.key_id, head.count) == (key_id_for(NEW_KEY), 1)


def test_a_chain_recomputed_without_the_key_does_not_verify(make_release):
    make_release("1.0.0", upto="published")
    victim = AuditEvent.objects.filter(action="approve").get()
    rewrite(victim.pk, without_key)
    report = audit_verify()
    assert (report.ok, report.broken_id) == (False, victim.pk)
    assert "unsigned" in report.problem


def test_a_chain_recomputed_without_the_key_from_its_first_event_does_not_verify(make_release):
    make_release("1.0.0", upto="published")
    rewrite(AuditEvent.objects.order_by("id").first().pk, without_key)
    with pytest.raises(CommandError, match="the chain head's signature does not match"):
        call_command("verify_audit")


def test_events_signed_with_an_older_key_still_verify_after_a_rotation(make_release, settings):
    settings.SLUICE_AUDIT_KEYS = [OLD_KEY]
    make_release("1.0.0")
    settings.SLUICE_AUDIT_KEYS = [NEW_KEY, OLD_KEY]
    make_release("1.0.1")
    assert AuditEvent.objects.values("key_id").distinct().count() == 2
    assert audit_verify().ok
    settings.SLUICE_AUDIT_KEYS = [NEW_KEY]
    first = AuditEvent.objects.order_by("id").first()
    report = audit_verify()
    assert report.broken_id == first.pk
    assert f"signed with key {key_id_for(OLD_KEY)}, which SLUICE_AUDIT_KEYS does not hold" in report.problem


def test_legacy_unkeyed_events_verify_up_to_where_the_keyed_chain_starts(app, alice):
    prev = GENESIS
    for n in range(3):  # as the trail of an installation from before SLUICE_AUDIT_KEYS holds them
        event = AuditEvent(action="legacy", target_type="app", target_id=app.pk, data={"n": n})
        event.prev_hash, event.hash = prev, event_hash(event, prev)
        event.save()
        prev = event.hash
    AuditChainHead.objects.filter(pk=1).update(**head_values(3, prev, signing_key()))
    services.release_create(app=app, actor=alice, version="2.0.0")
    report = audit_verify()
    assert (report.ok, report.checked, report.legacy) == (True, 4, 3), report.problem
    assert "3 of them from before the chain was keyed" in verify_command()


# -- the database refuses what would rewrite history ----------------------------------------------


def test_the_database_refuses_to_replace_an_event_or_rewind_or_delete_the_chain_head(make_release):
    make_release()
    event = AuditEvent.objects.get()
    upsert = (
        "INSERT INTO releases_auditevent (id, at, actor_name, action, from_state, to_state, target_type, "
        "data, prev_hash, hash, key_id) VALUES (%s, now(), '', 'x', '', '', '', '{}', '', 'h', '') "
        "ON CONFLICT (id) DO UPDATE SET action = 'x'"
    )
    assert "append-only" in refused(upsert, [event.pk])
    for statement in (
        "UPDATE releases_auditchainhead SET count = count - 1",
        "UPDATE releases_auditchainhead SET last_hash = 'x'",
        "DELETE FROM releases_auditchainhead",
        "INSERT INTO releases_auditchainhead (id, last_hash, count, key_id, mac) VALUES (2, '', 5, '', '')",
    ):
        assert "only moves forward" in refused(statement)
    assert audit_verify().ok


def test_sqlite_refuses_insert_or_replace_on_the_audit_tables(migrated_sqlite):
    database = migrated_sqlite
    db = sqlite3.connect(database)
    insert = (
        "INSERT INTO releases_auditevent (id, at, actor_name, action, from_state, to_state, target_type, "
        "data, prev_hash, hash) VALUES (?, '2025-01-01', ?, 'create', '', '', '', '{}', '', ?)"
    )
    db.execute(insert, (1, "alice", "h1"))
    db.commit()
    for statement, params in (
        (insert.replace("INSERT", "INSERT OR REPLACE"), (1, "mallory", "h2")),  # same id
        (insert.replace("INSERT", "REPLACE"), (9, "mallory", "h1")),  # same hash
        ("INSERT OR REPLACE INTO releases_auditchainhead (id, last_hash, count) VALUES (1, 'x', 0)", ()),
        ("UPDATE releases_auditchainhead SET count = count - 1", ()),
        ("DELETE FROM releases_auditchainhead", ()),
        ("DELETE FROM releases_auditevent", ()),
    ):
        with pytest.raises(sqlite3.DatabaseError, match="append-only|only moves forward"):
            db.execute(statement, params)
    assert db.execute("SELECT actor_name FROM releases_auditevent").fetchall() == [("alice",)]
    db.execute("UPDATE releases_auditchainhead SET count = count + 1")  # what a writer does is allowed


def test_a_role_that_does_not_own_the_tables_writes_the_trail_but_cannot_switch_the_triggers_off(app, alice):
    """The database role the README recommends for the application."""
    role = f"sluice_app_{secrets.token_hex(4)}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role}")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
        cursor.execute(f"REVOKE UPDATE, DELETE ON releases_auditevent FROM {role}")
        cursor.execute(f"REVOKE DELETE ON releases_auditchainhead FROM {role}")
        cursor.execute(f"SET LOCAL ROLE {role}")
    services.release_create(app=app, actor=alice, version="3.0.0")
    for statement in (
        "ALTER TABLE releases_auditevent DISABLE TRIGGER USER",
        "ALTER TABLE releases_auditchainhead DISABLE TRIGGER USER",
        "TRUNCATE releases_auditevent",
        "DELETE FROM releases_auditevent",
    ):
        message = refused(statement)
        assert "must be owner" in message or "permission denied" in message, message
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
    assert audit_verify().ok


# -- checkpoints outside the database --------------------------------------------------------------


def test_verify_audit_with_a_checkpoint_detects_a_chain_recomputed_with_the_key(make_release, tmp_path):
    make_release("1.0.0", upto="published")
    checkpoint = write_checkpoint(tmp_path / "checkpoints.jsonl")
    victim = AuditEvent.objects.filter(action="approve").get()
    rewrite(victim.pk, with_key, head_key=signing_key())
    assert "intact" in verify_command()  # the key alone cannot tell
    last = AuditEvent.objects.order_by("id").last()  # the checkpoint's position: the chain differs up to it
    with pytest.raises(
        CommandError, match=f"event #{last.pk}: the chain up to it differs from the checkpoint"
    ):
        verify_command(checkpoint)


def test_verify_audit_with_a_checkpoint_notices_events_removed_from_the_end(make_release, tmp_path):
    make_release("1.0.0", upto="published")
    checkpoint = write_checkpoint(tmp_path / "checkpoints.jsonl")
    count = AuditEvent.objects.count()
    kept = AuditEvent.objects.order_by("id")[count - 3]
    with table_owner():
        AuditEvent.objects.filter(id__gt=kept.pk).delete()
        AuditChainHead.objects.filter(pk=1).update(**head_values(count - 2, kept.hash, signing_key()))
    assert "intact" in verify_command()
    with pytest.raises(CommandError, match=f"events were removed: the checkpoint of .* saw {count}"):
        verify_command(checkpoint)


def test_a_checkpoint_matching_the_chain_is_reported(make_release, tmp_path):
    make_release("1.0.0")
    first = write_checkpoint(tmp_path / "a.jsonl")
    make_release("1.0.1")
    second = write_checkpoint(tmp_path / "b.jsonl")
    assert "matching 2 of 2 checkpoints" in verify_command(first, second)
    line = json.loads(second.read_text())
    assert (line["count"], line["head"]) == (2, AuditEvent.objects.order_by("id").last().hash)


def test_a_forged_checkpoint_is_refused(make_release, tmp_path):
    make_release()
    line = json.loads(write_checkpoint(tmp_path / "real.jsonl").read_text())
    forged = tmp_path / "forged.jsonl"
    forged.write_text(json.dumps({**line, "count": line["count"] + 5}) + "\n")
    with pytest.raises(CommandError, match="line 1: its signature does not match"):
        verify_command(forged)


def test_no_checkpoint_is_taken_of_a_chain_head_forged_without_the_key(make_release):
    make_release()
    with table_owner():
        AuditChainHead.objects.filter(pk=1).update(count=5)
    with pytest.raises(CommandError, match="No checkpoint taken"):
        call_command("audit_checkpoint", stdout=StringIO())


def test_the_cron_job_keeps_checkpoints_and_the_periodic_verification_checks_them(
    make_release, settings, tmp_path
):
    settings.SLUICE_AUDIT_CHECKPOINT_DIR = str(tmp_path / "checkpoints")
    make_release("1.0.0", upto="approved_by_manager")
    assert checkpoint_job()["written"]
    (written,) = (tmp_path / "checkpoints").iterdir()
    assert json.loads(written.read_text())["count"] == AuditEvent.objects.count()
    assert verify_audit_job()["ok"]
    rewrite(AuditEvent.objects.filter(action="approve").get().pk, with_key, head_key=signing_key())
    assert not verify_audit_job()["ok"]
    assert "recomputed" in AuditVerification.objects.order_by("-pk").first().problem


# -- an existing trail migrates forward --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_existing_trail_migrates_forward_with_every_row_kept_and_still_verifies(app, alice):
    executor = MigrationExecutor(connection)
    keyed = executor.loader.get_migration("releases", "0008_audit_keyed_chain")
    before = [dep for dep in keyed.dependencies if dep[0] == "releases"]
    executor.migrate(before)
    try:
        rows = _legacy_trail(app)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert list(AuditEvent.objects.order_by("id").values_list("hash", "key_id")) == [(h, "") for h in rows]
    report = audit_verify()
    assert (report.ok, report.checked, report.legacy) == (True, 3, 3), report.problem
    with transaction.atomic():
        audit_record(action="app_update", app=app, actor=alice)
    assert "4 events verified (3 of them from before the chain was keyed)" in verify_command()


def _legacy_trail(app) -> list[str]:
    """Three events written the old way (plain SHA-256 chain), with raw SQL on the old schema."""
    prev, hashes = GENESIS, []
    with connection.cursor() as cursor:
        for n in range(3):
            event = AuditEvent(action="app_update", target_type="app", target_id=app.pk, data={"n": n})
            digest = event_hash(event, prev)
            cursor.execute(
                "INSERT INTO releases_auditevent (at, actor_name, action, from_state, to_state, target_type,"
                " target_id, data, prev_hash, hash) VALUES (%s, '', %s, '', '', 'app', %s, %s, %s, %s)",
                [event.at, event.action, app.pk, json.dumps(event.data), prev, digest],
            )
            prev = digest
            hashes.append(digest)
        cursor.execute("DELETE FROM releases_auditchainhead")
        cursor.execute("INSERT INTO releases_auditchainhead (id, last_hash, count) VALUES (1, %s, 3)", [prev])
    return hashes
