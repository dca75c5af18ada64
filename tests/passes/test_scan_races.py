"""Door scans under real concurrency: requests fired together at a running server, exact counts.

Walk-ins take seats through the same counters as bookings, so the database, not Python,
decides who gets the last seats; replays and double scans must still make one scan, one
visit.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from booking.tables import Booking, SeatOccupancy
from passes.tables import Scan, Visit
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.factories import (
    make_booking,
    make_door_device,
    make_organisation,
    make_pass,
    make_rates,
    make_user,
    make_venue,
    make_workspace,
)

PARIS = ZoneInfo("Europe/Paris")
AGENTS = 50
DEVICES = 10  # five scans each: under the per-scanner rate limit


def scan_body(token: str, scan_id: str | None = None) -> dict[str, Any]:
    return {
        "scan_id": scan_id or str(uuid.uuid4()),
        "token": token,
        "scanned_at": datetime.now(UTC).isoformat(),
        "direction": "in",
    }


async def fire(
    base: str, venue_id: uuid.UUID, calls: list[tuple[dict[str, Any], dict[str, str]]]
) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(calls), max_keepalive_connections=len(calls))
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        return await asyncio.gather(
            *[
                http.post(f"/api/v1/venues/{venue_id}/scans", json=body, headers=headers)
                for body, headers in calls
            ]
        )


async def test_fifty_walk_ins_for_five_free_seats_admit_exactly_five(
    live_server: str, settings: Settings
) -> None:
    venue = await make_venue()
    desk = await make_workspace(venue, capacity=10)
    await make_rates(venue)
    now = datetime.now(PARIS)
    half = "am" if now.time() < time(13) else "pm"
    await SeatOccupancy(
        workspace=desk.id, local_date=now.date(), half=half, seats_taken=5, capacity=10
    ).save()
    organisation = await make_organisation(monthly_allowance_units=40)
    tokens = []
    for _ in range(AGENTS):
        agent = await make_user(Role.AGENT, organisation=organisation)
        tokens.append((await make_pass(settings, agent)).token)
    devices = [(await make_door_device(venue, name=f"Porte {i}"))[1] for i in range(DEVICES)]

    responses = await fire(
        live_server,
        venue.id,
        [(scan_body(token), devices[i % DEVICES]) for i, token in enumerate(tokens)],
    )

    outcome = Counter(
        "admitted" if r.json().get("admitted") else f"{r.status_code} {r.json().get('reason')}"
        for r in responses
    )
    assert outcome == Counter({"admitted": 5, "201 no_booking_no_seat": AGENTS - 5}), outcome
    assert await Booking.count().where(Booking.walk_in.eq(True)) == 5
    assert await Visit.count() == 5
    assert await Scan.count() == AGENTS
    counter = await SeatOccupancy.select().where(
        (SeatOccupancy.workspace == desk.id) & (SeatOccupancy.half == half)
    )
    assert [c["seats_taken"] for c in counter] == [10]


async def test_a_scan_replayed_concurrently_is_recorded_once(
    live_server: str, settings: Settings
) -> None:
    venue = await make_venue()
    desk = await make_workspace(venue, capacity=10)
    await make_rates(venue)
    agent = await make_user(Role.AGENT)
    token = (await make_pass(settings, agent)).token
    devices = [(await make_door_device(venue, name=f"Porte {i}"))[1] for i in range(4)]
    body = scan_body(token)

    responses = await fire(live_server, venue.id, [(body, devices[0]) for _ in range(8)])
    # The same person at several doors at once, with different scan ids.
    doors = await fire(live_server, venue.id, [(scan_body(token), d) for d in devices[1:]])

    assert {r.status_code for r in responses + doors} == {201}, [r.text for r in responses]
    answers = [r.json() for r in responses]
    assert all(a == answers[0] for a in answers), answers
    assert answers[0]["admitted"] is True
    assert {d.json()["visit_id"] for d in doors} == {answers[0]["visit_id"]}
    assert await Scan.count() == 1 + len(doors)
    assert await Visit.count() == 1
    assert await Booking.count().where(Booking.workspace == desk.id) == 1
    taken = await SeatOccupancy.select(SeatOccupancy.seats_taken)
    assert [t["seats_taken"] for t in taken] == [1]


async def test_two_doors_scanning_a_booked_agent_at_once_make_one_visit(
    live_server: str, settings: Settings
) -> None:
    venue = await make_venue()
    desk = await make_workspace(venue, capacity=10)
    await make_rates(venue, unit="day")
    agent = await make_user(Role.AGENT)
    booking = await make_booking(agent, desk, datetime.now(PARIS).date(), slot="day")
    token = (await make_pass(settings, agent)).token
    devices = [(await make_door_device(venue, name=f"Porte {i}"))[1] for i in range(5)]

    responses = await fire(
        live_server, venue.id, [(scan_body(token), d) for d in devices for _ in range(2)]
    )

    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    assert all(r.json()["admitted"] for r in responses), [r.text for r in responses]
    assert {r.json()["booking_id"] for r in responses} == {str(booking.id)}
    assert await Visit.count() == 1
    status = await Booking.select(Booking.status).where(Booking.id == booking.id).first()
    assert status == {"status": "checked_in"}


async def test_one_walk_in_at_several_doors_at_once_takes_one_seat(
    live_server: str, settings: Settings
) -> None:
    venue = await make_venue()
    desk = await make_workspace(venue, capacity=10)
    await make_rates(venue)
    agent = await make_user(Role.AGENT)
    token = (await make_pass(settings, agent)).token
    devices = [(await make_door_device(venue, name=f"Porte {i}"))[1] for i in range(6)]

    responses = await fire(live_server, venue.id, [(scan_body(token), d) for d in devices])

    assert all(r.json().get("admitted") for r in responses), [r.text for r in responses]
    assert len({r.json()["visit_id"] for r in responses}) == 1
    assert await Booking.count().where(Booking.workspace == desk.id) == 1
    assert await Visit.count() == 1
    taken = await SeatOccupancy.select(SeatOccupancy.seats_taken)
    assert [t["seats_taken"] for t in taken] == [1]
