"""The venue rate and the organisation rate in force on a local date, copied onto each visit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from booking.tables import VenueRate


@dataclass(frozen=True)
class Rate:
    amount_cents: int
    vat_rate: Decimal


@dataclass(frozen=True)
class Prices:
    venue: Rate | None
    organisation: Rate | None


async def prices_in_force(
    venue_id: uuid.UUID,
    organisation_id: uuid.UUID,
    workspace_kind: str,
    unit: str,
    on: date,
) -> Prices:
    """Both rates in force on `on`: the latest start on or before it; the organisation's own
    card beats the network's default (organisation IS NULL). Same rule as billing/usage.py.

    One round trip for both, because a door scan waits for it.
    """
    rows = await VenueRate.raw(
        """
        SELECT v.amount_cents AS venue_cents, v.vat_rate AS venue_vat,
               o.amount_cents AS organisation_cents, o.vat_rate AS organisation_vat
          FROM (SELECT 1) AS one
          LEFT JOIN LATERAL (
              SELECT amount_cents, vat_rate FROM venue_rate
               WHERE venue = {} AND workspace_kind = {} AND unit = {} AND effective_from <= {}
               ORDER BY effective_from DESC LIMIT 1) v ON true
          LEFT JOIN LATERAL (
              SELECT amount_cents, vat_rate FROM organisation_rate
               WHERE (organisation = {} OR organisation IS NULL)
                 AND workspace_kind = {} AND unit = {} AND effective_from <= {}
               ORDER BY (organisation IS NULL), effective_from DESC LIMIT 1) o ON true
        """,
        venue_id,
        workspace_kind,
        unit,
        on,
        organisation_id,
        workspace_kind,
        unit,
        on,
    )
    row = rows[0]
    return Prices(
        venue=Rate(row["venue_cents"], row["venue_vat"])
        if row["venue_cents"] is not None
        else None,
        organisation=Rate(row["organisation_cents"], row["organisation_vat"])
        if row["organisation_cents"] is not None
        else None,
    )
