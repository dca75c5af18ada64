"""Opening hours and closures: when a venue opens in a week, and the days it is closed."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import date, time

from booking.errors import OverlappingHours
from booking.services import cancellations
from booking.tables import (
    Closure,
    OpeningHours,
    Venue,
)
from service.kernel import audit
from service.kernel.dates import within_range
from service.kernel.errors import InvalidValue, NotFound
from service.kernel.i18n import N_


@dataclass(frozen=True)
class Range:
    weekday: int
    opens: time
    closes: time


def check_week(ranges: list[Range]) -> None:
    for index, item in enumerate(ranges):
        if not 0 <= item.weekday <= 6:
            raise InvalidValue(
                N_("Weekdays go from 0 (Monday) to 6 (Sunday)."), field=f"hours[{index}].weekday"
            )
        if item.opens >= item.closes:
            raise InvalidValue(N_("A range closes after it opens."), field=f"hours[{index}].closes")
    by_day: dict[int, list[tuple[int, Range]]] = {}
    for index, item in enumerate(ranges):
        by_day.setdefault(item.weekday, []).append((index, item))
    for day in by_day.values():
        ordered = sorted(day, key=lambda pair: pair[1].opens)
        for (_, before), (index, after) in itertools.pairwise(ordered):
            if after.opens < before.closes:
                raise OverlappingHours(field=f"hours[{index}]")


async def replace_hours(venue_id: uuid.UUID, ranges: list[Range]) -> None:
    check_week(ranges)
    async with OpeningHours._meta.db.transaction():
        if not await Venue.exists().where(Venue.id == venue_id):
            raise NotFound(N_("No such venue."))
        before = await hours_of(venue_id)
        await OpeningHours.delete().where(OpeningHours.venue == venue_id)
        await audit.act(
            "opening_hours.replace",
            "venue",
            venue_id,
            before={"hours": [_plain_range(r) for r in before]},
            after={"hours": [_plain_range(r) for r in ranges]},
        )
        if ranges:
            await OpeningHours.insert(
                *[
                    OpeningHours(venue=venue_id, weekday=r.weekday, opens=r.opens, closes=r.closes)
                    for r in ranges
                ]
            )


def _plain_range(r: Range) -> list[object]:
    return [r.weekday, r.opens, r.closes]


async def hours_of(venue_id: uuid.UUID) -> list[Range]:
    rows = (
        await OpeningHours.select(OpeningHours.weekday, OpeningHours.opens, OpeningHours.closes)
        .where(OpeningHours.venue == venue_id)
        .order_by(OpeningHours.weekday)
        .order_by(OpeningHours.opens)
    )
    return [Range(r["weekday"], r["opens"], r["closes"]) for r in rows]


async def add_closure(
    venue_id: uuid.UUID, starts_on: date, ends_on: date, reason: str, *, base_url: str
) -> tuple[uuid.UUID, int]:
    """Record a closure and cancel the confirmed bookings it covers; returns how many."""
    within_range(starts_on, "starts_on")
    within_range(ends_on, "ends_on")
    if ends_on < starts_on:
        raise InvalidValue(N_("A closure ends on or after its first day."), field="ends_on")
    if not reason.strip():
        raise InvalidValue(N_("Say why the venue closes."), field="reason")
    async with Closure._meta.db.transaction():
        if not await Venue.exists().where(Venue.id == venue_id):
            raise NotFound(N_("No such venue."))
        closure = Closure(
            venue=venue_id, starts_on=starts_on, ends_on=ends_on, reason=reason.strip()
        )
        await closure.save()
        cancelled = await cancellations.cancel_for_closure(
            venue_id, starts_on, ends_on, reason.strip(), base_url=base_url
        )
        await audit.act(
            "closure.create",
            "closure",
            closure.id,
            after={
                "venue": venue_id,
                "starts_on": starts_on,
                "ends_on": ends_on,
                "reason": reason.strip(),
                "bookings_cancelled": cancelled,
            },
        )
    return closure.id, cancelled


@dataclass(frozen=True)
class VenueClosure:
    """Days a venue is closed, first and last included."""

    id: uuid.UUID
    starts_on: date
    ends_on: date
    reason: str


async def closures_of(venue_id: uuid.UUID) -> list[VenueClosure]:
    rows = (
        await Closure.select(Closure.id, Closure.starts_on, Closure.ends_on, Closure.reason)
        .where(Closure.venue == venue_id)
        .order_by(Closure.starts_on)
    )
    return [VenueClosure(r["id"], r["starts_on"], r["ends_on"], r["reason"]) for r in rows]


async def remove_closure(venue_id: uuid.UUID, closure_id: uuid.UUID) -> None:
    if not await Closure.exists().where((Closure.id == closure_id) & (Closure.venue == venue_id)):
        raise NotFound(N_("No such closure."))
    async with Closure._meta.db.transaction():
        before = await Closure.select().where(Closure.id == closure_id).first()
        await Closure.delete().where(Closure.id == closure_id)
        await audit.act("closure.delete", "closure", closure_id, before=before)
