"""The service's background jobs, run directly against a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.app.worker import WorkerSettings
from service.kernel.jobs import purge_idempotency_records
from service.kernel.tables import IdempotencyRecord


async def _record(key: str, created_at: datetime) -> None:
    await IdempotencyRecord.insert(
        IdempotencyRecord(
            principal="user:test",
            key=key,
            method="POST",
            path="/api/v1/bookings",
            request_hash="0" * 64,
            status_code=201,
            created_at=created_at,
        )
    )


async def test_purge_deletes_idempotency_records_older_than_a_day_only(database_url: str) -> None:
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    await _record("two-days-old", now - timedelta(days=2))
    await _record("just-over-a-day", now - timedelta(hours=24, seconds=1))
    await _record("almost-a-day", now - timedelta(hours=23, minutes=59))
    await _record("fresh", now - timedelta(minutes=1))

    deleted = await purge_idempotency_records({}, now=now)

    assert deleted == 2
    remaining = await IdempotencyRecord.select(IdempotencyRecord.key).order_by(
        IdempotencyRecord.key
    )
    assert [row["key"] for row in remaining] == ["almost-a-day", "fresh"]
    assert await purge_idempotency_records({}, now=now) == 0


def test_the_worker_runs_the_purge_hourly_and_the_billing_jobs() -> None:
    crons = {job.name: job for job in WorkerSettings.cron_jobs}
    purge = crons["cron:purge_idempotency_records"]
    assert purge.minute == 17
    assert purge.hour is None  # every hour
    assert "cron:monthly_close" in crons
    assert [f.__name__ for f in WorkerSettings.functions] == [
        "close_month",
        "render_documents",
        "render_document",
        "push_invoices_to_stripe",
        "deliver_outbox",
        "send_reminders",
        "mark_no_shows",
    ]
    assert {"cron:deliver_outbox", "cron:send_reminders", "cron:mark_no_shows"} <= set(crons)
