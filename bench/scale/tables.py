"""Writing rows fast: COPY on PostgreSQL (batched INSERTs elsewhere), ids after the current last
ones, secondary indexes built once after a big load, sequences reset afterwards."""

import io
import json
from contextlib import contextmanager
from datetime import datetime

from django.core.management.color import no_style
from django.db import connection

from releases.models import (
    Approval,
    AuditEvent,
    ChecklistTick,
    CheckResult,
    CheckRun,
    Rejection,
    Release,
    RemediationTask,
)
from reviews.models import ReviewWatch

COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False).translate(COPY_ESCAPES)
    return str(value).translate(COPY_ESCAPES)


class Writer:
    """Rows into one table: COPY on PostgreSQL, batched INSERTs elsewhere (SQLite, for small runs)."""

    BATCH = 50_000

    def __init__(self, model, columns: list[str]):
        self.model = model
        self.columns = columns
        listed = [model._meta.get_field(c) for c in columns]
        # Columns added later (a new feature's state, say) get their model default ("" for text) in
        # every row, so the seed keeps working without naming each one; nullable ones stay NULL.
        self.filled = [
            f
            for f in model._meta.concrete_fields
            if f not in listed
            and not f.primary_key
            and not f.null
            and (f.has_default() or f.empty_strings_allowed)
        ]
        self.fill = tuple(f.get_default() for f in self.filled)
        self.fields = listed + self.filled
        self.table = model._meta.db_table
        self.postgres = connection.vendor == "postgresql"
        self.buffer: list = []
        self.count = 0

    def add(self, row: tuple) -> None:
        self.buffer.append(tuple(row) + self.fill)
        if len(self.buffer) >= self.BATCH:
            self.flush()

    def add_line(self, line: str) -> None:
        """A row already in COPY's text format (the audit events, built in the hot loop)."""
        if self.fill:
            line += "\t" + "\t".join(copy_text(v) for v in self.fill)
        self.buffer.append(line)
        if len(self.buffer) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        quoted = ", ".join(connection.ops.quote_name(f.column) for f in self.fields)
        with connection.cursor() as cursor:
            if self.postgres:
                lines = (r if isinstance(r, str) else "\t".join(copy_text(v) for v in r) for r in self.buffer)
                data = io.StringIO("\n".join(lines) + "\n")
                cursor.cursor.copy_expert(f"COPY {self.table} ({quoted}) FROM STDIN", data)
            else:
                marks = ", ".join(["%s"] * len(self.fields))
                rows = [
                    [f.get_db_prep_save(v, connection) for f, v in zip(self.fields, r, strict=True)]
                    for r in self.buffer
                ]
                cursor.executemany(f"INSERT INTO {self.table} ({quoted}) VALUES ({marks})", rows)  # noqa: S608 -- our own names
        self.count += len(self.buffer)
        self.buffer = []


def first_free_id(model) -> int:
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


@contextmanager
def indexes_deferred(model, rows: int):
    """Load a big batch without maintaining the table's secondary indexes, then build them once.

    PostgreSQL only, from 100,000 rows: the unique constraints (the audit hash) and plain indexes
    are dropped and recreated from their own definitions (pg_get_*def) inside the transaction, so
    a failure restores them; the table is locked against readers meanwhile.
    """
    if connection.vendor != "postgresql" or rows < 100_000:
        yield
        return
    table = model._meta.db_table
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'u'",
            [table],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = %s::regclass AND NOT x.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
            [table],
        )
        indexes = cursor.fetchall()
        for name, _ in constraints:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for name, definition in constraints:
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
        for _, definition in indexes:
            cursor.execute(definition)


def reset_sequences() -> None:
    models = [Release, AuditEvent, Approval, CheckRun, CheckResult, ChecklistTick, Rejection]
    models += [RemediationTask, ReviewWatch]
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
