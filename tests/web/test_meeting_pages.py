"""Team meeting pages over HTTP: the organiser invites from their booking, guests answer by link."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx

from booking.tables import Booking, MeetingAttendee, Organisation, Outbox
from passes import attendance
from passes.tables import Pass
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.booking.test_meetings import book_meeting
from tests.factories import make_organisation, make_user, make_venue, make_workspace
from tests.web.test_pages import post_form, sign_in
from tests.web.test_venue_pages import make_statement


def _link(mail: dict[str, object]) -> str:
    found = re.search(r"https?://\S+(/reunion/\S+)", str(mail["body"]))
    assert found, mail["body"]
    return found.group(1)


async def test_the_organiser_invites_a_colleague_found_by_name_and_a_guest(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    meeting = await book_meeting(client, settings)
    await make_user(Role.AGENT, organisation=meeting.organisation, display_name="Bruno Leroy")
    assert (await sign_in(client, meeting.holder)).status_code == 303
    url = f"/agent/bookings/{meeting.booking_id}/meeting"

    bookings = await client.get("/agent/bookings")
    search = await client.get(url, params={"q": "Bru"})
    [colleague_id] = re.findall(r'name="user_id" value="([0-9a-f-]+)"', search.text)
    invited = await post_form(client, f"{url}/invite", {"user_id": colleague_id})
    guest = await post_form(
        client, f"{url}/invite", {"email": "claire@partenaire.example", "name": "Claire Dupont"}
    )
    bad = await post_form(client, f"{url}/invite", {"email": "claire at example", "name": "C"})
    listing = await client.get(url)

    assert url in bookings.text
    assert search.status_code == 200
    assert "Bruno Leroy" in search.text
    assert invited.status_code == 303
    assert guest.status_code == 303
    assert bad.status_code == 422
    assert "adresse" in bad.text.lower() or "email" in bad.text.lower()
    assert listing.text.count('class="card attendee"') == 3
    assert "Claire Dupont" in listing.text
    assert "Pas encore de réponse" in listing.text or "No answer yet" in listing.text


async def test_a_guest_answers_and_sees_a_guest_pass_whose_qr_decodes(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    meeting = await book_meeting(client, settings)
    invited = await client.post(
        meeting.attendees_url,
        json={"email": "claire@partenaire.example", "name": "Claire Dupont"},
        headers=meeting.headers,
    )
    assert invited.status_code == 201
    [mail] = await Outbox.select().where(Outbox.kind == "meeting_request")
    link = _link(mail)

    shown = await client.get(link)
    accepted = await post_form(client, link, {"partstat": "accepted"})
    after = await client.get(link)
    qr = await client.get(f"{link}/pass.svg")
    tampered = await client.get(link[:-3] + "abc")

    assert shown.status_code == 200, shown.text
    assert "Claire Dupont" in shown.text
    assert accepted.status_code == 303
    assert (
        "accepted"
        in (
            await MeetingAttendee.select(MeetingAttendee.partstat).where(
                MeetingAttendee.id == uuid.UUID(invited.json()["id"])
            )
        )[0]["partstat"]
    )
    assert f"{link}/pass.svg" in after.text
    assert qr.status_code == 200
    assert qr.headers["content-type"].startswith("image/svg+xml")
    [guest_pass] = await Pass.select().where(Pass.attendee == uuid.UUID(invited.json()["id"]))
    assert guest_pass["status"] == "active"
    assert tampered.status_code == 404


def test_the_signed_links_of_meetings_are_logged_without_their_token() -> None:
    from service.kernel.observability import _loggable

    assert _loggable("/reunion/abc.def.ghi") == "/reunion/***"
    assert _loggable("/reunion/abc.def.ghi/pass.svg") == "/reunion/***/pass.svg"
    assert _loggable("/api/v1/meeting-answers/abc.def") == "/api/v1/meeting-answers/***"
    assert _loggable("/invitation/xyz") == "/invitation/***"
    assert (
        _loggable("/calendars/workspaces/1/freebusy.ics") == "/calendars/workspaces/1/freebusy.ics"
    )


async def test_the_policy_page_says_whether_meetings_use_the_allowance(
    client: httpx.AsyncClient,
) -> None:
    organisation = await make_organisation()
    admin = await make_user(Role.ORG_ADMIN, organisation=organisation)
    assert (await sign_in(client, admin)).status_code == 303
    form = {
        "monthly_allowance_units": "8",
        "booking_horizon_days": "30",
        "cancellation_deadline_hours": "24",
        "billing_address": "1 rue du Test, 59000 Lille",
        "billing_email": "compta@example.org",
        "chorus_service_code": "",
        "chorus_engagement_number": "",
    }

    shown = await client.get("/organisation/policy")
    unchecked = await post_form(client, "/organisation/policy", form)
    stored_off = await Organisation.select(Organisation.meeting_hours_use_allowance).where(
        Organisation.id == organisation.id
    )
    checked = await post_form(
        client, "/organisation/policy", {**form, "meeting_hours_use_allowance": "1"}
    )
    stored_on = await Organisation.select(Organisation.meeting_hours_use_allowance).where(
        Organisation.id == organisation.id
    )

    assert re.search(r'name="meeting_hours_use_allowance" value="1" checked', shown.text)
    assert (unchecked.status_code, checked.status_code) == (303, 303)
    assert stored_off[0]["meeting_hours_use_allowance"] is False
    assert stored_on[0]["meeting_hours_use_allowance"] is True


async def test_the_venues_statement_shows_the_meeting_attendees_it_received_unbilled(
    client: httpx.AsyncClient,
) -> None:
    venue = await make_venue()
    room = await make_workspace(
        venue, kind="meeting_room", booking_unit="hour", capacity=6, name="Salle Verte"
    )
    organisation = await make_organisation()
    holder = await make_user(Role.AGENT, organisation=organisation)
    day = date(2026, 10, 14)
    starts = datetime(2026, 10, 14, 8, tzinfo=UTC)
    booking = Booking(
        agent=holder.id,
        organisation=organisation.id,
        venue=venue.id,
        workspace=room.id,
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        local_date=day,
        unit="hour",
        seats=6,
        exclusive=True,
        status="completed",
    )
    await booking.save()
    for n in range(3):
        row = MeetingAttendee(
            booking=booking.id, kind="guest", email=f"g{n}@example.org", display_name=f"G{n}"
        )
        await row.save()
        await attendance.record(
            attendance.Attendance(
                attendee_id=row.id,
                agent_id=None,
                organisation_id=organisation.id,
                venue_id=venue.id,
                workspace_id=room.id,
                booking_id=booking.id,
                local_date=day,
                quantity=1,
                room="Salle Verte",
                host=None,
            ),
            venue.id,
            starts,
        )
    statement = await make_statement(venue)
    admin = await make_user(Role.VENUE_ADMIN, venue=venue)
    assert (await sign_in(client, admin)).status_code == 303

    shown = await client.get(f"/venue/statements/{statement.id}")

    assert shown.status_code == 200
    section = shown.text[shown.text.index('id="meetings-title"') :]
    assert "Salle Verte" in section
    assert re.search(r'<td class="num">3</td>\s*<td class="num">3</td>', section)
    assert "G0" not in shown.text  # nobody is named
