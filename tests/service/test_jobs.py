"""The service's background jobs, run directly against a real database."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time, timedelta

import pytest
from arq.cron import CronJob
from redis.asyncio import Redis

from service.app.worker import WorkerSettings, cron_jobs
from service.kernel.jobs import purge_idempotency_records
from service.kernel.settings import Settings, SettingsError, load
from service.kernel.tables import IdempotencyRecord
from tests.workers import run_worker


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


def test_the_cron_times_are_settings_with_clear_errors() -> None:
    settings = load(
        {
            "MONTHLY_CLOSE_DAY": "31",
            "MONTHLY_CLOSE_TIME": "03:15:20",
            "REMINDERS_TIME_UTC": "16:45",
        },
        mode="test",
    )
    crons = {job.name: job for job in cron_jobs(settings)}

    assert (settings.monthly_close_day, settings.monthly_close_time) == (31, time(3, 15, 20))
    # Every hour at the close time's minute: the job itself acts in the Paris hour and day.
    assert (crons["cron:monthly_close"].minute, crons["cron:monthly_close"].second) == (15, 20)
    assert crons["cron:monthly_close"].hour is None
    reminders = crons["cron:send_reminders"]
    assert (reminders.hour, reminders.minute, reminders.second) == (16, 45, 0)
    defaults = {job.name: job for job in cron_jobs(load({}, mode="test"))}
    assert (defaults["cron:send_reminders"].hour, defaults["cron:send_reminders"].minute) == (17, 0)
    assert defaults["cron:monthly_close"].minute == 0
    for variable, value, message in (
        ("MONTHLY_CLOSE_DAY", "32", "MONTHLY_CLOSE_DAY must be a day of the month, 1 to 31"),
        ("MONTHLY_CLOSE_DAY", "0", "MONTHLY_CLOSE_DAY must be a day of the month, 1 to 31"),
        ("MONTHLY_CLOSE_TIME", "2h", "MONTHLY_CLOSE_TIME must be a time of day"),
        ("REMINDERS_TIME_UTC", "25:00", "REMINDERS_TIME_UTC must be a time of day"),
    ):
        with pytest.raises(SettingsError, match=message):
            load({variable: value}, mode="test")


async def test_a_worker_late_to_a_due_cron_does_not_run_it_again(
    database_url: str, settings: Settings, redis: Redis
) -> None:
    """Two workers see the same due time; the second comes after the first has finished."""
    due = datetime.now(UTC)
    crons = {job.name: job for job in cron_jobs(settings)}

    def due_now() -> CronJob:
        return dataclasses.replace(crons["cron:mark_no_shows"], next_run=due)

    first = await run_worker(settings, cron_jobs=[due_now()])
    late = await run_worker(settings, cron_jobs=[due_now()])

    assert (first.jobs_complete, late.jobs_complete) == (1, 0)
    # The first run's result, kept, holds the due time's job id.
    assert len(await redis.keys("arq:result:cron:mark_no_shows:*")) == 1
