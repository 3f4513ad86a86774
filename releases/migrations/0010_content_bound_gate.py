"""Check runs and checklist ticks record the hash of the content they checked (issue 11).

Rows stored before this get the hash of their release's current content when they belong to its
current revision (what the gate trusted until now, so nothing that counted stops counting on
deploy); rows of earlier revisions, void already, stay empty and never count.
"""

from collections import namedtuple

from django.db import migrations, models

from releases.fingerprint import CONTENT_FIELDS, content_hash

CHUNK = 2000
Content = namedtuple("Content", CONTENT_FIELDS)


def stamp_current_revisions(apps, schema_editor):
    """One UPDATE ... FROM a list of (release, revision, hash) per table and chunk of releases:
    PostgreSQL and SQLite (3.33+) both take it, and it costs one index probe per release."""
    Release = apps.get_model("releases", "Release")
    quote = schema_editor.connection.ops.quote_name
    tables = [quote(apps.get_model("releases", name)._meta.db_table) for name in ("CheckRun", "ChecklistTick")]
    last = 0
    with schema_editor.connection.cursor() as cursor:
        while True:
            # Plain values, not model instances: the historical Release would read its deferred state
            # once per row (ConcurrentTransitionMixin looks at it when an instance is built).
            rows = list(
                Release.objects.filter(pk__gt=last)
                .order_by("pk")
                .values_list("pk", "revision", *CONTENT_FIELDS)[:CHUNK]
            )
            if not rows:
                return
            last = rows[-1][0]
            params = []
            for pk, revision, *content in rows:
                params += [pk, revision, content_hash(Content(*content))]
            values = ", ".join(["(%s, %s, %s)"] * len(rows))
            for table in tables:
                cursor.execute(
                    f"WITH current (release_id, revision, content_hash) AS (VALUES {values}) "  # noqa: S608
                    f"UPDATE {table} SET content_hash = current.content_hash FROM current "
                    f"WHERE {table}.release_id = current.release_id AND {table}.revision = current.revision",
                    params,
                )


class Migration(migrations.Migration):
    dependencies = [
        ("releases", "0009_release_step_lease"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="checklisttick",
            name="one_tick_per_item_and_revision",
        ),
        migrations.AddField(
            model_name="checklisttick",
            name="content_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="checkrun",
            name="content_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.RunPython(stamp_current_revisions, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="checklisttick",
            constraint=models.UniqueConstraint(
                fields=("release", "revision", "content_hash", "key"), name="one_tick_per_item_and_content"
            ),
        ),
    ]
