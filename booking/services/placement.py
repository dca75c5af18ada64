"""Placement: making a booking, from the request to the row, in one transaction.

Concurrency is the database's job here. Each booking runs in one transaction that
(1) locks the agent's row, so that one agent's bookings — and so their allowance — are
serialised; (2) inserts the booking, whose exclusion constraints refuse an overlapping
booking of the same room or the same agent; (3) for shared desks, increments the seat
counter of each half-day (see seats), whose CHECK refuses more seats than the capacity. Python
checks before that only give friendlier messages; they are never what keeps the promise.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from booking.errors import (
    AgentAlreadyBooked,
    AllowanceExceeded,
    BeyondHorizon,
    CapacityExhausted,
    Inactive,
    InThePast,
    OutsideOpeningHours,
    RoomTaken,
    VenueClosed,
    WorkspaceUnavailable,
)
from booking.services import announcements, booking_lists, seats
from booking.services.allowance import UNITS_USED, allowance_units, units_used_args
from booking.services.booking_lists import BookingSummary
from booking.tables import (
    Booking,
    Closure,
    OpeningHours,
    User,
    Workspace,
)
from service.kernel import audit
from service.kernel.dates import within_range
from service.kernel.errors import Forbidden, InvalidValue, NotFound
from service.kernel.i18n import N_
from service.kernel.identity import Principal, Role

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
                N_("This room is booked by the hour: give start and end."), field="start"
            )
        start = _local(within_range(request.start, "start"), zone)
        end = _local(within_range(request.end, "end"), zone)
        if end <= start:
            raise InvalidValue(N_("The end must come after the start."), field="end")
        if start.date() != end.date():
            raise InvalidValue(N_("A booking starts and ends on the same day."), field="end")
        if start.minute % 30 or end.minute % 30 or start.second or end.second:
            raise InvalidValue(
                N_("Rooms are booked by half-hours (hh:00 or hh:30)."), field="start"
            )
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
        raise InvalidValue(N_("Give a date and a slot (morning, afternoon, day)."), field="slot")
    within_range(request.date, "date")
    if request.slot not in SLOTS:
        raise InvalidValue(N_("The slot is morning, afternoon or day."), field="slot")
    if workspace["booking_unit"] == "day" and request.slot != "day":
        raise InvalidValue(N_("This workspace is booked by the whole day."), field="slot")
    opens, closes = slot_times(venue, request.slot)
    halves = seats.HALVES_BY_SLOT[request.slot]
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


_DEADLOCK_ATTEMPTS = 5


async def check_opening(venue: dict[str, Any], placement: Placement, hourly: bool) -> None:
    """The venue is open for this placement (its closures and opening hours, read now)."""
    day = placement.local_date
    closures = [
        (row["starts_on"], row["ends_on"])
        for row in await Closure.select(Closure.starts_on, Closure.ends_on).where(
            (Closure.venue == venue["id"]) & (Closure.starts_on <= day) & (Closure.ends_on >= day)
        )
    ]
    hours = [
        (row["weekday"], row["opens"], row["closes"])
        for row in await OpeningHours.select(
            OpeningHours.weekday, OpeningHours.opens, OpeningHours.closes
        ).where((OpeningHours.venue == venue["id"]) & (OpeningHours.weekday == day.weekday()))
    ]
    _check_opening(venue, placement, hourly, closures, hours)


# The workspace, its venue, the venue's closures around the requested day and its opening
# hours, in one round trip (the checks below are made on them in Python).
_WHERE = """
SELECT to_jsonb(w) AS workspace, to_jsonb(v) AS venue,
       coalesce((SELECT jsonb_agg(jsonb_build_array(c.starts_on, c.ends_on)) FROM closure c
                  WHERE c.venue = v.id AND c.ends_on >= {}::date - 1
                    AND c.starts_on <= {}::date + 1), '[]') AS closures,
       coalesce((SELECT jsonb_agg(jsonb_build_array(h.weekday, h.opens, h.closes))
                   FROM opening_hours h WHERE h.venue = v.id), '[]') AS hours
  FROM workspace w JOIN venue v ON v.id = w.venue
 WHERE w.id = {}
"""


def _check_opening(
    venue: dict[str, Any],
    placement: Placement,
    hourly: bool,
    closures: list[tuple[date, date]],
    hours: list[tuple[int, time, time]],
) -> None:
    zone = _zone(venue)
    start = placement.starts_at.astimezone(zone)
    end = placement.ends_at.astimezone(zone)
    day = placement.local_date
    if any(starts_on <= day <= ends_on for starts_on, ends_on in closures):
        raise VenueClosed(N_("The venue is closed on %(date)s."), date=day.isoformat())
    ranges = [(opens, closes) for weekday, opens, closes in hours if weekday == day.weekday()]
    if hourly:
        # A room must be inside one opening range.
        fits = any(opens <= start.time() and end.time() <= closes for opens, closes in ranges)
    else:
        # A half-day slot needs the venue open during part of it (a lunch break is fine).
        fits = any(opens < end.time() and start.time() < closes for opens, closes in ranges)
    if not fits:
        raise OutsideOpeningHours(field="start" if hourly else "slot")


async def _where(request: BookingRequest) -> tuple[dict[str, Any], dict[str, Any], Any, Any]:
    """The workspace and venue rows (as Piccolo's select gives them), closures, opening hours."""
    around = request.date or (request.start.date() if request.start is not None else None)
    rows = await Workspace.raw(_WHERE, around, around, request.workspace_id)
    if not rows:
        raise NotFound(N_("No such workspace."), field="workspace_id")
    row = rows[0]
    workspace, venue = _loads(row["workspace"]), _loads(row["venue"])
    workspace["id"] = uuid.UUID(workspace["id"])
    workspace["venue"] = uuid.UUID(workspace["venue"])
    venue["id"] = uuid.UUID(venue["id"])
    for name in ("morning_start", "morning_end", "afternoon_start", "afternoon_end"):
        venue[name] = time.fromisoformat(venue[name])
    closures = [(date.fromisoformat(a), date.fromisoformat(b)) for a, b in _loads(row["closures"])]
    hours = [
        (int(d), time.fromisoformat(a), time.fromisoformat(b)) for d, a, b in _loads(row["hours"])
    ]
    return workspace, venue, closures, hours


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def resolve_agent(principal: Principal, agent_id: uuid.UUID | None) -> uuid.UUID:
    if principal.role == Role.AGENT:
        if agent_id is not None and agent_id != principal.user_id:
            raise Forbidden(N_("An agent books for themself only."), field="agent_id")
        assert principal.user_id is not None
        return principal.user_id
    if principal.role == Role.ORG_ADMIN:
        if agent_id is None:
            raise InvalidValue(N_("Say which agent the booking is for."), field="agent_id")
        member = await User.exists().where(
            (User.id == agent_id)
            & (User.organisation == principal.organisation_id)
            & (User.role == Role.AGENT.value)
        )
        if not member:
            raise NotFound(N_("No such agent in your organisation."), field="agent_id")
        return agent_id
    raise Forbidden(N_("Only agents and organisation admins book."))


# The booking's insert, in one statement: the month's allowance units in use (counted now,
# under the agent's lock taken by the transaction's previous statement, so no other booking of
# this agent can be in flight), the booking only if the allowance allows it, a seat in each
# half-day's counter for a shared desk (none otherwise), and the confirmation in the outbox.
# The booking's exclusion constraints and the counters' CHECK fail the statement as they
# failed its separate inserts, and in the same order: the counters take their seat from the
# row `placed` returns, so after its constraints were checked. Nothing is written when the
# allowance refuses: `placed` is then 0 and `used` says why.
_PLACE = f"""
WITH used AS ({UNITS_USED}),
placed AS (
    INSERT INTO booking (id, agent, organisation, venue, workspace, series, starts_at, ends_at,
                         local_date, slot, unit, quantity, seats, exclusive, allowance_units,
                         status, walk_in, sequence, created_by, created_at, updated_at,
                         cancelled_by_venue)
    SELECT {{}}::uuid, {{}}::uuid, {{}}::uuid, {{}}::uuid, {{}}::uuid, {{}}::uuid,
           {{}}::timestamptz, {{}}::timestamptz, {{}}::date, {{}}::varchar, {{}}::varchar,
           {{}}::integer, {{}}::integer, {{}}::boolean, {{}}::integer, 'confirmed', false, 0,
           {{}}::uuid, {{}}::timestamptz, {{}}::timestamptz, false
      FROM used WHERE used.used + {{}}::integer <= {{}}::integer
    RETURNING id, local_date
),
taken AS ({seats.TAKE_SEATS_OF_PLACED}),
announced AS (
    INSERT INTO outbox (id, kind, recipient, subject, body, calendar, calendar_method, booking,
                        created_at, attempts, next_attempt_at)
    SELECT {{}}::uuid, {{}}::varchar, {{}}::varchar, {{}}::varchar, {{}}::text, {{}}::text,
           {{}}::varchar, placed.id, {{}}::timestamptz, 0, {{}}::timestamptz
      FROM placed
)
SELECT used.used, (SELECT count(*) FROM placed) AS placed FROM used
"""


async def book(
    principal: Principal,
    request: BookingRequest,
    *,
    base_url: str,
    now: datetime | None = None,
    audited: bool = True,
) -> uuid.UUID:
    """Book, or raise the domain error that says why not. Returns the booking id."""
    booked = await book_with_summary(
        principal, request, base_url=base_url, now=now, audited=audited
    )
    return booked.id


async def book_with_summary(
    principal: Principal,
    request: BookingRequest,
    *,
    base_url: str,
    now: datetime | None = None,
    audited: bool = True,
) -> BookingSummary:
    """Book, or raise the domain error that says why not. Returns the booking as it is read
    (booking_lists.one), built from what the transaction wrote instead of read back.

    An admin's booking (for an agent) is audited unless `audited` is off (a series writes
    one row for all its occurrences)."""
    now = now or datetime.now(UTC)
    agent_id = await resolve_agent(principal, request.agent_id)
    workspace, venue, closures, hours = await _where(request)
    if not workspace["active"] or venue["status"] != "approved":
        raise WorkspaceUnavailable()
    hourly = workspace["booking_unit"] == "hour"
    placement = place(venue, workspace, request)
    if placement.starts_at <= now:
        raise InThePast(field="start" if hourly else "date")
    _check_opening(venue, placement, hourly, closures, hours)

    # Overlapping inserts into an exclusion-constrained table can deadlock each other (each
    # waits for the other's uncommitted row); PostgreSQL aborts one, which is then tried again
    # from the start and meets the survivor's row as an ordinary conflict (room taken).
    # (Inside a caller's transaction, the abort is the caller's: no retry.)
    attempts = 1 if Booking._meta.db.transaction_exists() else _DEADLOCK_ATTEMPTS
    for attempt in range(attempts):
        try:
            async with Booking._meta.db.transaction():
                # Serialises this agent's bookings: the allowance sum below cannot be raced.
                # (Only the agent's row is locked; the organisation's is read with it.)
                agents = await User.raw(
                    "SELECT u.id, u.organisation, u.active, u.monthly_allowance_units, u.email,"
                    " u.display_name, to_jsonb(o) AS organisation_row"
                    " FROM app_user u JOIN organisation o ON o.id = u.organisation"
                    " WHERE u.id = {} FOR NO KEY UPDATE OF u",
                    agent_id,
                )
                if not agents:
                    raise NotFound(N_("No such agent."), field="agent_id")
                agent = agents[0]
                organisation = _loads(agent["organisation_row"])
                organisation["id"] = uuid.UUID(organisation["id"])
                if not agent["active"] or not organisation["active"]:
                    raise Inactive()
                today = now.astimezone(_zone(venue)).date()
                if placement.local_date > today + timedelta(
                    days=organisation["booking_horizon_days"]
                ):
                    raise BeyondHorizon(
                        N_("Your organisation allows booking %(days)s days ahead."),
                        days=organisation["booking_horizon_days"],
                        field="date" if not hourly else "start",
                    )
                allowance = allowance_units(
                    agent["monthly_allowance_units"], organisation["monthly_allowance_units"]
                )
                if (
                    workspace["kind"] == "meeting_room"
                    and not organisation["meeting_hours_use_allowance"]
                ):
                    # The organisation's policy: team meetings do not use the holder's allowance.
                    placement = replace(placement, allowance_units=0)
                shared = workspace["kind"] in SHARED_KINDS
                booking_id = uuid.uuid4()
                written = datetime.now(UTC)
                row = {
                    "id": booking_id,
                    "status": "confirmed",
                    "agent_id": agent_id,
                    "agent_name": agent["display_name"],
                    "organisation_id": organisation["id"],
                    "organisation_name": organisation["name"],
                    "venue_id": venue["id"],
                    "venue_name": venue["name"],
                    "address": f"{venue['address']}, {venue['postcode']} {venue['commune']}",
                    "workspace_id": workspace["id"],
                    "workspace_name": workspace["name"],
                    "workspace_kind": workspace["kind"],
                    "local_date": placement.local_date,
                    "slot": placement.slot,
                    "unit": placement.unit,
                    "quantity": placement.quantity,
                    "starts_at": placement.starts_at,
                    "ends_at": placement.ends_at,
                    "timezone": venue["timezone"],
                    "allowance_units": placement.allowance_units,
                    "walk_in": False,
                    "series_id": request.series_id,
                    "sequence": 0,
                    "created_at": written,
                    "cancelled_at": None,
                    "cancel_reason": None,
                    "cancelled_by_venue": False,
                }
                confirmation = announcements.message(
                    announcements.entry_of(
                        {
                            **row,
                            "postcode": venue["postcode"],
                            "commune": venue["commune"],
                            "address": venue["address"],
                            "latitude": Decimal(str(venue["latitude"])),
                            "longitude": Decimal(str(venue["longitude"])),
                            "email": agent["email"],
                            "display_name": agent["display_name"],
                            "updated_at": written,
                        },
                        base_url,
                    ),
                    cancel=False,
                )
                try:
                    placed = await Booking.raw(
                        _PLACE,
                        *units_used_args(agent_id, placement.local_date, organisation),
                        booking_id,
                        agent_id,
                        organisation["id"],
                        venue["id"],
                        workspace["id"],
                        request.series_id,
                        placement.starts_at,
                        placement.ends_at,
                        placement.local_date,
                        placement.slot,
                        placement.unit,
                        placement.quantity,
                        1 if shared else workspace["capacity"],
                        not shared,
                        placement.allowance_units,
                        principal.user_id,
                        written,
                        written,
                        placement.allowance_units,
                        allowance,
                        workspace["id"],
                        workspace["capacity"],
                        list(placement.halves if shared else ()),
                        uuid.uuid4(),
                        confirmation.kind,
                        confirmation.recipient,
                        confirmation.subject,
                        confirmation.body,
                        confirmation.calendar,
                        confirmation.calendar_method,
                        written,
                        written,
                    )
                except asyncpg.ExclusionViolationError as error:
                    if error.constraint_name == "booking_room_no_overlap":
                        raise RoomTaken() from None
                    raise AgentAlreadyBooked() from None
                except asyncpg.CheckViolationError as error:
                    if error.constraint_name == "seat_occupancy_within_capacity":
                        raise CapacityExhausted() from None
                    raise
                if not placed[0]["placed"]:
                    raise AllowanceExceeded(
                        N_(
                            "This needs %(units)s half-day(s); %(used)s of %(allowance)s are already used this month."
                        ),
                        units=placement.allowance_units,
                        used=int(placed[0]["used"]),
                        allowance=allowance,
                    )
                if audited and audit.administrative(principal):
                    await audit.act(
                        "booking.create",
                        "booking",
                        booking_id,
                        after={
                            "agent": agent_id,
                            "workspace": workspace["id"],
                            "starts_at": placement.starts_at,
                            "ends_at": placement.ends_at,
                        },
                    )
                return booking_lists.summary(row, base_url)
        except asyncpg.DeadlockDetectedError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
