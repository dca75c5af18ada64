"""Piccolo tables owned by the service layer: door devices and idempotency records."""

from __future__ import annotations

import uuid

from piccolo.columns import JSONB, UUID, Bytea, ForeignKey, OnDelete, SmallInt, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from booking.tables import User, Venue


class DoorDevice(Table, tablename="door_device"):
    """A scanner with no personal login, authenticated by a revocable token scoped to one venue."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    venue = ForeignKey(references=Venue, on_delete=OnDelete.restrict, null=False)
    name = Varchar(length=100)
    # SHA-256 of the token: the token itself is shown once, at creation.
    token_hash = Varchar(length=64, unique=True)
    token_prefix = Varchar(length=16)
    created_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=False)
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


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
