"""Team meetings: inviting colleagues and guests to a booked room, their answers, their mail.

Each story books a meeting room through the API, invites through the API and reads what the
database and the outbox hold afterwards; invitations are parsed with the strict `ical`
parser, answers are given by the signed link and by an iTIP REPLY built with `icalendar`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import icalendar
from ical.calendar_stream import IcsCalendarStream

from booking.services import meetings
from booking.tables import (
    Booking,
    MeetingAttendee,
    Organisation,
    Outbox,
    User,
    Venue,
    Workspace,
)
from service.kernel.identity import Role
from service.kernel.settings import Settings
from service.kernel.tables import AuditEntry
from tests.factories import (
    auth,
    make_organisation,
    make_user,
    make_venue,
    make_workspace,
    next_weekday,
)

P = "urn:tierslieux:problem:"


@dataclass
class Meeting:
    booking_id: str
    room: Workspace
    organisation: Organisation
    holder: User
    headers: dict[str, str]

    @property
    def attendees_url(self) -> str:
        return f"/api/v1/bookings/{self.booking_id}/attendees"


async def book_meeting(
    client: httpx.AsyncClient, settings: Settings, *, capacity: int = 4, **org_fields: object
) -> Meeting:
    venue = await make_venue()
    room = await make_workspace(
        venue, kind="meeting_room", booking_unit="hour", capacity=capacity, name="Salle Jaune"
    )
    organisation = await make_organisation(**org_fields)
    holder = await make_user(Role.AGENT, organisation=organisation, display_name="Alice Martin")
    headers = auth(settings, holder)
    day = next_weekday(2)
    response = await client.post(
        "/api/v1/bookings",
        json={"workspace_id": str(room.id), "start": f"{day}T10:00:00", "end": f"{day}T12:00:00"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return Meeting(response.json()["id"], room, organisation, holder, headers)


async def live_attendees(booking_id: str) -> list[dict[str, object]]:
    return await MeetingAttendee.select().where(
        (MeetingAttendee.booking == uuid.UUID(booking_id)) & MeetingAttendee.removed_at.is_null()
    )


async def mails(booking_id: str, kind: str) -> list[dict[str, object]]:
    return await Outbox.select().where(
        (Outbox.booking == uuid.UUID(booking_id)) & (Outbox.kind == kind)
    )


def strict_event(document: str) -> tuple[icalendar.Calendar, icalendar.Event]:
    """Read by the strict parser (raises on anything not RFC 5545), then by icalendar."""
    strict = IcsCalendarStream.calendar_from_ics(document)
    assert len(strict.events) == 1
    loose = icalendar.Calendar.from_ical(document)
    [event] = loose.walk("VEVENT")
    return loose, event


def attendee_params(event: icalendar.Event) -> dict[str, dict[str, str]]:
    found = event.get("attendee")
    addresses = found if isinstance(found, list) else [found]
    return {
        str(a).removeprefix("mailto:"): {k.upper(): str(v) for k, v in a.params.items()}
        for a in addresses
    }


def answer_token_of(mail: dict[str, object]) -> str:
    body = str(mail["body"])
    return body[body.index("/reunion/") + len("/reunion/") :].split()[0]


async def test_an_agent_invites_a_colleague_and_a_guest_who_get_itip_requests(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    meeting = await book_meeting(client, settings)
    colleague = await make_user(
        Role.AGENT, organisation=meeting.organisation, display_name="Bruno Leroy"
    )

    invited = await client.post(
        meeting.attendees_url, json={"user_id": str(colleague.id)}, headers=meeting.headers
    )
    guest = await client.post(
        meeting.attendees_url,
        json={"email": "Claire@Partenaire.example", "name": "Claire Dupont"},
        headers=meeting.headers,
    )
    listing = await client.get(meeting.attendees_url, headers=meeting.headers)

    assert invited.status_code == 201, invited.text
    assert invited.json()["kind"] == "colleague"
    assert invited.json()["partstat"] == "needs_action"
    assert guest.status_code == 201, guest.text
    assert guest.json()["kind"] == "guest"
    assert guest.json()["email"] == "Claire@partenaire.example"
    assert [(a["display_name"], a["role"], a["partstat"]) for a in listing.json()] == [
        ("Alice Martin", "organiser", "accepted"),
        ("Bruno Leroy", "attendee", "needs_action"),
        ("Claire Dupont", "attendee", "needs_action"),
    ]
    requests = await mails(meeting.booking_id, "meeting_request")
    assert sorted(str(m["recipient"]) for m in requests) == sorted(
        [colleague.email, "Claire@partenaire.example"]
    )
    assert all(m["calendar_method"] == "REQUEST" for m in requests)
    last = next(m for m in requests if m["recipient"] == "Claire@partenaire.example")
    calendar, event = strict_event(str(last["calendar"]))
    assert str(calendar["method"]) == "REQUEST"
    assert str(event["organizer"]) == f"mailto:{meeting.holder.email}"
    assert event["organizer"].params["CN"] == "Alice Martin"
    params = attendee_params(event)
    assert params[meeting.holder.email]["PARTSTAT"] == "ACCEPTED"
    assert params[meeting.holder.email]["ROLE"] == "CHAIR"
    for email in (colleague.email, "Claire@partenaire.example"):
        assert params[email]["PARTSTAT"] == "NEEDS-ACTION"
        assert params[email]["RSVP"] == "TRUE"
    assert "rue Nationale" in str(event["location"])
    assert event["geo"].latitude == 50.6372
    assert str(event["uid"]) == f"{meeting.booking_id}@pass-tiers-lieux"
    assert "/reunion/" in str(last["body"])


async def test_inviting_beyond_the_rooms_capacity_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    meeting = await book_meeting(client, settings, capacity=2)
    first = await client.post(
        meeting.attendees_url,
        json={"email": "one@guest.example", "name": "One"},
        headers=meeting.headers,
    )
    second = await client.post(
        meeting.attendees_url,
        json={"email": "two@guest.example", "name": "Two"},
        headers=meeting.headers,
    )

    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["type"] == P + "meeting-full"
    assert len(await live_attendees(meeting.booking_id)) == 2
    assert len(await mails(meeting.booking_id, "meeting_request")) == 1


async def test_bad_invitations_get_clear_problems_and_write_nothing(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    meeting = await book_meeting(client, settings)
    colleague = await make_user(Role.AGENT, organisation=meeting.organisation)
    gone = await make_user(Role.AGENT, organisation=meeting.organisation)
    await User.update({User.active: False}).where(User.id == gone.id)
    erased = await make_user(Role.AGENT, organisation=meeting.organisation)
    await User.update({User.email: "ABCDEF1234@erased.invalid", User.active: False}).where(
        User.id == erased.id
    )
    staff = await make_user(Role.VENUE_STAFF)
    stranger = await make_user(Role.AGENT)
    desk = await make_workspace(await make_venue())
    desk_booking = await client.post(
        "/api/v1/bookings",
        json={"workspace_id": str(desk.id), "date": str(next_weekday(2)), "slot": "afternoon"},
        headers=meeting.headers,
    )
    assert desk_booking.status_code == 201, desk_booking.text
    ok = await client.post(
        meeting.attendees_url, json={"user_id": str(colleague.id)}, headers=meeting.headers
    )
    assert ok.status_code == 201

    cases = {
        "twice": (meeting.attendees_url, {"user_id": str(colleague.id)}, meeting.headers),
        "twice by email": (
            meeting.attendees_url,
            {"email": colleague.email.upper()},
            meeting.headers,
        ),
        "organiser as guest": (
            meeting.attendees_url,
            {"email": meeting.holder.email, "name": "x"},
            meeting.headers,
        ),
        "deactivated": (meeting.attendees_url, {"user_id": str(gone.id)}, meeting.headers),
        "erased": (meeting.attendees_url, {"user_id": str(erased.id)}, meeting.headers),
        "not an email": (
            meeting.attendees_url,
            {"email": "claire at example", "name": "Claire"},
            meeting.headers,
        ),
        "two addresses": (
            meeting.attendees_url,
            {"email": "a@example.org, b@example.org", "name": "Claire"},
            meeting.headers,
        ),
        "header injection": (
            meeting.attendees_url,
            {"email": "a@example.org\r\nBcc: b@example.org", "name": "Claire"},
            meeting.headers,
        ),
        "guest without a name": (
            meeting.attendees_url,
            {"email": "nobody@example.org"},
            meeting.headers,
        ),
        "both user and email": (
            meeting.attendees_url,
            {"user_id": str(colleague.id), "email": "x@example.org"},
            meeting.headers,
        ),
        "unknown person": (
            meeting.attendees_url,
            {"user_id": str(uuid.uuid4())},
            meeting.headers,
        ),
        "unknown booking": (
            f"/api/v1/bookings/{uuid.uuid4()}/attendees",
            {"email": "x@example.org", "name": "X"},
            meeting.headers,
        ),
        "someone else's booking": (
            meeting.attendees_url,
            {"email": "x@example.org", "name": "X"},
            auth(settings, stranger),
        ),
        "attendee who is not the organiser": (
            meeting.attendees_url,
            {"email": "x@example.org", "name": "X"},
            auth(settings, colleague),
        ),
        "venue staff": (
            meeting.attendees_url,
            {"email": "x@example.org", "name": "X"},
            auth(settings, staff),
        ),
        "a desk": (
            f"/api/v1/bookings/{desk_booking.json()['id']}/attendees",
            {"email": "x@example.org", "name": "X"},
            meeting.headers,
        ),
        "unknown field": (
            meeting.attendees_url,
            {"email": "x@example.org", "name": "X", "role": "organiser"},
            meeting.headers,
        ),
    }
    answers = {}
    for name, (url, body, headers) in cases.items():
        response = await client.post(url, json=body, headers=headers)
        answers[name] = (response.status_code, response.json().get("type", ""))

    assert answers == {
        "twice": (409, P + "already-invited"),
        "twice by email": (409, P + "already-invited"),
        "organiser as guest": (409, P + "already-invited"),
        "deactivated": (409, P + "inactive"),
        "erased": (404, P + "not-found"),
        "not an email": (422, P + "invalid-value"),
        "two addresses": (422, P + "invalid-value"),
        "header injection": (422, P + "invalid-value"),
        "guest without a name": (422, P + "invalid-value"),
        "both user and email": (422, P + "invalid-value"),
        "unknown person": (404, P + "not-found"),
        "unknown booking": (404, P + "not-found"),
        "someone else's booking": (404, P + "not-found"),
        "attendee who is not the organiser": (403, P + "forbidden"),
        "venue staff": (403, P + "forbidden"),
        "a desk": (409, P + "not-a-meeting"),
        "unknown field": (422, P + "validation-error"),
    }, answers
    assert len(await live_attendees(meeting.booking_id)) == 2
    assert len(await mails(meeting.booking_id, "meeting_request")) == 1


async def test_removing_an_attendee_sends_them_a_cancel_and_frees_the_place(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    meeting = await book_meeting(client, settings, capacity=2)
    guest = await client.post(
        meeting.attendees_url,
        json={"email": "guest@example.org", "name": "Guest"},
        headers=meeting.headers,
    )
    sequence = (
        await client.get(f"/api/v1/bookings/{meeting.booking_id}", headers=meeting.headers)
    ).json()["sequence"]

    removed = await client.delete(
        f"{meeting.attendees_url}/{guest.json()['id']}", headers=meeting.headers
    )
    again = await client.delete(
        f"{meeting.attendees_url}/{guest.json()['id']}", headers=meeting.headers
    )
    unknown = await client.delete(
        f"{meeting.attendees_url}/{uuid.uuid4()}", headers=meeting.headers
    )
    organiser_id = (await live_attendees(meeting.booking_id))[0]["id"]
    organiser = await client.delete(
        f"{meeting.attendees_url}/{organiser_id}", headers=meeting.headers
    )
    replacement = await client.post(
        meeting.attendees_url,
        json={"email": "guest@example.org", "name": "Guest again"},
        headers=meeting.headers,
    )

    assert removed.status_code == 200, removed.text
    assert removed.json()["removed_at"] is not None
    assert (again.status_code, unknown.status_code) == (404, 404)
    assert organiser.status_code == 409
    assert replacement.status_code == 201  # the place and the address are free again
    [cancel] = await mails(meeting.booking_id, "meeting_removed")
    assert cancel["recipient"] == "guest@example.org"
    assert cancel["calendar_method"] == "CANCEL"
    calendar, event = strict_event(str(cancel["calendar"]))
    assert str(calendar["method"]) == "CANCEL"
    assert list(attendee_params(event)) == ["guest@example.org"]
    assert event["sequence"] == sequence + 1
    audit = await AuditEntry.count().where(AuditEntry.action.like("meeting.%"))
    assert audit == 0  # an agent organising their own meeting is not an administrative act


async def test_the_organiser_role_can_be_handed_to_a_colleague(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    meeting = await book_meeting(client, settings)
    colleague = await make_user(Role.AGENT, organisation=meeting.organisation)
    invited = await client.post(
        meeting.attendees_url, json={"user_id": str(colleague.id)}, headers=meeting.headers
    )
    guest = await client.post(
        meeting.attendees_url,
        json={"email": "guest@example.org", "name": "Guest"},
        headers=meeting.headers,
    )

    to_guest = await client.post(
        f"{meeting.attendees_url}/{guest.json()['id']}/organiser", headers=meeting.headers
    )
    handed = await client.post(
        f"{meeting.attendees_url}/{invited.json()['id']}/organiser", headers=meeting.headers
    )
    by_old = await client.post(
        meeting.attendees_url,
        json={"email": "x@example.org", "name": "X"},
        headers=meeting.headers,
    )
    by_new = await client.post(
        meeting.attendees_url,
        json={"email": "x@example.org", "name": "X"},
        headers=auth(settings, colleague),
    )

    assert to_guest.status_code == 409
    assert handed.status_code == 200, handed.text
    holder_row = next(
        a for a in await live_attendees(meeting.booking_id) if a["person"] == meeting.holder.id
    )
    holder_removed = await client.delete(
        f"{meeting.attendees_url}/{holder_row['id']}", headers=auth(settings, colleague)
    )
    assert holder_removed.status_code == 409
    assert handed.json()["role"] == "organiser"
    assert by_old.status_code == 403
    assert by_new.status_code == 201
    roles = {a["email"]: a["role"] for a in await live_attendees(meeting.booking_id)}
    assert roles[meeting.holder.email] == "attendee"
    assert roles[colleague.email] == "organiser"
    # The booking stays its holder's: billed to the organisation that booked it.
    booking = await Booking.select().where(Booking.id == uuid.UUID(meeting.booking_id)).first()
    assert booking is not None
    assert booking["agent"] == meeting.holder.id
    [request] = [
        m
        for m in await mails(meeting.booking_id, "meeting_request")
        if m["recipient"] == "x@example.org"
    ]
    _, event = strict_event(str(request["calendar"]))
    assert str(event["organizer"]) == f"mailto:{colleague.email}"
    # The guest invited before is told of the new organiser, with a new SEQUENCE.
    to_guest = sorted(
        [
            m
            for m in await mails(meeting.booking_id, "meeting_request")
            if m["recipient"] == "guest@example.org"
        ],
        key=lambda m: m["created_at"],
    )
    assert len(to_guest) == 2
    _, first = strict_event(str(to_guest[0]["calendar"]))
    _, latest = strict_event(str(to_guest[1]["calendar"]))
    assert str(latest["organizer"]) == f"mailto:{colleague.email}"
    assert latest["sequence"] == first["sequence"] + 1


async def test_an_org_admin_invites_and_is_audited(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    meeting = await book_meeting(client, settings)
    admin = await make_user(Role.ORG_ADMIN, organisation=meeting.organisation)
    other_admin = await make_user(Role.ORG_ADMIN)

    invited = await client.post(
        meeting.attendees_url,
        json={"email": "guest@example.org", "name": "Guest"},
        headers=auth(settings, admin),
    )
    foreign = await client.post(
        meeting.attendees_url,
        json={"email": "other@example.org", "name": "Other"},
        headers=auth(settings, other_admin),
    )

    assert invited.status_code == 201
    assert foreign.status_code == 404
    # Someone of the network without a pass (here an admin) comes as a guest.
    as_guest = await client.post(
        meeting.attendees_url, json={"email": other_admin.email}, headers=meeting.headers
    )
    assert as_guest.status_code == 201, as_guest.text
    assert (as_guest.json()["kind"], as_guest.json()["person_id"]) == ("guest", None)
    rows = await AuditEntry.select().where(AuditEntry.action == "meeting.invite")
    assert len(rows) == 1


async def test_attendees_answer_by_the_signed_link_and_not_after_cancellation(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    meeting = await book_meeting(client, settings)
    colleague = await make_user(Role.AGENT, organisation=meeting.organisation)
    await client.post(
        meeting.attendees_url, json={"user_id": str(colleague.id)}, headers=meeting.headers
    )
    await client.post(
        meeting.attendees_url,
        json={"email": "guest@example.org", "name": "Guest"},
        headers=meeting.headers,
    )
    requests = {m["recipient"]: m for m in await mails(meeting.booking_id, "meeting_request")}
    colleague_token = answer_token_of(requests[colleague.email])
    guest_token = answer_token_of(requests["guest@example.org"])
    # The guest's calendar answers with an iTIP REPLY (RFC 5546), built by icalendar.
    reply = icalendar.Calendar()
    reply.add("prodid", "-//Client//Test//EN")
    reply.add("version", "2.0")
    reply.add("method", "REPLY")
    event = icalendar.Event()
    event.add("uid", f"{meeting.booking_id}@pass-tiers-lieux")
    event.add("dtstamp", datetime.now(UTC))
    event.add("sequence", 0)
    attendee = icalendar.vCalAddress("mailto:guest@example.org")
    attendee.params["PARTSTAT"] = icalendar.vText("DECLINED")
    event.add("attendee", attendee)
    reply.add_component(event)

    accepted = await client.post(
        f"/api/v1/meeting-answers/{colleague_token}", json={"partstat": "accepted"}
    )
    declined = await client.post(
        f"/api/v1/meeting-answers/{guest_token}",
        content=reply.to_ical(),
        headers={"content-type": "text/calendar"},
    )
    tampered = await client.post(
        f"/api/v1/meeting-answers/{colleague_token[:-3]}abc", json={"partstat": "declined"}
    )
    forged = await client.post(
        f"/api/v1/meeting-answers/{meetings.answer_token('another-secret-of-32-bytes-or-more', uuid.uuid4())}",
        json={"partstat": "declined"},
    )
    bad_answer = await client.post(
        f"/api/v1/meeting-answers/{colleague_token}", json={"partstat": "maybe"}
    )
    listing = await client.get(meeting.attendees_url, headers=meeting.headers)

    assert accepted.status_code == 200, accepted.text
    assert declined.status_code == 200, declined.text
    assert declined.json()["partstat"] == "declined"
    assert (tampered.status_code, tampered.json()["type"]) == (404, P + "invalid-answer-link")
    assert (forged.status_code, forged.json()["type"]) == (404, P + "invalid-answer-link")
    assert bad_answer.status_code == 422
    assert {a["email"]: a["partstat"] for a in listing.json()} == {
        meeting.holder.email: "accepted",
        colleague.email: "accepted",
        "guest@example.org": "declined",
    }

    cancelled = await client.post(
        f"/api/v1/bookings/{meeting.booking_id}/cancel", headers=meeting.headers
    )
    late = await client.post(
        f"/api/v1/meeting-answers/{colleague_token}", json={"partstat": "declined"}
    )

    assert cancelled.status_code == 200
    assert (late.status_code, late.json()["type"]) == (409, P + "meeting-closed")
    cancels = await mails(meeting.booking_id, "meeting_cancelled")
    assert sorted(str(m["recipient"]) for m in cancels) == sorted(
        [colleague.email, "guest@example.org"]
    )
    calendar, event = strict_event(str(cancels[0]["calendar"]))
    assert str(calendar["method"]) == "CANCEL"
    assert str(event["status"]) == "CANCELLED"
    after = await client.post(
        meeting.attendees_url,
        json={"email": "late@example.org", "name": "Late"},
        headers=meeting.headers,
    )
    assert (after.status_code, after.json()["type"]) == (409, P + "meeting-closed")


async def test_colleague_suggestions_come_from_the_organisation_only(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    meeting = await book_meeting(client, settings)
    await make_user(Role.AGENT, organisation=meeting.organisation, display_name="Bruno Leroy")
    await make_user(Role.AGENT, organisation=meeting.organisation, display_name="Brigitte Roy")
    await make_user(Role.AGENT, display_name="Bruno Ailleurs")
    gone = await make_user(Role.AGENT, organisation=meeting.organisation, display_name="Bruce")
    await User.update({User.active: False}).where(User.id == gone.id)

    found = await client.get(
        f"/api/v1/bookings/{meeting.booking_id}/colleagues",
        params={"q": "br"},
        headers=meeting.headers,
    )
    wildcard = await client.get(
        f"/api/v1/bookings/{meeting.booking_id}/colleagues",
        params={"q": "%"},
        headers=meeting.headers,
    )

    assert found.status_code == 200
    assert [c["display_name"] for c in found.json()] == ["Brigitte Roy", "Bruno Leroy"]
    assert wildcard.json() == []


async def test_the_policy_says_whether_meeting_hours_use_the_allowance(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    counted = await book_meeting(client, settings)
    free = await book_meeting(client, settings, meeting_hours_use_allowance=False)
    admin = await make_user(Role.ORG_ADMIN, organisation=counted.organisation)

    changed = await client.patch(
        f"/api/v1/organisations/{counted.organisation.id}",
        json={"meeting_hours_use_allowance": False},
        headers=auth(settings, admin),
    )

    units = {
        r["id"]: r["allowance_units"]
        for r in await Booking.select(Booking.id, Booking.allowance_units)
    }
    assert units[uuid.UUID(counted.booking_id)] == 1
    assert units[uuid.UUID(free.booking_id)] == 0
    assert changed.status_code == 200, changed.text
    assert changed.json()["meeting_hours_use_allowance"] is False
    stored = await Organisation.select(Organisation.meeting_hours_use_allowance).where(
        Organisation.id == counted.organisation.id
    )
    assert stored[0]["meeting_hours_use_allowance"] is False


async def test_moving_the_meeting_sends_a_new_sequence_to_everyone(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    meeting = await book_meeting(client, settings, capacity=3)
    colleague = await make_user(Role.AGENT, organisation=meeting.organisation)
    await client.post(
        meeting.attendees_url, json={"user_id": str(colleague.id)}, headers=meeting.headers
    )
    await client.post(
        meeting.attendees_url,
        json={"email": "guest@example.org", "name": "Guest"},
        headers=meeting.headers,
    )
    venue = await Venue.objects().where(Venue.id == meeting.room.venue).first()
    assert venue is not None
    small = await make_workspace(venue, kind="meeting_room", booking_unit="hour", capacity=2)
    other = await make_workspace(venue, kind="meeting_room", booking_unit="hour", capacity=8)
    booking = await Booking.objects().where(Booking.id == uuid.UUID(meeting.booking_id)).first()
    assert booking is not None
    day = booking.local_date
    url = f"/api/v1/bookings/{meeting.booking_id}/meeting-time"
    before = await Outbox.count().where(Outbox.booking == booking.id)

    too_small = await client.post(
        url,
        json={"start": f"{day}T14:00:00", "end": f"{day}T15:00:00", "workspace_id": str(small.id)},
        headers=meeting.headers,
    )
    closed = await client.post(
        url, json={"start": f"{day}T20:00:00", "end": f"{day}T21:00:00"}, headers=meeting.headers
    )
    by_colleague = await client.post(
        url,
        json={"start": f"{day}T14:00:00", "end": f"{day}T15:00:00"},
        headers=auth(settings, colleague),
    )
    unchanged = await Outbox.count().where(Outbox.booking == booking.id)
    moved = await client.post(
        url,
        json={"start": f"{day}T14:00:00", "end": f"{day}T15:30:00", "workspace_id": str(other.id)},
        headers=meeting.headers,
    )

    assert (too_small.status_code, too_small.json()["type"]) == (409, P + "meeting-full")
    assert (closed.status_code, closed.json()["type"]) == (422, P + "outside-opening-hours")
    assert by_colleague.status_code == 403
    assert unchanged == before
    assert moved.status_code == 200, moved.text
    after = await Booking.objects().where(Booking.id == booking.id).first()
    assert after is not None
    assert after.workspace == other.id
    assert after.sequence == booking.sequence + 1
    assert after.quantity == 2
    requests = await Outbox.select().where(
        (Outbox.booking == booking.id) & (Outbox.created_at > booking.created_at)
    )
    latest: dict[str, dict[str, object]] = {}
    for mail in sorted(requests, key=lambda m: m["created_at"]):
        latest[str(mail["recipient"])] = mail
    assert set(latest) == {meeting.holder.email, colleague.email, "guest@example.org"}
    for email in (colleague.email, "guest@example.org"):
        calendar, event = strict_event(str(latest[email]["calendar"]))
        assert str(calendar["method"]) == "REQUEST"
        assert event["sequence"] == booking.sequence + 1
        assert event["dtstart"].dt.hour == 14
        assert attendee_params(event)[email]["RSVP"] == "TRUE"


async def test_the_organiser_is_told_of_each_changed_answer_once(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    meeting = await book_meeting(client, settings)
    colleague = await make_user(
        Role.AGENT, organisation=meeting.organisation, display_name="Bruno Leroy"
    )
    await client.post(
        meeting.attendees_url, json={"user_id": str(colleague.id)}, headers=meeting.headers
    )
    await client.post(
        meeting.attendees_url,
        json={"email": "claire@partenaire.example", "name": "Claire Dupont"},
        headers=meeting.headers,
    )
    requests = {m["recipient"]: m for m in await mails(meeting.booking_id, "meeting_request")}
    bruno = answer_token_of(requests[colleague.email])
    claire = answer_token_of(requests["claire@partenaire.example"])

    for token, partstat in (
        (bruno, "accepted"),
        (bruno, "accepted"),  # the same answer again: nothing new to tell
        (claire, "declined"),
        (bruno, "declined"),
    ):
        answered = await client.post(
            f"/api/v1/meeting-answers/{token}", json={"partstat": partstat}
        )
        assert answered.status_code == 200, answered.text

    told = sorted(
        await mails(meeting.booking_id, "meeting_answer"), key=lambda m: str(m["created_at"])
    )
    assert [m["recipient"] for m in told] == [meeting.holder.email] * 3
    assert [str(m["subject"]).split(" votre")[0] for m in told] == [
        "Bruno Leroy a accepté",
        "Claire Dupont a décliné",
        "Bruno Leroy a décliné",
    ]
    assert all(m["calendar"] is None for m in told)
    assert "salle" in str(told[0]["body"])
