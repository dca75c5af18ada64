"""API shapes of the availability search."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import msgspec


class FreeWorkspace(msgspec.Struct):
    id: uuid.UUID
    name: str
    kind: str
    capacity: int
    booking_unit: str
    equipment: list[str]
    free_seats: int


class AvailableVenue(msgspec.Struct):
    id: uuid.UUID
    name: str
    address: str
    postcode: str
    commune: str
    latitude: Decimal
    longitude: Decimal
    timezone: str
    services: list[str]
    # The slot or range in the venue's own time zone (ISO 8601 with its offset).
    starts_at: datetime
    ends_at: datetime
    distance_km: float | None
    workspaces: list[FreeWorkspace]
