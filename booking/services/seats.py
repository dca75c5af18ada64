"""Seat counters: the half-day rows whose CHECK keeps a shared desk area within its capacity.

Every seat taken or given back goes through here, for bookings made ahead, cancellations and
walk-ins alike. The upsert on `seat_occupancy` locks the counter row, so concurrent takers of
the last seat serialise on it; the CHECK `seat_occupancy_within_capacity` is the guarantee.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from booking.tables import Booking

# The counters a slot holds a seat in: a day takes both halves.
HALVES_BY_SLOT: dict[str, tuple[str, ...]] = {
    "morning": ("am",),
    "afternoon": ("pm",),
    "day": ("am", "pm"),
}


async def take_seat(workspace_id: uuid.UUID, local_date: date, half: str, capacity: int) -> None:
    """Take one seat; past capacity the CHECK fails (asyncpg.CheckViolationError)."""
    # The upsert locks the counter row; its CHECK refuses the seat past capacity.
    await Booking.raw(
        """
        INSERT INTO seat_occupancy (workspace, local_date, half, seats_taken, capacity)
        VALUES ({}, {}, {}, 1, {})
        ON CONFLICT (workspace, local_date, half)
        DO UPDATE SET seats_taken = seat_occupancy.seats_taken + 1
        """,
        workspace_id,
        local_date,
        half,
        capacity,
    )


# take_seat as a part of the statement that inserts a booking (placement): one seat in each
# half given for the date of the row the statement's `placed` inserted, and none when it
# inserted none. The same upsert: it locks each counter row (the halves in this order), and
# past capacity its CHECK fails the whole statement. Arguments: workspace, capacity, halves.
TAKE_SEATS_OF_PLACED = """
INSERT INTO seat_occupancy (workspace, local_date, half, seats_taken, capacity)
SELECT {}::uuid, placed.local_date, halves.half, 1, {}::integer
  FROM placed, unnest({}::text[]) WITH ORDINALITY AS halves (half, n)
 ORDER BY halves.n
ON CONFLICT (workspace, local_date, half)
DO UPDATE SET seats_taken = seat_occupancy.seats_taken + 1
"""


async def take_free_seat(
    workspace_id: uuid.UUID, local_date: date, half: str, capacity: int
) -> bool:
    """Take one seat if one is free; False, having written nothing, when the counter is full."""
    # Like take_seat, but a full counter answers "no row" instead of failing on the CHECK, so
    # that the caller can try another desk area in the same transaction. ON CONFLICT DO UPDATE
    # locks the counter row and evaluates the WHERE on its latest version: concurrent takers of
    # the last seat serialise here, exactly like take_seat.
    rows = await Booking.raw(
        """
        INSERT INTO seat_occupancy (workspace, local_date, half, seats_taken, capacity)
        VALUES ({}, {}, {}, 1, {})
        ON CONFLICT (workspace, local_date, half)
        DO UPDATE SET seats_taken = seat_occupancy.seats_taken + 1
              WHERE seat_occupancy.seats_taken < seat_occupancy.capacity
        RETURNING 1 AS taken
        """,
        workspace_id,
        local_date,
        half,
        capacity,
    )
    return bool(rows)


async def give_back_seat(workspace_id: uuid.UUID, local_date: date, half: str) -> None:
    await Booking.raw(
        "UPDATE seat_occupancy SET seats_taken = seats_taken - 1 "
        "WHERE workspace = {} AND local_date = {} AND half = {}",
        workspace_id,
        local_date,
        half,
    )


async def take_free_seats(
    workspace_id: uuid.UUID, local_date: date, halves: tuple[str, ...], capacity: int
) -> bool:
    """Take a seat in every half, or in none: False when one of them is full."""
    taken: list[str] = []
    for half in halves:
        if not await take_free_seat(workspace_id, local_date, half, capacity):
            for earlier in taken:  # a whole-day desk full in the afternoon: give the morning back
                await give_back_seat(workspace_id, local_date, earlier)
            return False
        taken.append(half)
    return True


async def release_seats(booking: dict[str, Any]) -> None:
    """Give back the seats a shared-desk booking held; an exclusive booking holds no counter."""
    if booking["exclusive"]:
        return
    for half in HALVES_BY_SLOT.get(booking["slot"] or "", ()):
        await give_back_seat(booking["workspace"], booking["local_date"], half)
