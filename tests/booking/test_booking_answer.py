"""A new booking's answer and confirmation are built from what its transaction wrote: they must
be exactly what reading the booking back gives."""

from __future__ import annotations

import uuid
from dataclasses import asdict

import httpx
import pytest

from booking.services import announcements
from booking.tables import Outbox
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


@pytest.mark.parametrize(
    ("kind", "unit", "when"),
    [
        ("desk", "half_day", {"slot": "afternoon"}),
        ("desk", "half_day", {"slot": "day"}),
        ("meeting_room", "hour", {"start": "T10:00:00", "end": "T11:30:00"}),
    ],
)
async def test_the_answer_and_the_confirmation_are_what_reading_the_booking_gives(
    client: httpx.AsyncClient, settings: Settings, kind: str, unit: str, when: dict[str, str]
) -> None:
    workspace = await make_workspace(await make_venue(), kind=kind, booking_unit=unit, capacity=6)
    organisation = await make_organisation()
    admin = await make_user(Role.ORG_ADMIN, organisation=organisation)
    agent = await make_user(Role.AGENT, organisation=organisation)
    day = next_weekday(1).isoformat()
    fields = {k: v if k == "slot" else day + v for k, v in when.items()}
    if "slot" in fields:
        fields["date"] = day

    booked = await client.post(
        "/api/v1/bookings",
        json={"workspace_id": str(workspace.id), "agent_id": str(agent.id), **fields},
        headers=auth(settings, admin),
    )

    assert booked.status_code == 201, booked.text
    read = await client.get(
        f"/api/v1/bookings/{booked.json()['id']}", headers=auth(settings, agent)
    )
    assert read.status_code == 200, read.text
    assert booked.json() == read.json()
    booking_id = uuid.UUID(booked.json()["id"])
    expected = announcements.message(
        await announcements.calendar_entry(booking_id, str(settings.base_url)), cancel=False
    )
    [row] = await Outbox.select().where(Outbox.booking == booking_id)
    assert {name: row[name] for name in asdict(expected)} == asdict(expected)
    assert (row["attempts"], row["sent_at"], row["last_error"]) == (0, None, None)
