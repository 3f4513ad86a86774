"""Make the audit trail append-only in the database itself, not just in Python.

A trigger refuses UPDATE and DELETE on the audit table, so neither a bug nor a hand-typed
SQL statement can rewrite history. TRUNCATE is left to the table owner (the test runner
flushes with it); production should run the app under a role that does not own the table. The chain head row
is created here so the first writer has something to lock.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION sluice_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER releases_auditevent_append_only
    BEFORE UPDATE OR DELETE ON releases_auditevent
    FOR EACH ROW EXECUTE FUNCTION sluice_audit_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS releases_auditevent_append_only ON releases_auditevent;
DROP FUNCTION IF EXISTS sluice_audit_append_only();
"""
SQLITE_FORWARD = [
    """CREATE TRIGGER releases_auditevent_no_update BEFORE UPDATE ON releases_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only (UPDATE refused)'); END;""",
    """CREATE TRIGGER releases_auditevent_no_delete BEFORE DELETE ON releases_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only (DELETE refused)'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS releases_auditevent_no_update;",
    "DROP TRIGGER IF EXISTS releases_auditevent_no_delete;",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)
    apps.get_model("releases", "AuditChainHead").objects.get_or_create(pk=1)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("releases", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
