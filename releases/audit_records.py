"""The audit trail's rows: the events, the chain head every writer locks, and the walks that
verified the chain (releases/audit.py writes and verifies them)."""

from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    """One line of the append-only audit trail.

    Examples: action="submit", from_state="checked", to_state="submitting", actor=manager;
    action="review_rejected", actor=None (the platform's push), data={"reason": "..."}.
    Rows are never updated, deleted or replaced (database triggers refuse it on PostgreSQL and
    SQLite); each stores the hash of the previous row and its own HMAC under the key named by
    `key_id` (releases/audit.py; empty: a legacy row from before the chain was keyed), so
    `manage.py verify_audit` can name the first row that was changed behind our back, even
    by someone who could write to the database. Targets are plain ids, not
    foreign keys, so that no cascade or SET NULL can ever rewrite a row. Records are kept
    at least 3 years; nothing here trims them.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    target_type = models.CharField(max_length=40)
    target_id = models.BigIntegerField(null=True, blank=True)
    team_id = models.BigIntegerField(null=True, blank=True)
    app_id = models.BigIntegerField(null=True, blank=True)
    release_id = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # A database default too: the column was added to millions of rows without rewriting them.
    key_id = models.CharField(max_length=16, blank=True, default="", db_default="")

    class Meta:
        ordering = ["id"]
        # The audit browser lists one filter's events newest first, (at, id) descending, and pages
        # by keyset: each filter column leads an index ending in (at, id), so a page is one short
        # index range at any size. Analytics look up a release's earlier submissions and decisions
        # for each event: (release_id, action, id, at) answers that from the index alone. They replace
        # the single-column indexes they start with.
        indexes = [
            models.Index(fields=["team_id", "at", "id"], name="audit_team_at_idx"),
            models.Index(fields=["app_id", "at", "id"], name="audit_app_at_idx"),
            models.Index(fields=["actor_id", "at", "id"], name="audit_actor_at_idx"),
            models.Index(fields=["action", "at", "id"], name="audit_action_at_idx"),
            models.Index(fields=["release_id", "action", "id", "at"], name="audit_release_action_idx"),
            # "The app's latest review_approved", "its withdrawals this month": one index-only probe
            # each, instead of reading every event of the app to check its action (issue 6, scale).
            models.Index(fields=["app_id", "action", "at"], name="audit_app_action_at_idx"),
        ]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Audit events are append-only.")


class AuditChainHead(models.Model):
    """A single row every audit writer locks, so the hash chain never forks under concurrency.

    It counts the events and holds the last one's hash, signed (`mac`) with the audit key named
    by `key_id`, so missing events at the end of the chain show. Database triggers let it only
    move forward: no delete, no second row, and an update must raise the count.
    """

    last_hash = models.CharField(max_length=64, default="0" * 64)
    count = models.BigIntegerField(default=0)
    key_id = models.CharField(max_length=16, blank=True, default="")
    mac = models.CharField(max_length=64, blank=True, default="")


class AuditVerification(models.Model):
    """One walk of the audit hash chain (the periodic job or `manage.py verify_audit`).

    Walking the chain takes about 30 s per two million events, so pages show the latest of these
    rows instead of verifying inside a request. `broken_id` is the first event whose hash or link does not
    hold (None when intact, or when events at the end are missing: then `problem` says so).
    """

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(default=timezone.now, db_index=True)
    checked = models.BigIntegerField(default=0)
    ok = models.BooleanField()
    broken_id = models.BigIntegerField(null=True, blank=True)
    problem = models.TextField(blank=True)
    source = models.CharField(max_length=20, default="job")  # "job" or "command"

    class Meta:
        ordering = ["-finished_at", "-pk"]
