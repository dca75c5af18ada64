"""Bookings: the rules for taking and releasing seats and rooms, enforced with the database.

Concurrency is the database's job here. Each booking runs in one transaction that
(1) locks the agent's row, so that one agent's bookings — and so their allowance — are
serialised; (2) inserts the booking, whose exclusion constraints refuse an overlapping
booking of the same room or the same agent; (3) for shared desks, increments the seat
counter of each half-day, whose CHECK refuses more seats than the capacity. Python checks
before that only give friendlier messages; they are never what keeps the promise.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from booking import calendars
from booking.errors import (
    AgentAlreadyBooked,
    AllowanceExceeded,
    BeyondHorizon,
    BookingNotCancellable,
    CapacityExhausted,
    Forbidden,
    Inactive,
    InThePast,
    InvalidValue,
    NotFound,
    OutsideOpeningHours,
    RoomTaken,
    VenueClosed,
    WorkspaceUnavailable,
)
from booking.identity import VENUE_ROLES, Principal, Role
from booking.tables import (
    Booking,
    Closure,
    OpeningHours,
    Organisation,
    Outbox,
    User,
    Venue,
    Workspace,
)
from service.i18n import N_

SLOTS = ("morning", "afternoon", "day")
LIVE_STATUSES = ("confirmed", "checked_in", "completed")
SHARED_KINDS = ("desk",)
# A half-day of allowance is about four hours of a room.
MINUTES_PER_ALLOWANCE_UNIT = 240


@dataclass(frozen=True)
class BookingRequest:
    workspace_id: uuid.UUID
    agent_id: uuid.UUID | None = None
    date: date | None = None
    slot: str | None = None
    start: datetime | None = None  # naive = the venue's local time
    end: datetime | None = None
    series_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Placement:
    """Where and when a booking falls, computed in the venue's time zone."""

    starts_at: datetime
    ends_at: datetime
    local_date: date
    slot: str | None
    unit: str
    quantity: int
    halves: tuple[str, ...]
    allowance_units: int


def _zone(venue: dict[str, Any]) -> ZoneInfo:
    return ZoneInfo(venue["timezone"])


def slot_times(venue: dict[str, Any], slot: str) -> tuple[time, time]:
    if slot == "morning":
        return venue["morning_start"], venue["morning_end"]
    if slot == "afternoon":
        return venue["afternoon_start"], venue["afternoon_end"]
    return venue["morning_start"], venue["afternoon_end"]


def place(venue: dict[str, Any], workspace: dict[str, Any], request: BookingRequest) -> Placement:
    """Turn a request into a UTC range in the venue's zone, or say which field is wrong."""
    zone = _zone(venue)
    hourly = workspace["booking_unit"] == "hour"
    if hourly:
        if request.start is None or request.end is None:
            raise InvalidValue(
                "This room is booked by the hour: give start and end.", field="start"
            )
        start = _local(request.start, zone)
        end = _local(request.end, zone)
        if end <= start:
            raise InvalidValue("The end must come after the start.", field="end")
        if start.date() != end.date():
            raise InvalidValue("A booking starts and ends on the same day.", field="end")
        if start.minute % 30 or end.minute % 30 or start.second or end.second:
            raise InvalidValue("Rooms are booked by half-hours (hh:00 or hh:30).", field="start")
        minutes = int((end - start).total_seconds() // 60)
        return Placement(
            starts_at=start.astimezone(UTC),
            ends_at=end.astimezone(UTC),
            local_date=start.date(),
            slot=None,
            unit="hour",
            quantity=math.ceil(minutes / 60),
            halves=(),
            allowance_units=math.ceil(minutes / MINUTES_PER_ALLOWANCE_UNIT),
        )
    if request.date is None or request.slot is None:
        raise InvalidValue("Give a date and a slot (morning, afternoon, day).", field="slot")
    if request.slot not in SLOTS:
        raise InvalidValue("The slot is morning, afternoon or day.", field="slot")
    if workspace["booking_unit"] == "day" and request.slot != "day":
        raise InvalidValue("This workspace is booked by the whole day.", field="slot")
    opens, closes = slot_times(venue, request.slot)
    halves = {"morning": ("am",), "afternoon": ("pm",), "day": ("am", "pm")}[request.slot]
    return Placement(
        starts_at=datetime.combine(request.date, opens, tzinfo=zone).astimezone(UTC),
        ends_at=datetime.combine(request.date, closes, tzinfo=zone).astimezone(UTC),
        local_date=request.date,
        slot=request.slot,
        unit="day" if request.slot == "day" else "half_day",
        quantity=1,
        halves=halves,
        allowance_units=len(halves),
    )


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)


async def _check_opening(venue: dict[str, Any], placement: Placement, hourly: bool) -> None:
    zone = _zone(venue)
    start = placement.starts_at.astimezone(zone)
    end = placement.ends_at.astimezone(zone)
    closed = await Closure.exists().where(
        (Closure.venue == venue["id"])
        & (Closure.starts_on <= placement.local_date)
        & (Closure.ends_on >= placement.local_date)
    )
    if closed:
        raise VenueClosed(
            N_("The venue is closed on %(date)s."), date=placement.local_date.isoformat()
        )
    ranges = await OpeningHours.select(OpeningHours.opens, OpeningHours.closes).where(
        (OpeningHours.venue == venue["id"])
        & (OpeningHours.weekday == placement.local_date.weekday())
    )
    if hourly:
        # A room must be inside one opening range.
        fits = any(r["opens"] <= start.time() and end.time() <= r["closes"] for r in ranges)
    else:
        # A half-day slot needs the venue open during part of it (a lunch break is fine).
        fits = any(r["opens"] < end.time() and start.time() < r["closes"] for r in ranges)
    if not fits:
        raise OutsideOpeningHours(field="start" if hourly else "slot")


async def _resolve_agent(principal: Principal, agent_id: uuid.UUID | None) -> uuid.UUID:
    if principal.role == Role.AGENT:
        if agent_id is not None and agent_id != principal.user_id:
            raise Forbidden("An agent books for themself only.", field="agent_id")
        assert principal.user_id is not None
        return principal.user_id
    if principal.role == Role.ORG_ADMIN:
        if agent_id is None:
            raise InvalidValue("Say which agent the booking is for.", field="agent_id")
        member = await User.exists().where(
            (User.id == agent_id)
            & (User.organisation == principal.organisation_id)
            & (User.role == Role.AGENT.value)
        )
        if not member:
            raise NotFound("No such agent in your organisation.", field="agent_id")
        return agent_id
    raise Forbidden("Only agents and organisation admins book.")


def _month_bounds(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following


async def units_used(agent_id: uuid.UUID, month_of: date, organisation: dict[str, Any]) -> int:
    """Allowance units the agent has booked or used in the month of `month_of`."""
    first, following = _month_bounds(month_of)
    rows = await Booking.raw(
        """
        SELECT coalesce(sum(allowance_units), 0) AS used FROM booking
         WHERE agent = {} AND local_date >= {} AND local_date < {}
           AND (status IN ('confirmed', 'checked_in', 'completed')
                OR (status = 'no_show' AND {})
                OR (status = 'late_cancelled' AND {}))
        """,
        agent_id,
        first,
        following,
        organisation["bill_no_shows"],
        organisation["bill_late_cancellations"],
    )
    return int(rows[0]["used"])


def allowance_units(agent: dict[str, Any], organisation: dict[str, Any]) -> int:
    """Half-days a month: the agent's own allowance, else the organisation's default."""
    own = agent["monthly_allowance_units"]
    return int(own if own is not None else organisation["monthly_allowance_units"])


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
        raise NotFound("No such agent.")
    organisation = (
        await Organisation.select().where(Organisation.id == agent["organisation"]).first()
    )
    assert organisation is not None
    return MonthlyAllowance(
        used=await units_used(agent_id, month_of, organisation),
        allowed=allowance_units(agent, organisation),
    )


async def book(
    principal: Principal,
    request: BookingRequest,
    *,
    base_url: str,
    now: datetime | None = None,
) -> uuid.UUID:
    """Book, or raise the domain error that says why not. Returns the booking id."""
    now = now or datetime.now(UTC)
    agent_id = await _resolve_agent(principal, request.agent_id)
    workspace = await Workspace.select().where(Workspace.id == request.workspace_id).first()
    if workspace is None:
        raise NotFound("No such workspace.", field="workspace_id")
    venue = await Venue.select().where(Venue.id == workspace["venue"]).first()
    assert venue is not None
    if not workspace["active"] or venue["status"] != "approved":
        raise WorkspaceUnavailable()
    hourly = workspace["booking_unit"] == "hour"
    placement = place(venue, workspace, request)
    if placement.starts_at <= now:
        raise InThePast(field="start" if hourly else "date")
    await _check_opening(venue, placement, hourly)

    async with Booking._meta.db.transaction():
        # Serialises this agent's bookings: the allowance sum below cannot be raced.
        agents = await User.raw(
            "SELECT id, organisation, active, monthly_allowance_units, email, display_name "
            "FROM app_user WHERE id = {} FOR NO KEY UPDATE",
            agent_id,
        )
        if not agents:
            raise NotFound("No such agent.", field="agent_id")
        agent = agents[0]
        organisation = (
            await Organisation.select().where(Organisation.id == agent["organisation"]).first()
        )
        assert organisation is not None
        if not agent["active"] or not organisation["active"]:
            raise Inactive()
        today = now.astimezone(_zone(venue)).date()
        if placement.local_date > today + timedelta(days=organisation["booking_horizon_days"]):
            raise BeyondHorizon(
                f"Your organisation allows booking {organisation['booking_horizon_days']} days "
                "ahead.",
                field="date" if not hourly else "start",
            )
        allowance = allowance_units(agent, organisation)
        used = await units_used(agent_id, placement.local_date, organisation)
        if used + placement.allowance_units > allowance:
            raise AllowanceExceeded(
                f"This needs {placement.allowance_units} half-day(s); {used} of {allowance} "
                "are already used this month."
            )
        shared = workspace["kind"] in SHARED_KINDS
        booking = Booking(
            agent=agent_id,
            organisation=organisation["id"],
            venue=venue["id"],
            workspace=workspace["id"],
            starts_at=placement.starts_at,
            ends_at=placement.ends_at,
            local_date=placement.local_date,
            slot=placement.slot,
            unit=placement.unit,
            quantity=placement.quantity,
            seats=1 if shared else workspace["capacity"],
            exclusive=not shared,
            allowance_units=placement.allowance_units,
            created_by=principal.user_id,
            series=request.series_id,
        )
        try:
            await booking.save()
            for half in placement.halves if shared else ():
                await _take_seat(workspace["id"], placement.local_date, half, workspace["capacity"])
        except asyncpg.ExclusionViolationError as error:
            if error.constraint_name == "booking_room_no_overlap":
                raise RoomTaken() from None
            raise AgentAlreadyBooked() from None
        except asyncpg.CheckViolationError as error:
            if error.constraint_name == "seat_occupancy_within_capacity":
                raise CapacityExhausted() from None
            raise
        await _announce(booking.id, cancel=False, base_url=base_url)
        return booking.id


async def _take_seat(workspace_id: uuid.UUID, local_date: date, half: str, capacity: int) -> None:
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


async def _release_seats(booking: dict[str, Any]) -> None:
    if booking["exclusive"]:
        return
    halves = {"morning": ("am",), "afternoon": ("pm",), "day": ("am", "pm")}.get(
        booking["slot"] or "", ()
    )
    for half in halves:
        await Booking.raw(
            "UPDATE seat_occupancy SET seats_taken = seats_taken - 1 "
            "WHERE workspace = {} AND local_date = {} AND half = {}",
            booking["workspace"],
            booking["local_date"],
            half,
        )


async def cancel(
    principal: Principal,
    booking_id: uuid.UUID,
    *,
    base_url: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> uuid.UUID:
    """Cancel a confirmed booking; late when past the organisation's deadline (agent side)."""
    now = now or datetime.now(UTC)
    async with Booking._meta.db.transaction():
        rows = await Booking.raw("SELECT * FROM booking WHERE id = {} FOR UPDATE", booking_id)
        if not rows:
            raise NotFound("No such booking.")
        booking = rows[0]
        by_venue = _may_see(principal, booking) and principal.role in VENUE_ROLES
        if not _may_see(principal, booking):
            raise NotFound("No such booking.")
        if principal.is_device:
            raise Forbidden("Door devices do not cancel bookings.")
        if booking["status"] != "confirmed":
            raise BookingNotCancellable(
                f"This booking is {booking['status'].replace('_', ' ')}; it cannot be cancelled."
            )
        if by_venue and not (reason and reason.strip()):
            raise InvalidValue("A venue cancelling a booking says why.", field="reason")
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
        await _release_seats(booking)
        await _announce(booking_id, cancel=True, base_url=base_url)
    return booking_id


def _may_see(principal: Principal, booking: dict[str, Any]) -> bool:
    if principal.is_network_admin:
        return True
    if principal.is_device or principal.role in VENUE_ROLES:
        return principal.venue_id == booking["venue"]
    if principal.role == Role.ORG_ADMIN:
        return principal.organisation_id == booking["organisation"]
    return principal.user_id == booking["agent"]


async def get_visible(principal: Principal, booking_id: uuid.UUID) -> dict[str, Any]:
    booking = await Booking.select().where(Booking.id == booking_id).first()
    if booking is None or not _may_see(principal, booking):
        raise NotFound("No such booking.")
    return booking


async def calendar_entry(booking_id: uuid.UUID, base_url: str) -> calendars.CalendarEntry:
    rows = await Booking.raw(
        """
        SELECT b.id, b.sequence, b.starts_at, b.ends_at, b.status, b.updated_at,
               w.name AS workspace_name, w.kind AS workspace_kind,
               v.name AS venue_name, v.address, v.postcode, v.commune, v.latitude, v.longitude,
               v.timezone, u.email, u.display_name
          FROM booking b JOIN workspace w ON w.id = b.workspace
          JOIN venue v ON v.id = b.venue JOIN app_user u ON u.id = b.agent
         WHERE b.id = {}
        """,
        booking_id,
    )
    row = rows[0]
    return calendars.CalendarEntry(
        booking_id=row["id"],
        sequence=row["sequence"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        timezone=row["timezone"],
        status=row["status"],
        summary=f"{row['workspace_name']} — {row['venue_name']}",
        venue_name=row["venue_name"],
        address=f"{row['address']}, {row['postcode']} {row['commune']}",
        latitude=row["latitude"],
        longitude=row["longitude"],
        url=f"{base_url}/api/v1/bookings/{row['id']}",
        attendee_email=row["email"],
        attendee_name=row["display_name"],
        updated_at=row["updated_at"],
    )


async def _announce(booking_id: uuid.UUID, *, cancel: bool, base_url: str) -> None:
    """Queue the confirmation or cancellation email, in the booking's own transaction."""
    entry = await calendar_entry(booking_id, base_url)
    zone = ZoneInfo(entry.timezone)
    start = entry.starts_at.astimezone(zone)
    end = entry.ends_at.astimezone(zone)
    when = f"le {start:%d/%m/%Y} de {start:%H:%M} à {end:%H:%M}"
    if cancel:
        subject = f"Réservation annulée : {entry.venue_name} {when}"
        body = (
            f"Bonjour {entry.attendee_name},\n\nVotre réservation « {entry.summary} » {when} "
            f"est annulée.\n\n{entry.url}\n"
        )
    else:
        subject = f"Réservation confirmée : {entry.venue_name} {when}"
        body = (
            f"Bonjour {entry.attendee_name},\n\nVotre réservation « {entry.summary} » {when} est "
            f"confirmée.\nAdresse : {entry.address}\nPrésentez votre Pass Tiers-Lieux à "
            f"l'accueil.\n\n{entry.url}\n"
        )
    await Outbox(
        kind="booking_cancelled" if cancel else "booking_confirmed",
        recipient=entry.attendee_email or "",
        subject=subject,
        body=body,
        calendar=calendars.invitation(entry, cancel=cancel).decode(),
        calendar_method="CANCEL" if cancel else "REQUEST",
        booking=booking_id,
    ).save()


async def venue_today(venue_id: uuid.UUID, now: datetime | None = None) -> date:
    """Today's date in the venue's own time zone."""
    venue = await Venue.select(Venue.timezone).where(Venue.id == venue_id).first()
    if venue is None:
        raise NotFound("No such venue.")
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(venue["timezone"])).date()


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
    for booking in rows:
        await Booking.update(
            {
                Booking.status: "cancelled",
                Booking.cancelled_at: now,
                Booking.cancelled_by_venue: True,
                Booking.cancel_reason: f"Fermeture du lieu : {reason}",
                Booking.sequence: Booking.sequence + 1,
                Booking.updated_at: now,
            }
        ).where(Booking.id == booking["id"])
        await _release_seats(booking)
        await _announce(booking["id"], cancel=True, base_url=base_url)
    return len(rows)
