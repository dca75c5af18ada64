"""Rows the benchmarks COPY in: organisations and venues, valid for the service's constraints.

Each benchmark seeds its own shapes of data (visits, bookings, passes); these two tables are
the same everywhere, so their columns and defaults live here once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from datetime import time as clock
from decimal import Decimal

SIREN = "732829320"
SIRET = "73282932000074"
IBAN = "FR7630006000011234567890189"

ORGANISATION_COLUMNS = [
    "id",
    "name",
    "siren",
    "kind",
    "billing_address",
    "billing_email",
    "monthly_allowance_units",
    "booking_horizon_days",
    "cancellation_deadline_hours",
    "bill_no_shows",
    "bill_late_cancellations",
    "active",
    "created_at",
]

VENUE_COLUMNS = [
    "id",
    "name",
    "legal_name",
    "siret",
    "charges_vat",
    "iban",
    "address",
    "postcode",
    "commune",
    "insee_code",
    "latitude",
    "longitude",
    "timezone",
    "contact_email",
    "description",
    "services",
    "status",
    "morning_start",
    "morning_end",
    "afternoon_start",
    "afternoon_end",
    "created_at",
    "status_changed_at",
]


def organisation(
    id: uuid.UUID,
    n: int,
    now: datetime,
    *,
    kind: str = "public_body",
    allowance: int = 40,
    horizon_days: int = 30,
) -> tuple[object, ...]:
    return (
        id,
        f"Organisation {n}",
        SIREN,
        kind,
        "Lille",
        f"org{n}@example.org",
        allowance,
        horizon_days,
        24,
        True,
        True,
        True,
        now,
    )


def venue(
    id: uuid.UUID,
    n: int,
    now: datetime,
    *,
    commune: str = "Lille",
    insee_code: str = "59350",
    latitude: Decimal = Decimal("50.63"),
    longitude: Decimal = Decimal("3.06"),
    charges_vat: bool = True,
    services: Sequence[str] = ("wifi",),
    name: str | None = None,
) -> tuple[object, ...]:
    return (
        id,
        name or f"Lieu {n}",
        f"Association {n}",
        SIRET,
        charges_vat,
        IBAN,
        f"{n} rue",
        "59000",
        commune,
        insee_code,
        latitude,
        longitude,
        "Europe/Paris",
        "x@example.org",
        "",
        list(services),
        "approved",
        clock(8, 30),
        clock(13),
        clock(13),
        clock(18),
        now,
        now,
    )
