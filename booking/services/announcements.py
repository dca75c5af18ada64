"""Announcements: the confirmation and cancellation emails of a booking, queued in the outbox."""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

from booking import calendars
from booking.tables import (
    Booking,
    Outbox,
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
    row = rows[0]
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


async def announce(booking_id: uuid.UUID, *, cancel: bool, base_url: str) -> None:
    """Queue the confirmation or cancellation email, in the booking's own transaction."""
    entry = await calendar_entry(booking_id, base_url)
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
    await Outbox(
        kind="booking_cancelled" if cancel else "booking_confirmed",
        recipient=entry.attendee_email or "",
        subject=subject,
        body=body,
        calendar=calendars.invitation(entry, cancel=cancel).decode(),
        calendar_method="CANCEL" if cancel else "REQUEST",
        booking=booking_id,
    ).save()
