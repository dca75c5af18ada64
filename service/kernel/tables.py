"""Piccolo tables of the kernel: idempotency records, the audit trail."""

from __future__ import annotations

from piccolo.columns import JSONB, UUID, BigSerial, Bytea, SmallInt, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class IdempotencyRecord(Table, tablename="idempotency_record"):
    """The first response to a POST carrying an Idempotency-Key, replayed on retries."""

    principal = Varchar(length=80)
    key = Varchar(length=200)
    method = Varchar(length=10)
    path = Varchar(length=500)
    request_hash = Varchar(length=64)
    status_code = SmallInt(null=True, default=None)  # null while the first request runs
    response_headers = JSONB(default={})
    response_body = Bytea(default=b"")
    created_at = Timestamptz(default=TimestamptzNow())


class AuditEntry(Table, tablename="audit_entry"):
    """One administrative act: who, when, what, on which object, and the fields it changed.

    Append-only: the database refuses UPDATE, DELETE and TRUNCATE (migration). `actor` is an
    id, never a name or an email, so erasing a person leaves the trail readable and free of
    them; `changes` never holds a secret or a person's contact details (service.kernel.audit).
    """

    id = BigSerial(primary_key=True)
    at = Timestamptz(default=TimestamptzNow())
    actor_kind = Varchar(length=10)  # person | device | system
    actor = UUID(null=True, default=None)
    actor_role = Varchar(length=20, null=True, default=None)
    action = Varchar(length=80)
    object_type = Varchar(length=40)
    object_id = Varchar(length=80, null=True, default=None)
    changes = JSONB(default={})
    request_id = Varchar(length=64, null=True, default=None)
