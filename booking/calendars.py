"""iCalendar documents: invitations (REQUEST/CANCEL) for one booking, and feeds of many."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

PRODID = "-//Pass Tiers-Lieux//Reservations//FR"
UID_DOMAIN = "pass-tiers-lieux"
ORGANIZER_EMAIL = "reservations@pass-tiers-lieux.invalid"


@dataclass(frozen=True)
class CalendarEntry:
    """What an invitation or a feed needs to know about one booking."""

    booking_id: uuid.UUID
    sequence: int
    starts_at: datetime
    ends_at: datetime
    timezone: str
    status: str
    summary: str
    venue_name: str
    address: str
    latitude: Decimal
    longitude: Decimal
    url: str
    attendee_email: str | None = None
    attendee_name: str | None = None
    description: str = ""
    updated_at: datetime | None = None


def booking_uid(booking_id: uuid.UUID) -> str:
    """Stable for the booking's whole life, so that calendars update the same event."""
    return f"{booking_id}@{UID_DOMAIN}"


def _event(entry: CalendarEntry, *, cancelled: bool, with_people: bool) -> Event:
    zone = ZoneInfo(entry.timezone)
    event = Event()
    event.add("uid", booking_uid(entry.booking_id))
    event.add("sequence", entry.sequence)
    event.add("dtstamp", (entry.updated_at or datetime.now(UTC)).astimezone(UTC))
    event.add("dtstart", entry.starts_at.astimezone(zone))
    event.add("dtend", entry.ends_at.astimezone(zone))
    event.add("summary", entry.summary)
    event.add("location", vText(f"{entry.venue_name}, {entry.address}"))
    event.add("geo", (float(entry.latitude), float(entry.longitude)))
    event.add("url", entry.url)
    if entry.description:
        event.add("description", entry.description)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    organizer = vCalAddress(f"mailto:{ORGANIZER_EMAIL}")
    organizer.params["cn"] = vText("Pass Tiers-Lieux")
    event.add("organizer", organizer)
    if with_people and entry.attendee_email:
        attendee = vCalAddress(f"mailto:{entry.attendee_email}")
        if entry.attendee_name:
            attendee.params["cn"] = vText(entry.attendee_name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("DECLINED" if cancelled else "ACCEPTED")
        event.add("attendee", attendee)
    return event


def _calendar(method: str | None, name: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


def invitation(entry: CalendarEntry, *, cancel: bool = False) -> bytes:
    """A METHOD:REQUEST (or CANCEL) calendar for one booking, with its VTIMEZONE."""
    calendar = _calendar("CANCEL" if cancel else "REQUEST")
    calendar.add_component(_event(entry, cancelled=cancel, with_people=True))
    calendar.add_missing_timezones()
    return calendar.to_ical()


def feed(name: str, entries: list[CalendarEntry], *, with_people: bool) -> bytes:
    """A subscribable calendar of several bookings (cancelled ones stay, marked CANCELLED)."""
    calendar = _calendar(None, name)
    for entry in entries:
        calendar.add_component(
            _event(
                entry,
                cancelled=entry.status in ("cancelled", "late_cancelled"),
                with_people=with_people,
            )
        )
    calendar.add_missing_timezones()
    return calendar.to_ical()
