"""No overbooking, ever: 100 real concurrent requests against a running server, exact counts.

Each race fires its requests at a uvicorn process over TCP with `asyncio.gather`, so the
database sees truly concurrent transactions; the CHECK on seat counters and the exclusion
constraints are what must hold.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, timedelta

import httpx
import pytest

from booking.tables import Booking, SeatOccupancy
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.factories import (
    auth,
    make_organisation,
    make_user,
    make_venue,
    make_workspace,
    next_weekday,
)

REQUESTS = 100


@pytest.fixture
def live_server_env() -> dict[str, str]:
    """Patient database bounds: these races prove that seats are never sold twice, so every
    request must reach the seat's row lock however slow the machine. The bounds themselves
    (a burst past them is shed with 503 and Retry-After) are proved in test_faults.py."""
    return {"DATABASE_ACQUIRE_TIMEOUT_MS": "30000", "DATABASE_STATEMENT_TIMEOUT_MS": "30000"}


async def _agents(settings: Settings, count: int, **org_fields: object) -> list[dict[str, str]]:
    organisation = await make_organisation(**org_fields)
    return [
        auth(settings, await make_user(Role.AGENT, organisation=organisation)) for _ in range(count)
    ]


async def _fire(base: str, calls: list[tuple[dict[str, object], dict[str, str]]]) -> Counter[str]:
    limits = httpx.Limits(max_connections=REQUESTS, max_keepalive_connections=REQUESTS)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        responses = await asyncio.gather(
            *[http.post("/api/v1/bookings", json=body, headers=headers) for body, headers in calls]
        )
    outcome: Counter[str] = Counter()
    for response in responses:
        if response.status_code == 201:
            outcome["booked"] += 1
        else:
            outcome[f"{response.status_code} {response.json().get('type', '')}"] += 1
    return outcome


async def test_a_hundred_agents_race_for_the_last_three_seats(
    live_server: str, settings: Settings
) -> None:
    desk = await make_workspace(await make_venue(), capacity=10)
    day = next_weekday(1)
    # Seven of the ten seats are already taken.
    await SeatOccupancy(
        workspace=desk.id, local_date=day, half="am", seats_taken=7, capacity=10
    ).save()
    agents = await _agents(settings, REQUESTS)
    body = {"workspace_id": str(desk.id), "date": day.isoformat(), "slot": "morning"}

    outcome = await _fire(live_server, [(body, headers) for headers in agents])

    assert outcome == Counter(
        {"booked": 3, "409 urn:tierslieux:problem:capacity-exhausted": REQUESTS - 3}
    ), outcome
    assert await Booking.count().where(Booking.workspace == desk.id) == 3
    counter = await SeatOccupancy.select().where(SeatOccupancy.workspace == desk.id).first()
    assert counter is not None
    assert counter["seats_taken"] == 10


async def test_a_hundred_overlapping_requests_for_one_room_book_it_once(
    live_server: str, settings: Settings
) -> None:
    room = await make_workspace(
        await make_venue(), kind="meeting_room", booking_unit="hour", capacity=12
    )
    day = next_weekday(1)
    agents = await _agents(settings, REQUESTS)
    # Every window contains 11:00-11:30, so any two of them overlap.
    windows = [("09:00", "11:30"), ("10:00", "12:00"), ("11:00", "11:30"), ("10:30", "13:00")]
    calls = []
    for i, headers in enumerate(agents):
        start, end = windows[i % len(windows)]
        body = {
            "workspace_id": str(room.id),
            "start": f"{day}T{start}:00",
            "end": f"{day}T{end}:00",
        }
        calls.append((body, headers))

    outcome = await _fire(live_server, calls)

    assert outcome == Counter(
        {"booked": 1, "409 urn:tierslieux:problem:room-taken": REQUESTS - 1}
    ), outcome
    assert await Booking.count().where(Booking.workspace == room.id) == 1


async def test_a_hundred_requests_of_one_agent_stop_exactly_at_the_allowance(
    live_server: str, settings: Settings
) -> None:
    desk = await make_workspace(await make_venue(), capacity=200)
    [headers] = await _agents(settings, 1, monthly_allowance_units=5, booking_horizon_days=366)
    # Twenty distinct half-days of one month, each asked five times.
    start = next_weekday(1)
    month_start = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    days = [month_start + timedelta(days=i) for i in range(31)]
    days = [d for d in days if d.weekday() < 5 and d.month == month_start.month][:10]
    slots = [(d, s) for d in days for s in ("morning", "afternoon")]
    calls = [
        ({"workspace_id": str(desk.id), "date": d.isoformat(), "slot": s}, headers)
        for d, s in slots * 5
    ]

    outcome = await _fire(live_server, calls)

    assert outcome["booked"] == 5, outcome
    assert set(outcome) <= {
        "booked",
        "409 urn:tierslieux:problem:allowance-exceeded",
        "409 urn:tierslieux:problem:agent-already-booked",
    }, outcome
    assert await Booking.count() == 5
