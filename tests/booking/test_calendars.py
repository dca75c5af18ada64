"""Invitations (REQUEST/CANCEL) and the .ics of one booking, read by two independent parsers.

`icalendar` builds our documents, so reading them back with it alone would prove little:
every document is also parsed by `ical`, a strict RFC 5545 implementation, and the
VTIMEZONE is checked on its own (not through the parser's tz database).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest
from dateutil import tz as dateutil_tz
from ical.calendar import Calendar as StrictCalendar
from ical.calendar_stream import IcsCalendarStream
from ical.timezone import IcsTimezoneInfo

from booking.calendars import vtimezones
from booking.services import placement
from booking.tables import Booking, OpeningHours, Outbox, User
from service.kernel.identity import Principal, Role
from service.kernel.settings import Settings
from tests.factories import (
    auth,
    make_organisation,
    make_user,
    make_venue,
    make_workspace,
    next_weekday,
)

PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class Parsed:
    """One document as read by both parsers, and its raw text."""

    text: str
    strict: StrictCalendar
    loose: icalendar.Calendar

    def event(self) -> icalendar.Event:
        [event] = self.loose.walk("VEVENT")
        return event


def parse(document: str | bytes) -> Parsed:
    """Parse with `ical` (raises on anything not RFC 5545) and `icalendar`; check the framing."""
    text = document.decode() if isinstance(document, bytes) else document
    lines = text.split("\r\n")
    assert lines[-1] == "", "the document ends with CRLF"
    assert all(lines[:-1]), "content lines end with CRLF, no empty lines"
    too_long = [line for line in lines if len(line.encode()) > 75]
    assert too_long == [], f"lines over 75 octets must be folded: {too_long}"
    strict = IcsCalendarStream.calendar_from_ics(text)
    loose = icalendar.Calendar.from_ical(text)
    errors = [(c.name, c.errors) for c in loose.walk() if c.errors]
    assert errors == [], errors
    return Parsed(text, strict, loose)


def observances(parsed: Parsed, tzid: str) -> set[str]:
    """The kinds of observance in a VTIMEZONE; both parsers must see the same."""
    [timezone] = [t for t in parsed.loose.walk("VTIMEZONE") if str(t["TZID"]) == tzid]
    [strict] = [t for t in parsed.strict.timezones if t.tz_id == tzid]
    kinds = {c.name for c in timezone.subcomponents}
    strict_kinds = {"STANDARD"} if strict.standard else set()
    strict_kinds |= {"DAYLIGHT"} if strict.daylight else set()
    assert kinds == strict_kinds
    return kinds


def vtimezone_reader(parsed: Parsed, tzid: str) -> Callable[[datetime], list[timedelta]]:
    """UTC offsets at a moment as the document's own VTIMEZONE defines them, per reader.

    `ical` answers for a local wall time, so it is asked only where that is unambiguous
    (not in the repeated or skipped hour of a switch).
    """
    [strict_zone] = [t for t in parsed.strict.timezones if t.tz_id == tzid]
    [loose_zone] = [t for t in parsed.loose.walk("VTIMEZONE") if str(t["TZID"]) == tzid]
    block = parsed.text[parsed.text.index("BEGIN:VTIMEZONE") :]
    block = block[: block.index("END:VTIMEZONE") + len("END:VTIMEZONE")]
    strict = IcsTimezoneInfo.from_timezone(strict_zone)
    loose = loose_zone.to_tz()
    independent = dateutil_tz.tzical(io.StringIO(block)).get(tzid)
    zone = ZoneInfo(tzid)

    def offsets(moment: datetime) -> list[timedelta]:
        wall = moment.astimezone(zone).replace(tzinfo=None)
        found = [
            moment.astimezone(loose).utcoffset() or timedelta(0),
            moment.astimezone(independent).utcoffset() or timedelta(0),
        ]
        if (
            wall.replace(tzinfo=zone, fold=0).utcoffset()
            == wall.replace(tzinfo=zone, fold=1).utcoffset()
        ):
            found.append(strict.utcoffset(wall) or timedelta(0))
        return found

    return offsets


async def _agent(settings: Settings, **org_fields: object) -> tuple[User, dict[str, str]]:
    organisation = await make_organisation(**org_fields)
    agent = await make_user(Role.AGENT, organisation=organisation, display_name="Camille Martin")
    return agent, auth(settings, agent)


async def _book_desk(
    client: httpx.AsyncClient, headers: dict[str, str], workspace_id: uuid.UUID, day: date
) -> uuid.UUID:
    response = await client.post(
        "/api/v1/bookings",
        json={"workspace_id": str(workspace_id), "date": day.isoformat(), "slot": "morning"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


async def _outbox_calendars(booking_id: uuid.UUID) -> list[dict[str, object]]:
    return list(
        await Outbox.select(Outbox.calendar, Outbox.calendar_method, Outbox.kind)
        .where(Outbox.booking == booking_id)
        .order_by(Outbox.created_at)
    )


async def test_a_confirmation_carries_a_complete_invitation(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue = await make_venue(address="12 rue de Gand", postcode="59800", commune="Lille")
    desk = await make_workspace(venue, name="Open space")
    agent, headers = await _agent(settings)
    day = next_weekday(1)

    booking_id = await _book_desk(client, headers, desk.id, day)

    [row] = await _outbox_calendars(booking_id)
    assert row["calendar_method"] == "REQUEST"
    parsed = parse(str(row["calendar"]))
    assert parsed.strict.method == "REQUEST"
    assert str(parsed.loose["METHOD"]) == "REQUEST"
    [strict] = parsed.strict.events
    event = parsed.event()
    uid = f"{booking_id}@pass-tiers-lieux"
    assert strict.uid == str(event["UID"]) == uid
    assert strict.sequence == event["SEQUENCE"] == 0
    assert f"DTSTART;TZID=Europe/Paris:{day:%Y%m%d}T083000" in parsed.text
    assert f"DTEND;TZID=Europe/Paris:{day:%Y%m%d}T130000" in parsed.text
    start = datetime.combine(day, time(8, 30), tzinfo=PARIS)
    assert strict.dtstart == event.decoded("DTSTART") == start
    assert observances(parsed, "Europe/Paris") == {"STANDARD", "DAYLIGHT"}
    assert strict.location == str(event["LOCATION"])
    assert strict.location == f"{venue.name}, 12 rue de Gand, 59800 Lille"
    assert strict.geo is not None
    assert (strict.geo.lat, strict.geo.lng) == (50.6372, 3.0633)
    assert (event["GEO"].latitude, event["GEO"].longitude) == (50.6372, 3.0633)
    assert (
        str(strict.url) == str(event["URL"]) == f"{settings.base_url}/api/v1/bookings/{booking_id}"
    )
    assert strict.organizer is not None
    assert strict.organizer.uri == "mailto:reservations@pass-tiers-lieux.invalid"
    [attendee] = strict.attendees
    assert attendee.uri == f"mailto:{agent.email}"
    assert attendee.common_name == "Camille Martin"
    assert attendee.rsvp is False
    assert str(event["STATUS"]) == "CONFIRMED"
    assert strict.summary == f"Open space — {venue.name}"


@pytest.mark.parametrize(
    ("day", "utc_start", "utc_end"),
    [
        (date(2026, 3, 29), datetime(2026, 3, 29, 6, 30, tzinfo=UTC), time(11, 0)),
        (date(2026, 10, 25), datetime(2026, 10, 25, 7, 30, tzinfo=UTC), time(12, 0)),
    ],
    ids=["spring-forward", "fall-back"],
)
async def test_invitations_on_daylight_saving_days_keep_the_local_time(
    client: httpx.AsyncClient,
    settings: Settings,
    day: date,
    utc_start: datetime,
    utc_end: time,
) -> None:
    venue = await make_venue()
    await OpeningHours.insert(
        OpeningHours(venue=venue.id, weekday=6, opens=time(8), closes=time(19))
    )  # both days are Sundays
    desk = await make_workspace(venue, capacity=3)
    agent, _ = await _agent(settings, booking_horizon_days=366)
    principal = Principal(role=Role.AGENT, user_id=agent.id, organisation_id=agent.organisation)

    booking_id = await placement.book(
        principal,
        placement.BookingRequest(workspace_id=desk.id, date=day, slot="morning"),
        base_url=settings.base_url,
        now=datetime(2026, 3, 1, tzinfo=UTC),
    )

    [row] = await _outbox_calendars(booking_id)
    parsed = parse(str(row["calendar"]))
    assert f"DTSTART;TZID=Europe/Paris:{day:%Y%m%d}T083000" in parsed.text
    assert f"DTEND;TZID=Europe/Paris:{day:%Y%m%d}T130000" in parsed.text
    assert observances(parsed, "Europe/Paris") == {"STANDARD", "DAYLIGHT"}
    [strict] = parsed.strict.events
    assert strict.dtstart.astimezone(UTC) == utc_start
    assert parsed.event().decoded("DTSTART").astimezone(UTC) == utc_start
    assert strict.dtend.astimezone(UTC) == datetime.combine(day, utc_end, tzinfo=UTC)
    # The VTIMEZONE itself (what Outlook reads) agrees, not only the parsers' tz database,
    # including around the switch (01:00 UTC on both days).
    offsets = vtimezone_reader(parsed, "Europe/Paris")
    switch = datetime.combine(day, time(1, 0), tzinfo=UTC)
    for moment in (utc_start, switch - timedelta(minutes=1), switch):
        expected = moment.astimezone(PARIS).utcoffset()
        found = offsets(moment)
        assert set(found) == {expected}, (moment, found)
    stored = await Booking.select(Booking.starts_at).where(Booking.id == booking_id).first()
    assert stored is not None
    assert stored["starts_at"] == utc_start


@pytest.mark.parametrize(
    "zone",
    [
        "Europe/Paris",
        "America/Martinique",
        "Indian/Reunion",
        "Pacific/Noumea",
        "Europe/Dublin",
        "America/New_York",
        "Australia/Sydney",
        "Africa/Casablanca",
    ],
)
def test_generated_time_zones_match_the_tz_database(zone: str) -> None:
    """Every half hour of two years, through three readers of the VTIMEZONE alone."""
    first, last = datetime(2026, 1, 3, tzinfo=UTC), datetime(2027, 12, 28, tzinfo=UTC)
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//test//")
    calendar.add("version", "2.0")
    for timezone in vtimezones([(zone, first), (zone, last)]):
        calendar.add_component(timezone)
    offsets = vtimezone_reader(parse(calendar.to_ical()), zone)
    key = ZoneInfo(zone)
    wrong = []
    moment = first
    while moment < last:
        expected = moment.astimezone(key).utcoffset()
        found = offsets(moment)
        if set(found) != {expected}:
            wrong.append((moment, expected, found))
        moment += timedelta(minutes=30)
    assert wrong == [], wrong[:5]


async def test_a_cancellation_sends_cancel_with_the_same_uid_and_a_higher_sequence(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    desk = await make_workspace(await make_venue())
    _, headers = await _agent(settings)
    booking_id = await _book_desk(client, headers, desk.id, next_weekday(3))

    cancelled = await client.post(f"/api/v1/bookings/{booking_id}/cancel", headers=headers)

    assert cancelled.status_code == 200, cancelled.text
    request_row, cancel_row = await _outbox_calendars(booking_id)
    assert (request_row["calendar_method"], cancel_row["calendar_method"]) == ("REQUEST", "CANCEL")
    request, cancel = parse(str(request_row["calendar"])), parse(str(cancel_row["calendar"]))
    assert cancel.strict.method == str(cancel.loose["METHOD"]) == "CANCEL"
    [before], [after] = request.strict.events, cancel.strict.events
    assert after.uid == before.uid == f"{booking_id}@pass-tiers-lieux"
    assert (before.sequence, after.sequence) == (0, 1)
    assert cancel.event()["SEQUENCE"] == after.sequence
    assert str(cancel.event()["STATUS"]) == "CANCELLED"
    assert after.dtstart == before.dtstart
    stored = await Booking.select(Booking.sequence, Booking.status).where(Booking.id == booking_id)
    assert stored == [{"sequence": after.sequence, "status": "cancelled"}]


async def test_the_ics_of_a_booking_is_for_its_agent_and_its_venue_only(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue = await make_venue()
    desk = await make_workspace(venue)
    agent, headers = await _agent(settings)
    booking_id = await _book_desk(client, headers, desk.id, next_weekday(2))
    path = f"/api/v1/bookings/{booking_id}.ics"
    other_agent = await make_user(Role.AGENT)
    staff = await make_user(Role.VENUE_STAFF, venue=venue)
    other_staff = await make_user(Role.VENUE_STAFF)

    mine = await client.get(path, headers=headers)
    stranger = await client.get(path, headers=auth(settings, other_agent))
    venue_side = await client.get(path, headers=auth(settings, staff))
    other_venue = await client.get(path, headers=auth(settings, other_staff))
    anonymous = await client.get(path)
    unknown = await client.get(f"/api/v1/bookings/{uuid.uuid4()}.ics", headers=headers)

    assert mine.status_code == 200, mine.text
    assert mine.headers["content-type"].startswith("text/calendar")
    parsed = parse(mine.content)
    assert parsed.strict.method == "REQUEST"
    assert parsed.strict.events[0].uid == f"{booking_id}@pass-tiers-lieux"
    assert parsed.strict.events[0].attendees[0].uri == f"mailto:{agent.email}"
    assert stranger.status_code == 404, stranger.text
    assert stranger.json()["type"] == "urn:tierslieux:problem:not-found"
    assert agent.email not in stranger.text
    assert venue_side.status_code == 200, venue_side.text
    assert parse(venue_side.content).strict.events[0].uid == f"{booking_id}@pass-tiers-lieux"
    assert other_venue.status_code == 404
    assert anonymous.status_code == 401
    assert unknown.status_code == 404


async def test_the_ics_of_a_cancelled_booking_is_a_cancel(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    desk = await make_workspace(await make_venue())
    _, headers = await _agent(settings)
    booking_id = await _book_desk(client, headers, desk.id, next_weekday(3))
    await client.post(f"/api/v1/bookings/{booking_id}/cancel", headers=headers)

    response = await client.get(f"/api/v1/bookings/{booking_id}.ics", headers=headers)

    assert response.status_code == 200, response.text
    parsed = parse(response.content)
    assert parsed.strict.method == "CANCEL"
    [event] = parsed.strict.events
    assert event.sequence == 1
    assert str(parsed.event()["STATUS"]) == "CANCELLED"
