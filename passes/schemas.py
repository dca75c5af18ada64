"""API shapes of the pass, its keys and the revocation feed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from passes.door_devices import Device


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


# Door devices


class NewDevice(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class DeviceOut(msgspec.Struct):
    id: uuid.UUID
    venue_id: uuid.UUID
    name: str
    token_prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, device: Device) -> DeviceOut:
        return msgspec.convert(device, cls, from_attributes=True)


class NewDeviceOut(msgspec.Struct):
    device: DeviceOut
    # Shown once: configure the scanner with it.
    token: str


class WhoAmIDevice(msgspec.Struct):
    id: uuid.UUID
    name: str
    venue_id: uuid.UUID
    venue_name: str
    timezone: str
