"""The venue rate and the organisation rate in force on a local date, copied onto each visit.

The rule (latest start on or before the date; an organisation's own card beats the network's
default) is the catalogue's: booking.services.rates owns it, billing/usage.py applies the
same in SQL for bookings billed without a visit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from booking.services import rates
from booking.services.rates import organisation_rate_in_force, venue_rate_in_force


@dataclass(frozen=True)
class Rate:
    amount_cents: int
    vat_rate: Decimal


@dataclass(frozen=True)
class Prices:
    venue: Rate | None
    organisation: Rate | None


def _rate(rate: rates.Rate | None) -> Rate | None:
    return None if rate is None else Rate(rate.amount_cents, rate.vat_rate)


async def prices_in_force(
    venue_id: uuid.UUID,
    organisation_id: uuid.UUID,
    workspace_kind: str,
    unit: str,
    on: date,
) -> Prices:
    """Both rates in force on `on`; None where no rate is defined yet."""
    return Prices(
        venue=_rate(await venue_rate_in_force(venue_id, workspace_kind, unit, on)),
        organisation=_rate(
            await organisation_rate_in_force(organisation_id, workspace_kind, unit, on)
        ),
    )
