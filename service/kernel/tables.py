"""Piccolo tables of the kernel: idempotency records."""

from __future__ import annotations

from piccolo.columns import JSONB, Bytea, SmallInt, Timestamptz, Varchar
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
