"""Indexes the scale benchmark asked for (issue 6: bench/pages.py on 2,000 apps, 200,000 releases
and 2,000,000 audit events).

- Release (app, created_at, id): an app's newest release (the app list's "latest" columns, the app
  page's and the API's release lists, newest first) is the end of one index range instead of a
  sort of all the app's releases.
- AuditEvent (app_id, action, at): "the app's latest review_approved" (the same-reason lock, for
  every app on the overview) and "the app's withdrawals since ..." become one index-only probe;
  with (app_id, at, id) alone each probe read the app's newest events one by one to check their
  action (8.6 ms -> 3.2 ms for the overview's lock query on the benchmark data).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("releases", "0004_audit_browser_indexes")]

    operations = [
        migrations.AddIndex(
            model_name="release",
            index=models.Index(fields=["app", "created_at", "id"], name="release_app_created_idx"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["app_id", "action", "at"], name="audit_app_action_at_idx"),
        ),
    ]
