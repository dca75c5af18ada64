"""Allowance: the half-days an agent may use a month, and what they have used."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from booking.tables import (
    Booking,
    Organisation,
    User,
)
from service.kernel.errors import NotFound
from service.kernel.i18n import N_


def _month_bounds(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following


# The allowance units an agent has booked or used in a month, as SQL: run alone below, and as
# a part of the statement that inserts a booking (placement), which must count exactly alike.
# Arguments: `units_used_args`.
UNITS_USED = """
SELECT coalesce(sum(allowance_units), 0) AS used FROM booking
 WHERE agent = {} AND local_date >= {} AND local_date < {}
   AND (status IN ('confirmed', 'checked_in', 'completed')
        OR (status = 'no_show' AND {})
        OR (status = 'late_cancelled' AND {}))
"""


def units_used_args(
    agent_id: uuid.UUID, month_of: date, organisation: dict[str, Any]
) -> tuple[Any, ...]:
    first, following = _month_bounds(month_of)
    return (
        agent_id,
        first,
        following,
        organisation["bill_no_shows"],
        organisation["bill_late_cancellations"],
    )


async def units_used(agent_id: uuid.UUID, month_of: date, organisation: dict[str, Any]) -> int:
    """Allowance units the agent has booked or used in the month of `month_of`."""
    rows = await Booking.raw(UNITS_USED, *units_used_args(agent_id, month_of, organisation))
    return int(rows[0]["used"])


def allowance_units(own: int | None, organisation_default: int) -> int:
    """Half-days a month: the agent's own allowance, else the organisation's default."""
    return int(own if own is not None else organisation_default)


@dataclass(frozen=True)
class MonthlyAllowance:
    used: int
    allowed: int


async def allowance_of(agent_id: uuid.UUID, month_of: date) -> MonthlyAllowance:
    """What the agent has used of their allowance in the month of `month_of` (half-days)."""
    agent = (
        await User.select(User.monthly_allowance_units, User.organisation)
        .where(User.id == agent_id)
        .first()
    )
    if agent is None or agent["organisation"] is None:
        raise NotFound(N_("No such agent."))
    organisation = (
        await Organisation.select().where(Organisation.id == agent["organisation"]).first()
    )
    assert organisation is not None
    return MonthlyAllowance(
        used=await units_used(agent_id, month_of, organisation),
        allowed=allowance_units(
            agent["monthly_allowance_units"], organisation["monthly_allowance_units"]
        ),
    )
