"""Cancellations: releasing a booking's seat or room, by the agent, the venue or a closure."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from booking.errors import BookingNotCancellable
from booking.services import announcements, meetings, seats
from booking.services.booking_lists import BookingParties, may_see
from booking.tables import (
    Booking,
    Organisation,
)
from service.kernel import audit
from service.kernel.errors import Forbidden, InvalidValue, NotFound
from service.kernel.i18n import N_
from service.kernel.identity import VENUE_ROLES, Principal


async def cancel(
    principal: Principal,
    booking_id: uuid.UUID,
    *,
    base_url: str,
    reason: str | None = None,
    now: datetime | None = None,
    audited: bool = True,
) -> uuid.UUID:
    """Cancel a confirmed booking; late when past the organisation's deadline (agent side).

    An admin's cancellation is audited unless `audited` is off (a series writes one row)."""
    now = now or datetime.now(UTC)
    async with Booking._meta.db.transaction():
        rows = await Booking.raw("SELECT * FROM booking WHERE id = {} FOR UPDATE", booking_id)
        if not rows:
            raise NotFound(N_("No such booking."))
        booking = rows[0]
        parties = BookingParties.of_row(booking)
        by_venue = may_see(principal, parties) and principal.role in VENUE_ROLES
        if not may_see(principal, parties):
            raise NotFound(N_("No such booking."))
        if principal.is_device:
            raise Forbidden(N_("Door devices do not cancel bookings."))
        if booking["status"] != "confirmed":
            raise BookingNotCancellable(
                N_("This booking is %(status)s; it cannot be cancelled."),
                status=booking["status"].replace("_", " "),
            )
        if by_venue and not (reason and reason.strip()):
            raise InvalidValue(N_("A venue cancelling a booking says why."), field="reason")
        status = "cancelled"
        if not by_venue and not principal.is_network_admin:
            organisation = (
                await Organisation.select(Organisation.cancellation_deadline_hours)
                .where(Organisation.id == booking["organisation"])
                .first()
            )
            assert organisation is not None
            deadline = booking["starts_at"] - timedelta(
                hours=organisation["cancellation_deadline_hours"]
            )
            if now > deadline:
                status = "late_cancelled"
        await Booking.update(
            {
                Booking.status: status,
                Booking.cancelled_at: now,
                Booking.cancelled_by: principal.user_id,
                Booking.cancelled_by_venue: by_venue,
                Booking.cancel_reason: reason,
                Booking.sequence: Booking.sequence + 1,
                Booking.updated_at: now,
            }
        ).where(Booking.id == booking_id)
        await seats.release_seats(booking)
        await announcements.announce(booking_id, cancel=True, base_url=base_url)
        await meetings.announce_cancellation(booking_id, base_url)
        if audited and audit.administrative(principal):
            await audit.act(
                "booking.cancel",
                "booking",
                booking_id,
                before={"status": "confirmed"},
                after={"status": status, "reason": reason},
            )
    return booking_id


async def cancel_for_closure(
    venue_id: uuid.UUID, starts_on: date, ends_on: date, reason: str, *, base_url: str
) -> int:
    """A closure added over existing bookings cancels them (never billable) and tells the agents."""
    now = datetime.now(UTC)
    rows = await Booking.raw(
        "SELECT * FROM booking WHERE venue = {} AND status = 'confirmed' "
        "AND local_date BETWEEN {} AND {} FOR UPDATE",
        venue_id,
        starts_on,
        ends_on,
    )
    await _cancel_all(
        rows,
        {Booking.cancelled_by_venue: True, Booking.cancel_reason: f"Fermeture du lieu : {reason}"},
        now=now,
        base_url=base_url,
    )
    return len(rows)


async def _cancel_all(
    rows: list[dict[str, Any]], fields: dict[Any, Any], *, now: datetime, base_url: str
) -> None:
    """Cancel these locked bookings (not billable), free their seats and announce each one."""
    for booking in rows:
        await Booking.update(
            {
                Booking.status: "cancelled",
                Booking.cancelled_at: now,
                Booking.sequence: Booking.sequence + 1,
                Booking.updated_at: now,
                **fields,
            }
        ).where(Booking.id == booking["id"])
        await seats.release_seats(booking)
        await announcements.announce(booking["id"], cancel=True, base_url=base_url)
        await meetings.announce_cancellation(booking["id"], base_url)


async def cancel_for_erasure(
    agent_id: uuid.UUID, by_user_id: uuid.UUID | None, *, base_url: str, now: datetime
) -> int:
    """An erasure cancels the person's bookings still to come (never billable); venues are told.

    Runs in the erasure's transaction: the booking's status and sequence change, so every venue
    feed and calendar subscribed to it shows the cancellation, and the cancellation is announced
    as for any other (the erasure then withdraws what would have gone to the person's address).
    """
    rows = await Booking.raw(
        "SELECT * FROM booking WHERE agent = {} AND status = 'confirmed' AND ends_at > {} "
        "ORDER BY starts_at FOR UPDATE",
        agent_id,
        now,
    )
    await _cancel_all(
        rows,
        {
            Booking.cancelled_by: by_user_id,
            Booking.cancelled_by_venue: False,
            Booking.cancel_reason: "Effacement des données personnelles (RGPD art. 17)",
        },
        now=now,
        base_url=base_url,
    )
    return len(rows)
