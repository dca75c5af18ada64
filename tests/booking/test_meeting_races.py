"""No meeting over its room's capacity: real concurrent invitations against a running server.

The invitations go to a uvicorn process over TCP with `asyncio.gather`, from the organiser
and an admin of the organisation at once (two people filling the same last places); the
booking's row lock is what must hold: exactly the free places are given, never one more.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest

from booking.tables import MeetingAttendee
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

REQUESTS = 40


@pytest.fixture
def live_server_env() -> dict[str, str]:
    """Patient database bounds: every request must reach the booking's row lock."""
    return {"DATABASE_ACQUIRE_TIMEOUT_MS": "30000", "DATABASE_STATEMENT_TIMEOUT_MS": "30000"}


async def test_two_organisers_racing_for_the_last_places_never_exceed_the_capacity(
    live_server: str, settings: Settings
) -> None:
    room = await make_workspace(
        await make_venue(), kind="meeting_room", booking_unit="hour", capacity=6
    )
    organisation = await make_organisation()
    holder = await make_user(Role.AGENT, organisation=organisation)
    admin = await make_user(Role.ORG_ADMIN, organisation=organisation)
    day = next_weekday(2)
    limits = httpx.Limits(max_connections=REQUESTS, max_keepalive_connections=REQUESTS)
    async with httpx.AsyncClient(base_url=live_server, timeout=60, limits=limits) as http:
        booked = await http.post(
            "/api/v1/bookings",
            json={
                "workspace_id": str(room.id),
                "start": f"{day}T14:00:00",
                "end": f"{day}T15:00:00",
            },
            headers=auth(settings, holder),
        )
        assert booked.status_code == 201, booked.text
        url = f"/api/v1/bookings/{booked.json()['id']}/attendees"
        # The organiser is one of the six: five places are left for forty invitations.
        responses = await asyncio.gather(
            *[
                http.post(
                    url,
                    json={"email": f"guest{i}@example.org", "name": f"Guest {i}"},
                    headers=auth(settings, holder if i % 2 else admin),
                )
                for i in range(REQUESTS)
            ]
        )
    outcome = Counter(
        "invited" if r.status_code == 201 else f"{r.status_code} {r.json().get('type', '')}"
        for r in responses
    )

    assert outcome == Counter(
        {"invited": 5, "409 urn:tierslieux:problem:meeting-full": REQUESTS - 5}
    ), outcome
    live = await MeetingAttendee.count().where(
        (MeetingAttendee.booking == booked.json()["id"]) & MeetingAttendee.removed_at.is_null()
    )
    assert live == 6
    organisers = await MeetingAttendee.count().where(
        (MeetingAttendee.booking == booked.json()["id"]) & (MeetingAttendee.role == "organiser")
    )
    assert organisers == 1
