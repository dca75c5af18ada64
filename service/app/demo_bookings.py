"""A month of the demo network's life: past bookings with their visits, and the days ahead.

Built in memory from the catalogue rows `service.app.seed` builds (`service.app.demo_catalogue`),
with the same rules the booking service enforces (opening days, closures, seats per
half-day, one room booking at a time, one place per agent at a time, the monthly
allowance), so that the seeded counters and exclusion constraints hold and new bookings
made in the demo behave.
Completed bookings get their visit, priced with the rates in force on the day.
"""

from __future__ import annotations

import math
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from booking.tables import Booking, SeatOccupancy, User, Venue, Workspace
from passes.tables import Visit
from service.app.demo_catalogue import DemoData

# Separate from the catalogue's seed: adding bookings must not reshuffle the venues.
BOOKINGS_SEED = 59512
PAST_DAYS = 30
FUTURE_DAYS = 10
SHARED_KINDS = ("desk",)
HALVES: dict[str, tuple[str, ...]] = {
    "morning": ("am",),
    "afternoon": ("pm",),
    "day": ("am", "pm"),
}
NO_HALVES: tuple[str, ...] = ()
# Room bookings: (start, hours) that fit in every venue's opening ranges.
ROOM_TIMES = ((time(9, 0), 2), (time(10, 0), 2), (time(14, 0), 2), (time(15, 0), 1))
# The fixed demo agent and the first venue get something to show today and tomorrow.
DEMO_AGENT = "agent@demo.test"


@dataclass
class BookingData:
    bookings: list[Booking] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    occupancy: list[SeatOccupancy] = field(default_factory=list)


@dataclass
class _Ledger:
    """What is taken so far, to keep the promises the database checks."""

    seats: dict[tuple[uuid.UUID, date, str], int] = field(default_factory=lambda: defaultdict(int))
    exclusive: dict[tuple[uuid.UUID, date], list[tuple[datetime, datetime]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    agent_days: set[tuple[uuid.UUID, date]] = field(default_factory=set)
    units: dict[tuple[uuid.UUID, int, int], int] = field(default_factory=lambda: defaultdict(int))


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


RateHistory = list[tuple[date, int, Decimal]]


def _rates(
    data: DemoData,
) -> tuple[
    dict[tuple[uuid.UUID, str, str], RateHistory],
    dict[tuple[uuid.UUID | None, str, str], RateHistory],
]:
    venue_rates: dict[tuple[uuid.UUID, str, str], RateHistory] = defaultdict(list)
    for r in data.venue_rates:
        venue_rates[(r.venue, r.workspace_kind, r.unit)].append(
            (r.effective_from, r.amount_cents, r.vat_rate)
        )
    organisation_rates: dict[tuple[uuid.UUID | None, str, str], RateHistory] = defaultdict(list)
    for o in data.organisation_rates:
        organisation_rates[(o.organisation, o.workspace_kind, o.unit)].append(
            (o.effective_from, o.amount_cents, o.vat_rate)
        )
    return venue_rates, organisation_rates


def _in_force(history: RateHistory, on: date) -> tuple[int, Decimal] | None:
    started = [h for h in history if h[0] <= on]
    if not started:
        return None
    _, amount, vat = max(started)
    return amount, vat


def build_bookings(data: DemoData, today: date) -> BookingData:
    """Bookings from PAST_DAYS ago to FUTURE_DAYS ahead; the same for a given day."""
    rng = random.Random(BOOKINGS_SEED)
    out = BookingData()
    ledger = _Ledger()
    venues = {v.id: v for v in data.venues if v.status == "approved"}
    workspaces: dict[uuid.UUID, list[Workspace]] = defaultdict(list)
    for w in data.workspaces:
        if w.venue in venues:
            workspaces[w.venue].append(w)
    open_days: dict[uuid.UUID, set[int]] = defaultdict(set)
    for h in data.opening_hours:
        open_days[h.venue].add(h.weekday)
    closed: dict[uuid.UUID, list[tuple[date, date]]] = defaultdict(list)
    for c in data.closures:
        closed[c.venue].append((c.starts_on, c.ends_on))
    allowance = {o.id: o.monthly_allowance_units for o in data.organisations}
    venue_rates, organisation_rates = _rates(data)
    agents = [u for u in data.users if u.role == "agent"]
    venue_ids = sorted(venues, key=lambda v: venues[v].name)
    first_venue = data.venues[0].id

    def is_open(venue_id: uuid.UUID, day: date) -> bool:
        return day.weekday() in open_days[venue_id] and not any(
            start <= day <= end for start, end in closed[venue_id]
        )

    def book(agent: User, venue: Venue, workspace: Workspace, day: date, status: str) -> bool:
        zone = ZoneInfo(venue.timezone)
        shared = workspace.kind in SHARED_KINDS
        if workspace.booking_unit == "hour":
            start_time, hours = rng.choice(ROOM_TIMES)
            starts_at = datetime.combine(day, start_time, tzinfo=zone)
            ends_at = starts_at + timedelta(hours=hours)
            slot, unit, quantity, halves = None, "hour", hours, NO_HALVES
            units = math.ceil(hours * 60 / 240)
        else:
            slot = (
                "day"
                if workspace.booking_unit == "day"
                else rng.choice(("morning", "afternoon", "day", "day"))
            )
            opens = venue.afternoon_start if slot == "afternoon" else venue.morning_start
            closes = venue.morning_end if slot == "morning" else venue.afternoon_end
            starts_at = datetime.combine(day, opens, tzinfo=zone)
            ends_at = datetime.combine(day, closes, tzinfo=zone)
            unit = "day" if slot == "day" else "half_day"
            quantity, halves, units = 1, HALVES[slot], len(HALVES[slot])
        holds = status in ("confirmed", "checked_in", "completed", "no_show")
        month = (agent.id, day.year, day.month)
        if (agent.id, day) in ledger.agent_days:
            return False
        if status != "cancelled" and ledger.units[month] + units > allowance[agent.organisation]:
            return False
        full = any(
            ledger.seats.get((workspace.id, day, h), 0) >= workspace.capacity for h in halves
        )
        if holds and shared and full:
            return False
        if holds and not shared:
            taken = ledger.exclusive[(workspace.id, day)]
            if any(s < ends_at and starts_at < e for s, e in taken):
                return False

        ledger.agent_days.add((agent.id, day))
        if status != "cancelled":
            ledger.units[month] += units
        if holds and shared:
            for h in halves:
                ledger.seats[(workspace.id, day, h)] += 1
        if holds and not shared:
            ledger.exclusive[(workspace.id, day)].append((starts_at, ends_at))

        created_at = datetime.combine(
            min(day, today) - timedelta(days=rng.randrange(1, 8)), time(rng.randrange(8, 21)), UTC
        )
        booking = Booking(
            id=_uuid(rng),
            agent=agent.id,
            organisation=agent.organisation,
            venue=venue.id,
            workspace=workspace.id,
            starts_at=starts_at.astimezone(UTC),
            ends_at=ends_at.astimezone(UTC),
            local_date=day,
            slot=slot,
            unit=unit,
            quantity=quantity,
            seats=1 if shared else workspace.capacity,
            exclusive=not shared,
            allowance_units=units,
            status=status,
            created_by=agent.id,
            created_at=created_at,
            updated_at=created_at,
        )
        if status in ("cancelled", "late_cancelled"):
            before = timedelta(hours=rng.randrange(2, 20) if status == "late_cancelled" else 60)
            booking.cancelled_at = max(booking.starts_at - before, created_at)
            booking.cancelled_by = agent.id
            booking.cancel_reason = "Réunion en présentiel imprévue"
            booking.sequence = 1
            booking.updated_at = booking.cancelled_at
        if status == "completed":
            booking.checked_in_at = booking.starts_at + timedelta(minutes=rng.randrange(0, 25))
            booking.checked_out_at = booking.ends_at - timedelta(minutes=rng.randrange(0, 40))
            booking.updated_at = booking.checked_out_at
            venue_price = _in_force(venue_rates[(venue.id, workspace.kind, unit)], day)
            organisation_price = _in_force(
                organisation_rates[(agent.organisation, workspace.kind, unit)], day
            ) or _in_force(organisation_rates[(None, workspace.kind, unit)], day)
            assert venue_price, (venue.name, workspace.kind, unit)
            assert organisation_price, (workspace.kind, unit)
            out.visits.append(
                Visit(
                    id=_uuid(rng),
                    agent=agent.id,
                    organisation=agent.organisation,
                    venue=venue.id,
                    workspace=workspace.id,
                    booking=booking.id,
                    local_date=day,
                    unit=unit,
                    quantity=quantity,
                    checked_in_at=booking.checked_in_at,
                    checked_out_at=booking.checked_out_at,
                    venue_rate_cents=venue_price[0],
                    venue_vat_rate=venue_price[1],
                    organisation_rate_cents=organisation_price[0],
                    organisation_vat_rate=organisation_price[1],
                    created_at=booking.checked_in_at,
                )
            )
        out.bookings.append(booking)
        return True

    def pick_workspace(venue_id: uuid.UUID) -> Workspace:
        choices = workspaces[venue_id]
        desks = [w for w in choices if w.kind == "desk"]
        roll = rng.random()
        if roll < 0.82 and desks:
            return rng.choice(desks)
        rooms = [w for w in choices if w.kind == "meeting_room"]
        if roll < 0.94 and rooms:
            return rng.choice(rooms)
        return rng.choice(choices)

    # The demo agent's next working days at the first venue, booked first so that the
    # allowance leaves room for them: something to see at once in "my bookings" and in
    # the venue's arrivals.
    demo_agent = next(a for a in agents if a.email == DEMO_AGENT)
    first_desks = [w for w in workspaces[first_venue] if w.kind == "desk"]
    upcoming = [today + timedelta(days=n) for n in range(FUTURE_DAYS)]
    working = [d for d in upcoming if d.weekday() < 5 and is_open(first_venue, d)]
    # Today (for the arrivals and the scanner) and a later day; the next working day stays
    # free, for the story "find a desk for tomorrow morning and book it".
    for day in working[:1] + working[2:3]:
        book(demo_agent, venues[first_venue], first_desks[0], day, "confirmed")

    homes = {a.id: (rng.choice(venue_ids), rng.choice(venue_ids)) for a in agents}
    for offset in range(-PAST_DAYS, FUTURE_DAYS + 1):
        day = today + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for agent in agents:
            if rng.random() >= (0.3 if offset < 0 else 0.15):
                continue
            if agent is demo_agent and offset >= 0:
                continue  # the demo agent's days ahead are the ones above
            home, other = homes[agent.id]
            venue_id = home if rng.random() < 0.75 else other
            if not is_open(venue_id, day):
                continue
            status = "confirmed"
            if offset < 0:
                roll = rng.random()
                status = (
                    "completed"
                    if roll < 0.8
                    else "no_show"
                    if roll < 0.88
                    else "late_cancelled"
                    if roll < 0.93
                    else "cancelled"
                )
            book(agent, venues[venue_id], pick_workspace(venue_id), day, status)
    capacity = {w.id: w.capacity for w in data.workspaces}
    for (workspace_id, day, half), taken in sorted(ledger.seats.items()):
        out.occupancy.append(
            SeatOccupancy(
                workspace=workspace_id,
                local_date=day,
                half=half,
                seats_taken=taken,
                capacity=capacity[workspace_id],
            )
        )
    return out
