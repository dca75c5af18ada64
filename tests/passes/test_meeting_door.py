"""Team meetings at the door: colleagues admitted with their own pass, guests with a guest pass.

A meeting is going on now in a room; the door device scans through the API, as at a venue.
An invited colleague is admitted to the room without a desk or their allowance; a guest's
pass, in the same signed format, is admitted at that venue only, and its removal revokes it
for the offline scanners too. The monthly close bills the room once and no attendee visit.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from billing import retention
from billing.close import close_period
from billing.tables import UsageLine
from booking.errors import AnswerLinkInvalid
from booking.services import meetings
from booking.tables import Booking, MeetingAttendee, Outbox, SeatOccupancy
from passes import attendance, guest_passes, personal_data
from passes import keys as pass_keys
from passes.tables import Pass, Visit
from passes.verify import verify
from service.kernel.identity import Principal, Role
from service.kernel.settings import Settings
from tests.billing.factories import NETWORK, make_visit
from tests.factories import (
    auth,
    make_door_device,
    make_organisation,
    make_pass,
    make_rates,
    make_user,
    make_venue,
    make_workspace,
    next_weekday,
)
from tests.passes.test_scans import body, post_scan

PARIS = ZoneInfo("Europe/Paris")


async def meeting_now(
    settings: Settings, client: httpx.AsyncClient, *, starts_in: timedelta = timedelta(minutes=-10)
) -> dict[str, Any]:
    """A room booked from `starts_in` for an hour, today, with a colleague and a guest invited."""
    venue = await make_venue(name="La Fabrique")
    room = await make_workspace(
        venue, kind="meeting_room", booking_unit="hour", capacity=6, name="Salle Jaune"
    )
    await make_workspace(venue, capacity=1, name="Open space")  # one desk, already taken below
    await make_rates(venue, kind="meeting_room", unit="hour")
    organisation = await make_organisation()
    holder = await make_user(Role.AGENT, organisation=organisation, display_name="Alice Martin")
    colleague = await make_user(
        Role.AGENT, organisation=organisation, display_name="Bruno Leroy", monthly_allowance_units=0
    )
    starts = (datetime.now(UTC) + starts_in).replace(microsecond=0)
    booking = Booking(
        agent=holder.id,
        organisation=organisation.id,
        venue=venue.id,
        workspace=room.id,
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        local_date=starts.astimezone(PARIS).date(),
        unit="hour",
        quantity=1,
        seats=6,
        exclusive=True,
        allowance_units=1,
    )
    await booking.save()
    headers = auth(settings, holder)
    url = f"/api/v1/bookings/{booking.id}/attendees"
    invited = await client.post(url, json={"user_id": str(colleague.id)}, headers=headers)
    guest = await client.post(
        url, json={"email": "claire@partenaire.example", "name": "Claire Dupont"}, headers=headers
    )
    assert invited.status_code == 201, invited.text
    assert guest.status_code == 201, guest.text
    keyring = pass_keys.Keyring.from_settings(None, settings.data_dir, generate=True)
    await pass_keys.publish(keyring)
    _, device_headers = await make_door_device(venue)
    return {
        "venue": venue,
        "room": room,
        "booking": booking,
        "holder": holder,
        "colleague": colleague,
        "colleague_attendee": invited.json()["id"],
        "guest_attendee": guest.json()["id"],
        "guest_token": meetings.answer_token(settings.secret_key, uuid.UUID(guest.json()["id"])),
        "keyring": keyring,
        "device": device_headers,
        "url": url,
        "headers": headers,
    }


async def test_an_invited_colleague_is_admitted_to_the_meeting_without_a_desk(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await meeting_now(settings, client)
    issued = await make_pass(settings, world["colleague"])
    seats_before = await SeatOccupancy.count()

    scan = await post_scan(client, world["venue"].id, world["device"], body(issued.token))

    assert scan.status_code == 201, scan.text
    verdict = scan.json()
    assert verdict["admitted"] is True, verdict
    assert verdict["agent_name"] == "Bruno Leroy"
    assert (verdict["meeting_room"], verdict["meeting_host"]) == ("Salle Jaune", "Alice Martin")
    assert verdict["walk_in"] is False
    [visit] = await Visit.select().where(Visit.agent == world["colleague"].id)
    assert visit["attendee"] == uuid.UUID(world["colleague_attendee"])
    assert visit["billable"] is False
    assert visit["booking"] is None
    assert visit["workspace"] == world["room"].id
    # No desk taken and no booking of their own (their allowance is 0 and stays untouched).
    assert await SeatOccupancy.count() == seats_before
    assert await Booking.count().where(Booking.agent == world["colleague"].id) == 0


async def test_a_colleague_not_invited_is_not_admitted_to_the_meeting(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await meeting_now(settings, client)
    outsider = await make_user(Role.AGENT, monthly_allowance_units=0)
    issued = await make_pass(settings, outsider)

    scan = await post_scan(client, world["venue"].id, world["device"], body(issued.token))

    # Not invited, no booking, no allowance for a walk-in: refused with the usual reason.
    assert scan.json()["admitted"] is False
    assert scan.json()["reason"] == "allowance_exceeded"
    assert scan.json()["meeting_room"] is None


async def test_a_guest_pass_is_admitted_at_the_meeting_and_nowhere_else(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await meeting_now(settings, client)
    invitation, guest = await guest_passes.guest_pass(
        settings.secret_key, world["guest_token"], world["keyring"]
    )
    assert guest is not None
    again = await guest_passes.guest_pass(
        settings.secret_key, world["guest_token"], world["keyring"]
    )
    assert again[1] is not None
    assert again[1].serial == guest.serial
    elsewhere = await make_venue()
    _, elsewhere_device = await make_door_device(elsewhere)

    at_door = await post_scan(client, world["venue"].id, world["device"], body(guest.token))
    other = await post_scan(client, elsewhere.id, elsewhere_device, body(guest.token))
    out = await post_scan(client, world["venue"].id, world["device"], body(guest.token, "out"))

    assert invitation.room_name == "Salle Jaune"
    assert guest.agent is None
    assert guest.attendee == uuid.UUID(world["guest_attendee"])
    # Valid only for the meeting's window, with the door's margin.
    assert guest.not_before == world["booking"].starts_at - meetings.DOOR_MARGIN
    assert guest.not_after == world["booking"].ends_at + meetings.DOOR_MARGIN
    assert at_door.json()["admitted"] is True, at_door.json()
    assert at_door.json()["agent_name"] == "Claire Dupont"
    assert at_door.json()["meeting_room"] == "Salle Jaune"
    assert at_door.json()["meeting_host"] == "Alice Martin"
    assert (other.json()["admitted"], other.json()["reason"]) == (False, "not_invited")
    assert out.json()["admitted"] is True
    [visit] = await Visit.select().where(Visit.attendee == uuid.UUID(world["guest_attendee"]))
    assert visit["agent"] is None
    assert visit["billable"] is False
    assert visit["venue"] == world["venue"].id
    assert visit["checked_out_at"] is not None


async def test_removing_the_guest_revokes_their_pass_for_every_scanner(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await meeting_now(settings, client)
    _, guest = await guest_passes.guest_pass(
        settings.secret_key, world["guest_token"], world["keyring"]
    )
    assert guest is not None
    feed_before = await client.get("/api/v1/passes/revocations", headers=world["device"])
    cursor = feed_before.json()["next_cursor"]

    removed = await client.delete(
        f"{world['url']}/{world['guest_attendee']}", headers=world["headers"]
    )
    feed = await client.get(
        "/api/v1/passes/revocations", params={"since": cursor}, headers=world["device"]
    )
    scan = await post_scan(client, world["venue"].id, world["device"], body(guest.token))
    page_pass = await guest_passes.guest_pass(
        settings.secret_key, world["guest_token"], world["keyring"]
    )

    assert removed.status_code == 200
    assert {"serial": guest.serial, "status": "revoked"}.items() <= feed.json()["changes"][
        0
    ].items()
    assert (scan.json()["admitted"], scan.json()["reason"]) == (False, "revoked")
    assert page_pass[1] is None  # the link no longer shows a pass
    stored = await Pass.select(Pass.status).where(Pass.serial == guest.serial)
    assert stored[0]["status"] == "revoked"


async def test_cancelling_the_meeting_revokes_guest_passes(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await meeting_now(settings, client, starts_in=timedelta(hours=30))
    _, guest = await guest_passes.guest_pass(
        settings.secret_key, world["guest_token"], world["keyring"]
    )
    assert guest is not None

    cancelled = await client.post(
        f"/api/v1/bookings/{world['booking'].id}/cancel", headers=world["headers"]
    )

    assert cancelled.status_code == 200
    stored = await Pass.select(Pass.status).where(Pass.serial == guest.serial)
    assert stored[0]["status"] == "revoked"
    feed = await client.get("/api/v1/passes/revocations", headers=world["device"])
    assert {"serial": guest.serial, "status": "revoked"}.items() <= feed.json()["changes"][
        -1
    ].items()
    keys = await pass_keys.public_keys()
    assert verify(guest.token, keys=keys, now=guest.not_before + timedelta(minutes=1)).admitted


async def test_the_close_bills_the_room_once_and_never_the_attendees(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue = await make_venue()
    room = await make_workspace(venue, kind="meeting_room", booking_unit="hour", capacity=6)
    await make_rates(venue, kind="meeting_room", unit="hour", organisation_cents=3000)
    organisation = await make_organisation()
    holder = await make_user(Role.AGENT, organisation=organisation)
    colleague = await make_user(Role.AGENT, organisation=organisation)
    today = datetime.now(PARIS).date()
    day = (today.replace(day=1) - timedelta(days=20)).replace(day=10)
    starts = datetime.combine(day, time(10), tzinfo=PARIS)
    booking = Booking(
        agent=holder.id,
        organisation=organisation.id,
        venue=venue.id,
        workspace=room.id,
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        local_date=day,
        unit="hour",
        quantity=2,
        seats=6,
        exclusive=True,
        status="completed",
    )
    await booking.save()
    rows = []
    for kind, person, email in (
        ("colleague", colleague.id, colleague.email),
        ("guest", None, "guest@example.org"),
    ):
        row = MeetingAttendee(
            booking=booking.id, kind=kind, person=person, email=email, display_name=email
        )
        await row.save()
        rows.append(row)
    organiser_visit = await make_visit(holder, venue, room, day, unit="hour", quantity=2)
    await Visit.update({Visit.booking: booking.id}).where(Visit.id == organiser_visit.id)
    for row, agent in zip(rows, (colleague.id, None), strict=True):
        await attendance.record(
            attendance.Attendance(
                attendee_id=row.id,
                agent_id=agent,
                organisation_id=organisation.id,
                venue_id=venue.id,
                workspace_id=room.id,
                booking_id=booking.id,
                local_date=day,
                quantity=2,
                room="Salle",
                host=None,
            ),
            venue.id,
            starts,
        )
    # Even a visit of an attendee made billable (an anomaly accepted) is never billed again.
    await Visit.update({Visit.billable: True}).where(Visit.attendee.is_not_null())

    result = await close_period(day.replace(day=1), NETWORK)

    lines = await UsageLine.select().where(UsageLine.venue == venue.id)
    assert [(line["kind"], line["agent"], line["quantity"]) for line in lines] == [
        ("visit", holder.id, 2)
    ], lines
    assert result is not None
    assert await Visit.count().where(Visit.venue == venue.id) == 3  # the statistics see three


@pytest.mark.parametrize("link", ["tampered", "cancelled"])
async def test_a_guest_pass_page_link_that_is_wrong_or_withdrawn_shows_no_pass(
    client: httpx.AsyncClient, settings: Settings, link: str
) -> None:
    world = await meeting_now(settings, client, starts_in=timedelta(hours=30))
    token = world["guest_token"]
    if link == "tampered":
        with pytest.raises(AnswerLinkInvalid):
            await guest_passes.guest_pass(settings.secret_key, token[:-2] + "xx", world["keyring"])
        return
    await client.post(f"/api/v1/bookings/{world['booking'].id}/cancel", headers=world["headers"])
    invitation, issued = await guest_passes.guest_pass(settings.secret_key, token, world["keyring"])
    assert issued is None
    assert not invitation.open
    assert await Outbox.count().where(Outbox.kind == "meeting_cancelled") == 2


async def test_erasing_a_colleague_takes_them_out_of_meetings_and_guests_are_forgotten(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await meeting_now(settings, client, starts_in=timedelta(hours=30))
    network = await make_user(Role.NETWORK_ADMIN)
    await client.post(
        f"{world['url']}/{world['colleague_attendee']}/organiser", headers=world["headers"]
    )

    await personal_data.erase(
        Principal(Role.NETWORK_ADMIN, user_id=network.id),
        world["colleague"].id,
        None,
        base_url="http://test",
    )
    await Booking.update(
        {
            Booking.starts_at: datetime.now(UTC) - timedelta(days=100),
            Booking.ends_at: datetime.now(UTC) - timedelta(days=100) + timedelta(hours=1),
        }
    ).where(Booking.id == world["booking"].id)
    forgotten = await retention.forget_guests({})
    again = await retention.forget_guests({})

    rows = {
        r["kind"]: r
        for r in await MeetingAttendee.select().where(
            MeetingAttendee.booking == world["booking"].id
        )
        if r["person"] != world["holder"].id
    }
    assert rows["colleague"]["email"].endswith("@erased.invalid")
    assert rows["colleague"]["removed_at"] is not None
    assert rows["colleague"]["role"] == "attendee"
    organiser = await MeetingAttendee.select(MeetingAttendee.person).where(
        (MeetingAttendee.booking == world["booking"].id) & (MeetingAttendee.role == "organiser")
    )
    assert organiser == [{"person": world["holder"].id}]  # back to the booking's holder
    assert (forgotten, again) == (1, 0)
    assert rows["guest"]["email"].endswith("@erased.invalid")
    assert "Claire" not in rows["guest"]["display_name"]


async def test_moving_the_meeting_replaces_the_guest_pass_with_one_for_the_new_window(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await meeting_now(settings, client, starts_in=timedelta(hours=30))
    _, first = await guest_passes.guest_pass(
        settings.secret_key, world["guest_token"], world["keyring"]
    )
    assert first is not None
    day = next_weekday(2)

    moved = await client.post(
        f"/api/v1/bookings/{world['booking'].id}/meeting-time",
        json={"start": f"{day}T16:00:00", "end": f"{day}T17:00:00"},
        headers=world["headers"],
    )
    _, second = await guest_passes.guest_pass(
        settings.secret_key, world["guest_token"], world["keyring"]
    )

    assert moved.status_code == 200, moved.text
    stored = await Pass.select(Pass.status).where(Pass.serial == first.serial)
    assert stored[0]["status"] == "revoked"
    assert second is not None
    assert second.serial != first.serial
    local_start = second.not_before.astimezone(PARIS) + meetings.DOOR_MARGIN
    assert (local_start.hour, local_start.minute) == (16, 0)


async def test_a_colleagues_export_lists_their_meeting_invitations(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await meeting_now(settings, client, starts_in=timedelta(hours=30))

    data = await personal_data.collect(world["colleague"].id)

    assert [(m["room"], m["role"], m["partstat"]) for m in data["meetings"]] == [
        ("Salle Jaune", "attendee", "needs_action")
    ]
    assert data["meetings"][0]["booking"] == str(world["booking"].id)
