"""What a door scanner keeps to work without network: today's bookings, revocations, keys.

The scanner page reads this when online and keeps it in the browser; offline, it verifies
tokens with the same rules as `passes.verify` and names the holder from today's bookings
(people who booked this venue today, whom its staff see anyway; the QR names nobody).
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from booking.tables import Venue
from passes.tables import Pass, PassKey
from passes.verify import CLOCK_SKEW_SECONDS
from service.kernel.errors import NotFound
from service.kernel.i18n import N_


@dataclass(frozen=True)
class DoorDay:
    """A venue on its local date: open or not, and who booked it (arrived or expected)."""

    venue_id: uuid.UUID
    venue_name: str
    timezone: str
    local_date: date
    open_today: bool
    bookings: list[dict[str, Any]]


async def day_at(venue_id: uuid.UUID, now: datetime | None = None) -> DoorDay:
    """Today's bookings at the venue with their holder's live pass serial, arrivals first."""
    now = now or datetime.now(UTC)
    venues = await Pass.raw(
        "SELECT v.id, v.name, v.timezone, ({}::timestamptz AT TIME ZONE v.timezone)::date AS day, "
        "v.status = 'approved' AND NOT EXISTS (SELECT 1 FROM closure c WHERE c.venue = v.id "
        "AND ({}::timestamptz AT TIME ZONE v.timezone)::date BETWEEN c.starts_on AND c.ends_on) "
        "AS open_today FROM venue v WHERE v.id = {}",
        now,
        now,
        venue_id,
    )
    if not venues:
        raise NotFound(N_("No such venue."))
    venue = venues[0]
    rows = await Pass.raw(
        """
        SELECT b.id AS booking_id, b.status, b.walk_in, b.starts_at, b.ends_at, b.slot,
               coalesce(vi.checked_in_at, b.checked_in_at) AS checked_in_at,
               u.display_name AS agent_name, o.name AS organisation_name,
               w.name AS workspace_name, p.serial
          FROM booking b
          JOIN app_user u ON u.id = b.agent
          JOIN organisation o ON o.id = b.organisation
          JOIN workspace w ON w.id = b.workspace
          LEFT JOIN visit vi ON vi.booking = b.id
          LEFT JOIN pass p ON p.agent = b.agent AND p.status <> 'revoked'
         WHERE b.venue = {} AND b.local_date = {}
           AND b.status IN ('confirmed', 'checked_in', 'completed')
         ORDER BY coalesce(vi.checked_in_at, b.checked_in_at) DESC NULLS LAST, b.starts_at,
                  u.display_name
        """,
        venue_id,
        venue["day"],
    )
    return DoorDay(
        venue_id=venue["id"],
        venue_name=venue["name"],
        timezone=venue["timezone"],
        local_date=venue["day"],
        open_today=venue["open_today"],
        bookings=rows,
    )


async def meeting_attendees_on(venue_id: uuid.UUID, day: date) -> list[dict[str, Any]]:
    """Today's meeting attendees at the venue with the serial they will show, to name offline.

    A guest shows their guest pass, a colleague their own live pass; the organiser is among
    the day's bookings already.
    """
    return await Pass.raw(
        """
        SELECT p.serial, a.display_name AS agent_name, w.name AS workspace_name,
               b.starts_at, b.ends_at,
               (SELECT o.display_name FROM meeting_attendee o WHERE o.booking = b.id
                   AND o.role = 'organiser' AND o.removed_at IS NULL) AS host
          FROM meeting_attendee a
          JOIN booking b ON b.id = a.booking
          JOIN workspace w ON w.id = b.workspace
          JOIN pass p ON p.status <> 'revoked'
                     AND (p.attendee = a.id OR (a.person IS NOT NULL AND p.agent = a.person))
         WHERE b.venue = {} AND b.local_date = {} AND a.removed_at IS NULL
           AND (a.person IS NULL OR a.person <> b.agent)
           AND b.status IN ('confirmed', 'checked_in', 'completed')
         ORDER BY b.starts_at, a.display_name
        """,
        venue_id,
        day,
    )


async def venue_zone(venue_id: uuid.UUID) -> ZoneInfo:
    """The venue's time zone, in which the door shows times."""
    row = await Venue.select(Venue.timezone).where(Venue.id == venue_id).first()
    if row is None:
        raise NotFound(N_("No such venue."))
    return ZoneInfo(row["timezone"])


async def booking_at_door(booking_id: uuid.UUID) -> dict[str, Any] | None:
    """What the door shows of a scan's booking: the workspace and the time range."""
    rows = await Pass.raw(
        "SELECT b.id AS booking_id, b.starts_at, b.ends_at, b.slot, b.walk_in, "
        "w.name AS workspace_name FROM booking b JOIN workspace w ON w.id = b.workspace "
        "WHERE b.id = {}",
        booking_id,
    )
    return rows[0] if rows else None


async def refused_serials(now: datetime | None = None) -> dict[str, list[int]]:
    """Serials revoked or suspended, of passes that have not expired (older ones fail anyway)."""
    now = now or datetime.now(UTC)
    horizon = now - timedelta(seconds=CLOCK_SKEW_SECONDS)
    rows = await Pass.select(Pass.serial, Pass.status).where(
        (Pass.status != "active") & (Pass.not_after > horizon)
    )
    return {
        "revoked": sorted(r["serial"] for r in rows if r["status"] == "revoked"),
        "suspended": sorted(r["serial"] for r in rows if r["status"] == "suspended"),
    }


async def verification_keys() -> list[dict[str, Any]]:
    """Every published public key (a retired key still verifies its passes), base64url."""
    rows = await PassKey.select(PassKey.key_id, PassKey.public_key).order_by(PassKey.key_id)
    return [
        {
            "key_id": r["key_id"],
            "public_key": base64.urlsafe_b64encode(bytes(r["public_key"])).decode().rstrip("="),
        }
        for r in rows
    ]
