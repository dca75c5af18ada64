"""API shapes of the pass, its keys and the revocation feed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec


class PassOut(msgspec.Struct):
    serial: int
    status: str
    token: str
    key_id: int
    not_before: datetime
    not_after: datetime
    issued_at: datetime
    agent_id: uuid.UUID
    svg_url: str
    png_url: str


class PassChange(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class KeyOut(msgspec.Struct):
    key_id: int
    algorithm: Literal["Ed25519"]
    public_key: str  # base64url, raw 32 bytes
    created_at: datetime
    retired_at: datetime | None


class StatusChangeOut(msgspec.Struct):
    serial: int
    status: str
    cursor: int


class RevocationFeed(msgspec.Struct):
    changes: list[StatusChangeOut]
    next_cursor: int
    # True when more changes wait after next_cursor: ask again.
    more: bool
