"""The audit browser's indexes and the record of chain verifications.

Each filter of /audit/ (team, app, actor, action) leads a composite index ending in (at, id), so
a keyset page newest first is one short index range even with millions of events; they make
the single-column indexes on those fields redundant, which are dropped after the new ones exist.
Analytics ask, for each event, about the release's earlier submissions and decisions:
(release_id, action, id, at) answers that from the index alone, and replaces the index on release_id.
AuditVerification keeps each run of the chain check so pages never walk the chain themselves.
"""

import django.utils.timezone
from django.db import migrations, models


REPLACED = ("action", "actor_id", "app_id", "team_id", "release_id")


def _single_column_indexes(schema_editor, table: str) -> list[tuple[str, str]]:
    """(column, index name) of the plain one-column indexes on these columns (on PostgreSQL a
    CharField has two: the index and its `_like` twin for LIKE queries)."""
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, table)
    return [
        (info["columns"][0], name)
        for name, info in constraints.items()
        if info["index"]
        and not info["unique"]
        and not info["primary_key"]
        and len(info["columns"]) == 1
        and info["columns"][0] in REPLACED
    ]


def drop_single_column_indexes(apps, schema_editor):
    table = apps.get_model("releases", "AuditEvent")._meta.db_table
    for _column, name in _single_column_indexes(schema_editor, table):
        schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def create_single_column_indexes(apps, schema_editor):
    model = apps.get_model("releases", "AuditEvent")
    existing = {column for column, _name in _single_column_indexes(schema_editor, model._meta.db_table)}
    for column in REPLACED:
        if column in existing:
            continue
        field = model._meta.get_field(column).clone()
        field.db_index = True
        field.set_attributes_from_name(column)
        field.model = model
        for statement in schema_editor._field_indexes_sql(model, field):
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("releases", "0003_checks_approvals_checklist")]

    operations = [
        migrations.CreateModel(
            name="AuditVerification",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("started_at", models.DateTimeField()),
                ("finished_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ("checked", models.BigIntegerField(default=0)),
                ("ok", models.BooleanField()),
                ("broken_id", models.BigIntegerField(blank=True, null=True)),
                ("problem", models.TextField(blank=True)),
                ("source", models.CharField(default="job", max_length=20)),
            ],
            options={"ordering": ["-finished_at", "-pk"]},
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["team_id", "at", "id"], name="audit_team_at_idx"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["app_id", "at", "id"], name="audit_app_at_idx"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["actor_id", "at", "id"], name="audit_actor_at_idx"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["action", "at", "id"], name="audit_action_at_idx"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["release_id", "action", "id", "at"], name="audit_release_action_idx"),
        ),
        # The fields lose db_index in the model state only; the database drops the old indexes by
        # name. A plain AlterField would make SQLite rebuild the table, dropping the append-only
        # triggers of 0002 with it.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(model_name="auditevent", name=name, field=field)
                for name, field in (
                    ("action", models.CharField(max_length=64)),
                    ("actor_id", models.BigIntegerField(blank=True, null=True)),
                    ("app_id", models.BigIntegerField(blank=True, null=True)),
                    ("team_id", models.BigIntegerField(blank=True, null=True)),
                    ("release_id", models.BigIntegerField(blank=True, null=True)),
                )
            ],
            database_operations=[
                migrations.RunPython(drop_single_column_indexes, create_single_column_indexes)
            ],
        ),
    ]
