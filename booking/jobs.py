"""Background work of bookings: deliver the outbox, remind the day before, mark no-shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from booking import mail
from booking.tables import Booking, Outbox
from service.kernel.jobs import once_cron

log = structlog.get_logger(__name__)

BATCH = 50
MAX_ATTEMPTS = 10
MAX_BACKOFF = timedelta(hours=6)
NO_SHOW_GRACE = timedelta(minutes=60)
PARIS = ZoneInfo("Europe/Paris")


def backoff(attempts: int) -> timedelta:
    """1 min, 2, 4 … up to 6 h between tries."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


async def deliver_outbox(ctx: dict[str, Any], now: datetime | None = None) -> int:
    """Send what is due. Rows are claimed with SKIP LOCKED, so workers never send one twice.

    Without SMTP_URL (demo), messages are kept: marked delivered to the local mailbox and
    readable in the API.
    """
    now = now or datetime.now(UTC)
    smtp_url = getattr(ctx["settings"], "smtp_url", None)
    server = mail.SmtpServer.from_url(smtp_url) if smtp_url else None
    sent = 0
    async with Outbox._meta.db.transaction():
        rows = await Outbox.raw(
            """
            SELECT * FROM outbox
             WHERE sent_at IS NULL AND next_attempt_at <= {} AND attempts < {}
             ORDER BY next_attempt_at LIMIT {} FOR UPDATE SKIP LOCKED
            """,
            now,
            MAX_ATTEMPTS,
            BATCH,
        )
        for row in rows:
            try:
                if server is not None:
                    await mail.send(server, row)
            except Exception as error:  # any SMTP or network failure: try again later
                attempts = row["attempts"] + 1
                await Outbox.update(
                    {
                        Outbox.attempts: attempts,
                        Outbox.next_attempt_at: now + backoff(attempts),
                        Outbox.last_error: f"{type(error).__name__}: {error}"[:1000],
                    }
                ).where(Outbox.id == row["id"])
                # An SMTP refusal quotes the address: the log says what failed, the
                # row keeps the full reason (and goes with the message, docs/privacy.md).
                log.warning(
                    "outbox.failed",
                    id=str(row["id"]),
                    attempts=attempts,
                    error=type(error).__name__,
                    smtp_code=getattr(error, "smtp_code", None),
                )
                continue
            await Outbox.update({Outbox.sent_at: now, Outbox.last_error: None}).where(
                Outbox.id == row["id"]
            )
            sent += 1
    return sent


async def send_reminders(ctx: dict[str, Any], now: datetime | None = None) -> int:
    """One reminder per confirmed booking of tomorrow (the venue's tomorrow); idempotent."""
    now = now or datetime.now(UTC)
    rows = await Booking.raw(
        """
        SELECT b.id, b.starts_at, u.email, u.display_name, v.name AS venue_name, v.timezone,
               v.address, v.postcode, v.commune, w.name AS workspace_name
          FROM booking b JOIN app_user u ON u.id = b.agent JOIN venue v ON v.id = b.venue
          JOIN workspace w ON w.id = b.workspace
         WHERE b.status = 'confirmed' AND b.reminded_at IS NULL
           AND b.local_date = (({} AT TIME ZONE v.timezone)::date + 1)
        """,
        now,
    )
    reminded = 0
    for row in rows:
        async with Booking._meta.db.transaction():
            claimed = await Booking.raw(
                "UPDATE booking SET reminded_at = {} WHERE id = {} AND reminded_at IS NULL "
                "AND status = 'confirmed' RETURNING id",
                now,
                row["id"],
            )
            if not claimed:
                continue
            start = row["starts_at"].astimezone(ZoneInfo(row["timezone"]))
            await Outbox(
                kind="booking_reminder",
                recipient=row["email"],
                subject=f"Rappel : {row['venue_name']} demain à {start:%H:%M}",
                body=(
                    f"Bonjour {row['display_name']},\n\nDemain à {start:%H:%M}, {row['workspace_name']} "
                    f"vous attend à {row['venue_name']}, {row['address']}, {row['postcode']} "
                    f"{row['commune']}.\nSi vous ne venez pas, pensez à annuler.\n"
                ),
                booking=row["id"],
            ).save()
            reminded += 1
    return reminded


async def mark_no_shows(ctx: dict[str, Any], now: datetime | None = None) -> int:
    """Confirmed bookings whose start plus the grace period has passed become no-shows."""
    now = now or datetime.now(UTC)
    grace = getattr(ctx["settings"], "no_show_grace_minutes", None)
    cutoff = now - (timedelta(minutes=grace) if grace is not None else NO_SHOW_GRACE)
    rows = await Booking.raw(
        """
        UPDATE booking SET status = 'no_show', updated_at = {}, sequence = sequence + 1
         WHERE status = 'confirmed' AND starts_at <= {}
        RETURNING id
        """,
        now,
        cutoff,
    )
    if rows:
        log.info("bookings.no_show", count=len(rows))
    return len(rows)


FUNCTIONS = [deliver_outbox, send_reminders, mark_no_shows]


def cron_jobs(settings: Any) -> list[Any]:
    # REMINDERS_TIME_UTC, 17:00 by default: 18:00 in Paris in winter and 19:00 in summer, an
    # evening reminder either way. The outbox is read from PostgreSQL every 30 s: a lost
    # delivery job loses no message, the next one sends it.
    at = settings.reminders_time_utc
    return [
        once_cron(deliver_outbox, second={0, 30}, run_at_startup=True),
        once_cron(send_reminders, hour=at.hour, minute=at.minute, second=at.second),
        once_cron(mark_no_shows, minute={0, 15, 30, 45}),
    ]
