"""Walk-ins: a seat taken at the door for the current half-day, with the guarantees of a booking.

A walk-in is a Booking (`walk_in`, already `checked_in`) so that it holds a seat in the same
counters and weighs on the same allowance as one booked ahead: the seat counter's row lock
and CHECK keep a desk area within its capacity, the agent's row lock serialises the
allowance sum, and the agent exclusion constraint keeps one person in one place. Called by
the door-scan service (passes/) inside its own transaction; it writes nothing before it
knows the walk-in is possible, so a refusal leaves the caller's transaction clean.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from booking.errors import AgentAlreadyBooked, AllowanceExceeded, CapacityExhausted
from booking.services import seats
from booking.services.allowance import units_used
from booking.services.placement import BookingRequest, place
from booking.tables import Booking, Workspace
from service.kernel.errors import NotFound
from service.kernel.i18n import N_


@dataclass(frozen=True)
class WalkIn:
    booking_id: uuid.UUID
    workspace_id: uuid.UUID
    workspace_kind: str
    unit: str
    quantity: int
    local_date: date


def current_slot(venue: dict[str, Any], at: datetime) -> str:
    """The half-day a moment falls in at the venue: the morning until the afternoon starts."""
    local = at.astimezone(ZoneInfo(venue["timezone"]))
    return "morning" if local.time() < venue["afternoon_start"] else "afternoon"


async def desk_areas(venue_id: uuid.UUID) -> list[dict[str, Any]]:
    """The venue's active shared desk areas, half-day ones first (a walk-in is a half-day)."""
    return await Workspace.raw(
        "SELECT id, kind, capacity, booking_unit FROM workspace "
        "WHERE venue = {} AND kind = 'desk' AND active "
        "ORDER BY booking_unit <> 'half_day', name, id",
        venue_id,
    )


async def book_walk_in(
    agent_id: uuid.UUID,
    venue_id: uuid.UUID,
    *,
    at: datetime,
    created_by: uuid.UUID | None = None,
) -> WalkIn:
    """Seat the agent at the venue for the half-day of `at`, or raise why not.

    Raises AllowanceExceeded, AgentAlreadyBooked (a live booking elsewhere at that time) or
    CapacityExhausted (no free seat in any desk area), having written nothing.
    """
    async with Booking._meta.db.transaction():
        # Locks the agent's row, which serialises this agent's bookings and walk-ins: the
        # allowance sum below cannot be raced. One round trip for the three rows we need.
        rows = await Booking.raw(
            """
            SELECT u.monthly_allowance_units AS agent_allowance, o.id AS organisation,
                   o.monthly_allowance_units, o.bill_no_shows, o.bill_late_cancellations,
                   v.timezone, v.morning_start, v.morning_end, v.afternoon_start, v.afternoon_end
              FROM app_user u JOIN organisation o ON o.id = u.organisation, venue v
             WHERE u.id = {} AND v.id = {}
               FOR NO KEY UPDATE OF u
            """,
            agent_id,
            venue_id,
        )
        if not rows:
            raise NotFound(N_("No such agent or venue."))
        # One row with what place() needs of the venue and units_used() of the organisation.
        venue = organisation = rows[0]
        allowance = (
            venue["agent_allowance"]
            if venue["agent_allowance"] is not None
            else organisation["monthly_allowance_units"]
        )
        slot = current_slot(venue, at)
        desks = await desk_areas(venue_id)
        if not desks:
            raise CapacityExhausted(N_("This venue has no shared desk area for walk-ins."))
        local_date = at.astimezone(ZoneInfo(venue["timezone"])).date()
        used = await units_used(agent_id, local_date, organisation)
        for desk in desks:
            placement = place(
                venue,
                {**desk, "venue": venue_id},
                BookingRequest(
                    workspace_id=desk["id"],
                    date=local_date,
                    slot=slot if desk["booking_unit"] == "half_day" else "day",
                ),
            )
            if used + placement.allowance_units > allowance:
                raise AllowanceExceeded(
                    N_(
                        "A walk-in needs %(units)s half-day(s); %(used)s of %(allowance)s are "
                        "already used this month."
                    ),
                    units=placement.allowance_units,
                    used=used,
                    allowance=allowance,
                )
            # Under the agent's lock this check is exact; the exclusion constraint stays the
            # guarantee, this only turns its failure into a clear refusal before any write.
            elsewhere = await Booking.raw(
                "SELECT 1 FROM booking WHERE agent = {} "
                "AND status IN ('confirmed', 'checked_in', 'completed') "
                "AND tstzrange(starts_at, ends_at) && tstzrange({}, {}) LIMIT 1",
                agent_id,
                placement.starts_at,
                placement.ends_at,
            )
            if elsewhere:
                raise AgentAlreadyBooked(
                    N_("This agent already has a booking at this time (maybe at another venue).")
                )
            if not await seats.take_free_seats(
                desk["id"], placement.local_date, placement.halves, desk["capacity"]
            ):
                continue
            booking = Booking(
                agent=agent_id,
                organisation=organisation["organisation"],
                venue=venue_id,
                workspace=desk["id"],
                starts_at=placement.starts_at,
                ends_at=placement.ends_at,
                local_date=placement.local_date,
                slot=placement.slot,
                unit=placement.unit,
                quantity=placement.quantity,
                seats=1,
                exclusive=False,
                allowance_units=placement.allowance_units,
                status="checked_in",
                walk_in=True,
                checked_in_at=at,
                created_by=created_by,
            )
            await booking.save()
            return WalkIn(
                booking_id=booking.id,
                workspace_id=desk["id"],
                workspace_kind=desk["kind"],
                unit=placement.unit,
                quantity=placement.quantity,
                local_date=placement.local_date,
            )
        raise CapacityExhausted(
            N_("No free seat is left in this venue's desk areas for this slot.")
        )
