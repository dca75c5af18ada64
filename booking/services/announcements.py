"""Announcements: the confirmation and cancellation emails of a booking, queued in the outbox."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from booking import calendars
from booking.tables import (
    Booking,
    Outbox,
)


def entry_of(row: dict[str, Any], base_url: str) -> calendars.CalendarEntry:
    """The calendar entry of a booking, from its row joined with its workspace, venue and agent
    (the columns `calendar_entry` reads; a new booking's come from what its transaction holds)."""
    return calendars.CalendarEntry(
        booking_id=row["id"],
        sequence=row["sequence"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        timezone=row["timezone"],
        status=row["status"],
        summary=f"{row['workspace_name']} — {row['venue_name']}",
        venue_name=row["venue_name"],
        address=f"{row['address']}, {row['postcode']} {row['commune']}",
        latitude=row["latitude"],
        longitude=row["longitude"],
        url=f"{base_url}/api/v1/bookings/{row['id']}",
        attendee_email=row["email"],
        attendee_name=row["display_name"],
        updated_at=row["updated_at"],
    )


async def calendar_entry(booking_id: uuid.UUID, base_url: str) -> calendars.CalendarEntry:
    rows = await Booking.raw(
        """
        SELECT b.id, b.sequence, b.starts_at, b.ends_at, b.status, b.updated_at,
               w.name AS workspace_name, w.kind AS workspace_kind,
               v.name AS venue_name, v.address, v.postcode, v.commune, v.latitude, v.longitude,
               v.timezone, u.email, u.display_name
          FROM booking b JOIN workspace w ON w.id = b.workspace
          JOIN venue v ON v.id = b.venue JOIN app_user u ON u.id = b.agent
         WHERE b.id = {}
        """,
        booking_id,
    )
    return entry_of(rows[0], base_url)


@dataclass(frozen=True)
class Message:
    """An outbox row's content: the email and its calendar attachment."""

    kind: str
    recipient: str
    subject: str
    body: str
    calendar: str
    calendar_method: str


def message(entry: calendars.CalendarEntry, *, cancel: bool) -> Message:
    """The confirmation (or cancellation) email of a booking and its iCalendar invitation."""
    zone = ZoneInfo(entry.timezone)
    start = entry.starts_at.astimezone(zone)
    end = entry.ends_at.astimezone(zone)
    when = f"le {start:%d/%m/%Y} de {start:%H:%M} à {end:%H:%M}"
    if cancel:
        subject = f"Réservation annulée : {entry.venue_name} {when}"
        body = (
            f"Bonjour {entry.attendee_name},\n\nVotre réservation « {entry.summary} » {when} "
            f"est annulée.\n\n{entry.url}\n"
        )
    else:
        subject = f"Réservation confirmée : {entry.venue_name} {when}"
        body = (
            f"Bonjour {entry.attendee_name},\n\nVotre réservation « {entry.summary} » {when} est "
            f"confirmée.\nAdresse : {entry.address}\nPrésentez votre Pass Tiers-Lieux à "
            f"l'accueil.\n\n{entry.url}\n"
        )
    return Message(
        kind="booking_cancelled" if cancel else "booking_confirmed",
        recipient=entry.attendee_email or "",
        subject=subject,
        body=body,
        calendar=calendars.invitation(entry, cancel=cancel).decode(),
        calendar_method="CANCEL" if cancel else "REQUEST",
    )


async def announce(booking_id: uuid.UUID, *, cancel: bool, base_url: str) -> None:
    """Queue the confirmation or cancellation email, in the booking's own transaction."""
    text = message(await calendar_entry(booking_id, base_url), cancel=cancel)
    await Outbox(
        kind=text.kind,
        recipient=text.recipient,
        subject=text.subject,
        body=text.body,
        calendar=text.calendar,
        calendar_method=text.calendar_method,
        booking=booking_id,
    ).save()
