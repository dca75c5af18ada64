"""Door devices: scanners with no personal login, each with a revocable token for one venue."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from booking.services.accounts import hash_token
from booking.tables import Venue
from passes.tables import DoorDevice
from service.kernel import audit
from service.kernel.database import fetch_row
from service.kernel.errors import InvalidValue, NotFound
from service.kernel.i18n import N_
from service.kernel.identity import Principal
from service.kernel.tokens import DEVICE_TOKEN_PREFIX

_COLUMNS = (
    DoorDevice.id,
    DoorDevice.venue,
    DoorDevice.name,
    DoorDevice.token_prefix,
    DoorDevice.created_at,
    DoorDevice.last_used_at,
    DoorDevice.revoked_at,
)


@dataclass(frozen=True)
class Device:
    """A door device as its venue manages it (never its token)."""

    id: uuid.UUID
    venue_id: uuid.UUID
    name: str
    token_prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class DeviceIdentity:
    """Who a calling device is: itself and its venue."""

    id: uuid.UUID
    name: str
    venue_id: uuid.UUID
    venue_name: str
    timezone: str


def _device(row: dict[str, Any]) -> Device:
    return Device(
        id=row["id"],
        venue_id=row["venue"],
        name=row["name"],
        token_prefix=row["token_prefix"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


async def create(venue_id: uuid.UUID, name: str, created_by: uuid.UUID) -> tuple[Device, str]:
    """A new device and its token; the token is shown once and only its SHA-256 is kept."""
    if not name.strip():
        raise InvalidValue(N_("Name the device (e.g. 'Accueil rez-de-chaussée')."), field="name")
    if not await Venue.exists().where(Venue.id == venue_id):
        raise NotFound(N_("No such venue."))
    token = DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)
    device = DoorDevice(
        venue=venue_id,
        name=name.strip(),
        token_hash=hash_token(token),
        token_prefix=token[:10],
        created_by=created_by,
    )
    async with DoorDevice._meta.db.transaction():
        await device.save()
        await audit.act(
            "device.create",
            "door_device",
            device.id,
            after={"venue": venue_id, "name": device.name},
        )
    return await get(venue_id, device.id), token


async def get(venue_id: uuid.UUID, device_id: uuid.UUID) -> Device:
    device = (
        await DoorDevice.select(*_COLUMNS)
        .where((DoorDevice.id == device_id) & (DoorDevice.venue == venue_id))
        .first()
    )
    if device is None:
        raise NotFound(N_("No such door device."))
    return _device(device)


async def of_venue(venue_id: uuid.UUID) -> list[Device]:
    rows = (
        await DoorDevice.select(*_COLUMNS)
        .where(DoorDevice.venue == venue_id)
        .order_by(DoorDevice.created_at)
    )
    return [_device(r) for r in rows]


async def revoke(venue_id: uuid.UUID, device_id: uuid.UUID) -> Device:
    """Idempotent: revoking twice keeps the first revocation time."""
    current = await get(venue_id, device_id)
    async with DoorDevice._meta.db.transaction():
        await DoorDevice.update({DoorDevice.revoked_at: datetime.now(UTC)}).where(
            (DoorDevice.id == device_id) & DoorDevice.revoked_at.is_null()
        )
        revoked = await get(venue_id, device_id)
        await audit.act(
            "device.revoke",
            "door_device",
            device_id,
            before={"revoked_at": current.revoked_at},
            after={"revoked_at": revoked.revoked_at},
        )
    return await get(venue_id, device_id)


async def whoami(device_id: uuid.UUID) -> DeviceIdentity:
    await DoorDevice.update({DoorDevice.last_used_at: datetime.now(UTC)}).where(
        DoorDevice.id == device_id
    )
    rows = await DoorDevice.raw(
        "SELECT d.id, d.name, d.venue, v.name AS venue_name, v.timezone "
        "FROM door_device d JOIN venue v ON v.id = d.venue WHERE d.id = {}",
        device_id,
    )
    row = rows[0]
    return DeviceIdentity(row["id"], row["name"], row["venue"], row["venue_name"], row["timezone"])


async def device_principal(token: str) -> Principal | None:
    """The door device a token names (API bearer or scanner-page cookie); None when unknown or revoked."""
    device = await fetch_row(
        "SELECT id, venue, name FROM door_device WHERE token_hash = $1 AND revoked_at IS NULL",
        hash_token(token),
    )
    if device is None:
        return None
    return Principal(
        role=None, device_id=device["id"], venue_id=device["venue"], display_name=device["name"]
    )
