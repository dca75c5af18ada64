"""Background jobs of bookings, against the real database and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler

from booking.jobs import backoff, deliver_outbox, mark_no_shows, send_reminders
from booking.services import placement
from booking.tables import Booking, OpeningHours, Outbox, User
from service.kernel.identity import Principal, Role
from service.kernel.settings import Settings
from tests.factories import make_organisation, make_user, make_venue, make_workspace


class Inbox(MessageHandler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[Message] = []

    def handle_message(self, message: Message) -> None:
        self.messages.append(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _soon() -> datetime:
    """A minute from now: the outbox stamps its rows with the database's clock, so a job run
    at a fixed past date would find nothing due once the real date has gone past it."""
    return datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)


async def _booking(settings: Settings, day: date, now: datetime) -> Booking:
    venue = await make_venue()
    await OpeningHours.insert(
        *[OpeningHours(venue=venue.id, weekday=d, opens=time(8), closes=time(19)) for d in (5, 6)]
    )
    desk = await make_workspace(venue)
    agent = await make_user(
        Role.AGENT, organisation=await make_organisation(booking_horizon_days=366)
    )
    booking_id = await placement.book(
        Principal(role=Role.AGENT, user_id=agent.id, organisation_id=agent.organisation),
        placement.BookingRequest(workspace_id=desk.id, date=day, slot="morning"),
        base_url=settings.base_url,
        now=now,
    )
    booking = await Booking.objects().where(Booking.id == booking_id).first()
    assert booking is not None
    return booking


async def test_the_outbox_is_delivered_by_smtp_with_the_invitation(
    database_url: str, settings: Settings, smtp_server: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_server
    now = _soon()
    await _booking(settings, (now + timedelta(days=2)).date(), now)
    ctx = {"settings": replace(settings, smtp_url=f"smtp://127.0.0.1:{port}")}

    sent = await deliver_outbox(ctx, now=now)
    again = await deliver_outbox(ctx, now=now)

    assert (sent, again) == (1, 0)
    [message] = inbox.messages
    parsed = email.message_from_bytes(message.as_bytes())
    calendars = [part for part in parsed.walk() if part.get_content_type() == "text/calendar"]
    assert len(calendars) == 1
    assert calendars[0].get_param("method") == "REQUEST"
    assert b"METHOD:REQUEST" in calendars[0].get_payload(decode=True)
    assert "Réservation confirmée" in str(
        email.header.make_header(email.header.decode_header(parsed["Subject"]))
    )
    row = await Outbox.select().first()
    assert row is not None
    assert row["sent_at"] == now


async def test_a_subject_with_a_line_break_is_sent_as_one_line_and_injects_nothing(
    database_url: str, settings: Settings, smtp_server: tuple[Inbox, int]
) -> None:
    # Rooms and venues are named by their admins, and an old row may hold a name typed
    # before names were one line: the subject carries them.
    inbox, port = smtp_server
    now = _soon()
    await _booking(settings, (now + timedelta(days=2)).date(), now)
    await Outbox.update({Outbox.subject: "Salle\r\nBcc: everyone@evil.example\r\n\r\nHi"}).where(
        Outbox.sent_at.is_null()
    )
    ctx = {"settings": replace(settings, smtp_url=f"smtp://127.0.0.1:{port}")}

    sent = await deliver_outbox(ctx, now=now)

    assert sent == 1
    [message] = inbox.messages
    parsed = email.message_from_bytes(message.as_bytes())
    assert parsed["Subject"] == "Salle Bcc: everyone@evil.example Hi"
    assert parsed["Bcc"] is None
    assert message["X-RcptTo"] == (await Outbox.select(Outbox.recipient).first())["recipient"]


async def test_a_failed_delivery_backs_off_and_keeps_the_error(
    database_url: str, settings: Settings
) -> None:
    now = _soon()
    await _booking(settings, (now + timedelta(days=2)).date(), now)
    ctx = {
        "settings": replace(settings, smtp_url=f"smtp://127.0.0.1:{free_port()}")
    }  # nobody listens

    first = await deliver_outbox(ctx, now=now)
    too_soon = await deliver_outbox(ctx, now=now + timedelta(seconds=30))
    second = await deliver_outbox(ctx, now=now + timedelta(minutes=1))

    row = await Outbox.select().first()
    assert row is not None
    assert (first, too_soon, second) == (0, 0, 0)
    assert row["attempts"] == 2
    assert row["sent_at"] is None
    assert "ConnectionRefusedError" in row["last_error"]
    assert row["next_attempt_at"] == now + timedelta(minutes=1) + backoff(2)
    assert [backoff(n) for n in (1, 2, 3)] == [timedelta(minutes=m) for m in (1, 2, 4)]
    assert backoff(20) == timedelta(hours=6)


async def test_without_smtp_the_demo_keeps_messages_as_delivered(
    database_url: str, settings: Settings
) -> None:
    now = _soon()
    await _booking(settings, (now + timedelta(days=2)).date(), now)

    assert await deliver_outbox({"settings": settings}, now=now) == 1
    assert await Outbox.count().where(Outbox.sent_at.is_not_null()) == 1


async def test_reminders_go_the_day_before_once(database_url: str, settings: Settings) -> None:
    booking = await _booking(settings, date(2026, 12, 3), datetime(2026, 12, 1, 9, tzinfo=UTC))
    ctx = {"settings": settings}

    two_days_before = await send_reminders(ctx, now=datetime(2026, 12, 1, 17, tzinfo=UTC))
    day_before = await send_reminders(ctx, now=datetime(2026, 12, 2, 17, tzinfo=UTC))
    again = await send_reminders(ctx, now=datetime(2026, 12, 2, 17, 30, tzinfo=UTC))

    assert (two_days_before, day_before, again) == (0, 1, 0)
    reminders = await Outbox.select().where(Outbox.kind == "booking_reminder")
    assert [r["booking"] for r in reminders] == [booking.id]


async def test_no_shows_are_marked_after_the_grace_period_once(
    database_url: str, settings: Settings
) -> None:
    booking = await _booking(settings, date(2026, 12, 3), datetime(2026, 12, 1, 9, tzinfo=UTC))
    ctx = {"settings": settings}
    start = booking.starts_at

    during_grace = await mark_no_shows(ctx, now=start + timedelta(minutes=30))
    after_grace = await mark_no_shows(ctx, now=start + timedelta(minutes=61))
    again = await mark_no_shows(ctx, now=start + timedelta(hours=3))

    assert (during_grace, after_grace, again) == (0, 1, 0)
    stored = await Booking.select(Booking.status).where(Booking.id == booking.id).first()
    assert stored == {"status": "no_show"}


async def test_messages_are_readable_by_their_recipient_and_the_network(
    client: object, settings: Settings
) -> None:
    import httpx

    from tests.factories import auth

    assert isinstance(client, httpx.AsyncClient)
    booking = await _booking(settings, date(2026, 12, 3), datetime(2026, 12, 1, 9, tzinfo=UTC))
    agent = await User.objects().where(User.id == booking.agent).first()
    assert agent is not None
    other = auth(settings, await make_user(Role.AGENT))
    network = auth(settings, await make_user(Role.NETWORK_ADMIN))

    mine = await client.get("/api/v1/me/messages", headers=auth(settings, agent))
    theirs = await client.get("/api/v1/me/messages", headers=other)
    everything = await client.get("/api/v1/outbox", headers=network)
    forbidden = await client.get("/api/v1/outbox", headers=other)

    assert [m["kind"] for m in mine.json()["items"]] == ["booking_confirmed"]
    assert theirs.json()["total"] == 0
    assert everything.json()["total"] == 1
    assert forbidden.status_code == 403
