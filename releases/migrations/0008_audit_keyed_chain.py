"""Key the audit chain and protect its head (issue 11, "Trust").

- `AuditEvent.key_id`: the audit key that signed a row; the existing rows keep "" (legacy,
  plain SHA-256) and every row is kept as it is. The column is added with a database default
  by hand: on SQLite Django would rebuild the table for a NOT NULL column, and dropping the old
  table would drop its append-only triggers with it; on PostgreSQL it is instant at any size.
- `AuditChainHead.key_id` and `.mac`: the head is signed with the current audit key here, as it
  stands, so an existing trail (a demo, a seed_scale database) still verifies, as legacy events
  up to where the keyed chain starts.
- Triggers: the head only moves forward (no DELETE, no second row, an UPDATE must raise the
  count); on SQLite, INSERT OR REPLACE, which deletes the old row without firing DELETE
  triggers, is refused on both tables. (PostgreSQL's INSERT ... ON CONFLICT DO UPDATE fires the
  UPDATE triggers already.)

A later migration that rebuilds either table on SQLite must create these triggers again.
"""

from django.db import migrations, models

ADD_KEY_ID = "ALTER TABLE releases_auditevent ADD COLUMN key_id varchar(16) DEFAULT '' NOT NULL"
DROP_KEY_ID = "ALTER TABLE releases_auditevent DROP COLUMN key_id"

PG_FORWARD = """
CREATE OR REPLACE FUNCTION sluice_audit_head_forward_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
       OR (TG_OP = 'INSERT' AND (NEW.id <> 1 OR NEW.count <> 0))
       OR (TG_OP = 'UPDATE' AND (NEW.id <> OLD.id OR NEW.count <= OLD.count)) THEN
        RAISE EXCEPTION 'the audit chain head only moves forward (% refused)', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER releases_auditchainhead_forward_only
    BEFORE INSERT OR UPDATE OR DELETE ON releases_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION sluice_audit_head_forward_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS releases_auditchainhead_forward_only ON releases_auditchainhead;
DROP FUNCTION IF EXISTS sluice_audit_head_forward_only();
"""
SQLITE_FORWARD = [
    """CREATE TRIGGER releases_auditevent_no_replace BEFORE INSERT ON releases_auditevent
       WHEN EXISTS (SELECT 1 FROM releases_auditevent WHERE id = NEW.id)
         OR EXISTS (SELECT 1 FROM releases_auditevent WHERE hash = NEW.hash)
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only (INSERT OR REPLACE refused)'); END;""",
    """CREATE TRIGGER releases_auditchainhead_no_delete BEFORE DELETE ON releases_auditchainhead
       BEGIN SELECT RAISE(ABORT, 'the audit chain head only moves forward (DELETE refused)'); END;""",
    """CREATE TRIGGER releases_auditchainhead_no_rewind BEFORE UPDATE ON releases_auditchainhead
       WHEN NEW.id <> OLD.id OR NEW."count" <= OLD."count"
       BEGIN SELECT RAISE(ABORT, 'the audit chain head only moves forward (UPDATE refused)'); END;""",
    """CREATE TRIGGER releases_auditchainhead_no_replace BEFORE INSERT ON releases_auditchainhead
       WHEN NEW.id <> 1 OR NEW."count" <> 0
         OR EXISTS (SELECT 1 FROM releases_auditchainhead WHERE id = NEW.id)
       BEGIN SELECT RAISE(ABORT, 'the audit chain head only moves forward (INSERT refused)'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS releases_auditevent_no_replace;",
    "DROP TRIGGER IF EXISTS releases_auditchainhead_no_delete;",
    "DROP TRIGGER IF EXISTS releases_auditchainhead_no_rewind;",
    "DROP TRIGGER IF EXISTS releases_auditchainhead_no_replace;",
]


def add_key_id(apps, schema_editor):
    schema_editor.execute(ADD_KEY_ID)


def drop_key_id(apps, schema_editor):
    schema_editor.execute(DROP_KEY_ID)


def sign_head(apps, schema_editor):
    """Sign the head as it stands: whatever the trail holds now is what the key vouches for."""
    from releases.audit import head_values
    from releases.audit_keys import signing_key

    Head = apps.get_model("releases", "AuditChainHead")
    head, _ = Head.objects.get_or_create(pk=1)
    Head.objects.filter(pk=1).update(**head_values(head.count, head.last_hash, signing_key()))


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("releases", "0007_move_review_records")]
    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(add_key_id, drop_key_id)],
            state_operations=[
                migrations.AddField(
                    model_name="auditevent",
                    name="key_id",
                    field=models.CharField(blank=True, db_default="", default="", max_length=16),
                ),
            ],
        ),
        migrations.AddField(
            model_name="auditchainhead",
            name="key_id",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.AddField(
            model_name="auditchainhead",
            name="mac",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(sign_head, migrations.RunPython.noop),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
