"""An invitation is rendered from pieces kept per process: the bytes must be those of the whole
calendar rendered at once, for every zone, year, method and attendee."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from booking import calendars


def _whole(entry: calendars.CalendarEntry, *, cancel: bool) -> bytes:
    calendar = calendars._calendar("CANCEL" if cancel else "REQUEST")
    calendars._add_timezones(calendar, [entry])
    calendar.add_component(calendars._event(entry, cancelled=cancel, invitation=True))
    return bytes(calendar.to_ical())


@pytest.mark.parametrize("cancel", [False, True])
@pytest.mark.parametrize(
    ("zone", "starts_at", "email"),
    [
        ("Europe/Paris", datetime(2026, 12, 10, 7, 30, tzinfo=UTC), "agent@example.org"),
        ("Europe/Paris", datetime(2027, 3, 28, 7, 0, tzinfo=UTC), None),  # spring forward
        ("Europe/Paris", datetime(2026, 10, 25, 8, 0, tzinfo=UTC), "a@b.fr"),  # fall back
        ("Europe/Paris", datetime(2026, 12, 31, 22, 30, tzinfo=UTC), "x@y.fr"),  # next year, local
        ("America/Martinique", datetime(2027, 1, 5, 12, 0, tzinfo=UTC), "m@example.org"),
        ("Indian/Reunion", datetime(2027, 6, 1, 5, 0, tzinfo=UTC), "r@example.org"),
    ],
)
def test_an_invitation_is_the_whole_calendar_rendered_at_once(
    zone: str, starts_at: datetime, email: str | None, cancel: bool
) -> None:
    booking_id = uuid.uuid4()
    entry = calendars.CalendarEntry(
        booking_id=booking_id,
        sequence=3,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=4, minutes=30),
        timezone=zone,
        status="cancelled" if cancel else "confirmed",
        summary="Espace partagé « Le Grand Atelier » — Tiers-lieu de la gare, côté quai n°2",
        venue_name="Tiers-lieu de la gare, côté quai n°2",
        address="12 rue de l'Église; bâtiment B, 59000 Lille",
        latitude=Decimal("50.636565"),
        longitude=Decimal("-3.063528"),
        url=f"https://pass.example.org/api/v1/bookings/{booking_id}",
        attendee_email=email,
        attendee_name='Zoé Dupont-Lefèvre, "Zozo"' if email else None,
        updated_at=starts_at - timedelta(days=3, microseconds=17),
    )

    assert calendars.invitation(entry, cancel=cancel) == _whole(entry, cancel=cancel)
    # A second rendering uses the pieces kept by the first.
    assert calendars.invitation(entry, cancel=cancel) == _whole(entry, cancel=cancel)
