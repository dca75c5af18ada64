"""Reading bookings: who may see one, one booking, an agent's, a venue's arrivals, an organisation's month."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from booking.tables import Booking
from service.kernel.dates import within_range
from service.kernel.errors import NotFound
from service.kernel.i18n import N_
from service.kernel.identity import VENUE_ROLES, Principal, Role

_SELECT = """
SELECT b.id, b.status, b.agent AS agent_id, u.display_name AS agent_name,
       b.organisation AS organisation_id, o.name AS organisation_name,
       b.venue AS venue_id, v.name AS venue_name,
       v.address || ', ' || v.postcode || ' ' || v.commune AS address,
       b.workspace AS workspace_id, w.name AS workspace_name, w.kind AS workspace_kind,
       b.local_date, b.slot, b.unit, b.quantity, b.starts_at, b.ends_at, v.timezone,
       b.allowance_units, b.walk_in, b.series AS series_id, b.sequence, b.created_at,
       b.cancelled_at, b.cancel_reason, b.cancelled_by_venue
  FROM booking b
  JOIN app_user u ON u.id = b.agent
  JOIN organisation o ON o.id = b.organisation
  JOIN venue v ON v.id = b.venue
  JOIN workspace w ON w.id = b.workspace
"""


@dataclass(frozen=True)
class BookingSummary:
    """A booking as people read it: who, where, when in the venue's time zone, and its state."""

    id: uuid.UUID
    status: str
    agent_id: uuid.UUID
    agent_name: str
    organisation_id: uuid.UUID
    organisation_name: str
    venue_id: uuid.UUID
    venue_name: str
    address: str
    workspace_id: uuid.UUID
    workspace_name: str
    workspace_kind: str
    local_date: date
    slot: str | None
    unit: str
    quantity: int
    starts_at: datetime  # in the venue's time zone
    ends_at: datetime
    timezone: str
    allowance_units: int
    walk_in: bool
    series_id: uuid.UUID | None
    sequence: int
    created_at: datetime
    cancelled_at: datetime | None
    cancel_reason: str | None
    cancelled_by_venue: bool
    calendar_url: str


def summary(row: dict[str, Any], base_url: str) -> BookingSummary:
    """A row of `_SELECT` (or the same values) as people read it."""
    zone = ZoneInfo(row["timezone"])
    return BookingSummary(
        **{
            **row,
            "starts_at": row["starts_at"].astimezone(zone),
            "ends_at": row["ends_at"].astimezone(zone),
            "calendar_url": f"{base_url}/api/v1/bookings/{row['id']}.ics",
        }
    )


async def one(booking_id: uuid.UUID, base_url: str) -> BookingSummary:
    rows = await Booking.raw(_SELECT + " WHERE b.id = {}", booking_id)
    return summary(rows[0], base_url)


async def _page(
    where: str, args: list[Any], order: str, limit: int, offset: int, base_url: str
) -> tuple[list[BookingSummary], int]:
    total_rows = await Booking.raw(f"SELECT count(*) AS n FROM booking b WHERE {where}", *args)
    rows = await Booking.raw(
        f"{_SELECT} WHERE {where} ORDER BY {order} LIMIT {{}} OFFSET {{}}", *args, limit, offset
    )
    return [summary(row, base_url) for row in rows], int(total_rows[0]["n"])


async def for_agent(
    agent_id: uuid.UUID, *, upcoming: bool, today: date, limit: int, offset: int, base_url: str
) -> tuple[list[BookingSummary], int]:
    if upcoming:
        return await _page(
            "b.agent = {} AND b.local_date >= {}",
            [agent_id, today],
            "b.starts_at ASC",
            limit,
            offset,
            base_url,
        )
    return await _page(
        "b.agent = {} AND b.local_date < {}",
        [agent_id, today],
        "b.starts_at DESC",
        limit,
        offset,
        base_url,
    )


async def arrivals(
    venue_id: uuid.UUID, day: date, *, limit: int, offset: int, base_url: str
) -> tuple[list[BookingSummary], int]:
    """Who is expected (or already in) at the venue on its local date `day`."""
    within_range(day, "date")
    return await _page(
        "b.venue = {} AND b.local_date = {} AND b.status IN ('confirmed', 'checked_in', 'completed')",
        [venue_id, day],
        "b.starts_at ASC, u.display_name ASC",
        limit,
        offset,
        base_url,
    )


async def for_organisation(
    organisation_id: uuid.UUID,
    *,
    month: date | None,
    agent_id: uuid.UUID | None,
    limit: int,
    offset: int,
    base_url: str,
) -> tuple[list[BookingSummary], int]:
    where = "b.organisation = {}"
    args: list[Any] = [organisation_id]
    if month is not None:
        following = (month.replace(day=1) + timedelta(days=32)).replace(day=1)
        where += " AND b.local_date >= {} AND b.local_date < {}"
        args += [month.replace(day=1), following]
    if agent_id is not None:
        where += " AND b.agent = {}"
        args.append(agent_id)
    return await _page(where, args, "b.starts_at DESC", limit, offset, base_url)


@dataclass(frozen=True)
class BookingParties:
    """Whose a booking is and where: what decides who may see it, and its status."""

    id: uuid.UUID
    status: str
    agent_id: uuid.UUID
    organisation_id: uuid.UUID
    venue_id: uuid.UUID

    @classmethod
    def of_row(cls, row: dict[str, Any]) -> BookingParties:
        return cls(row["id"], row["status"], row["agent"], row["organisation"], row["venue"])


def may_see(principal: Principal, booking: BookingParties) -> bool:
    if principal.is_network_admin:
        return True
    if principal.is_device or principal.role in VENUE_ROLES:
        return principal.venue_id == booking.venue_id
    if principal.role == Role.ORG_ADMIN:
        return principal.organisation_id == booking.organisation_id
    return principal.user_id == booking.agent_id


async def get_visible(principal: Principal, booking_id: uuid.UUID) -> BookingParties:
    row = (
        await Booking.select(
            Booking.id, Booking.status, Booking.agent, Booking.organisation, Booking.venue
        )
        .where(Booking.id == booking_id)
        .first()
    )
    booking = None if row is None else BookingParties.of_row(row)
    if booking is None or not may_see(principal, booking):
        raise NotFound(N_("No such booking."))
    return booking
