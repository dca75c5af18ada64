"""Two API processes and two workers on one PostgreSQL database and one Redis.

Everything runs as in production: uvicorn serving the app, `tierslieux worker` as
subprocesses. The crons are made due a few seconds after the workers start (their times are
settings), so each fires for real in both workers: arq must run it once. Meanwhile both APIs
are asked, many times at once, to close the same month: the close lock must hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from redis.asyncio import Redis

from billing.close import NETWORK_TZ
from billing.tables import BillingPeriod, Document
from booking.tables import Booking, Outbox
from service.app.serving import served
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.billing.factories import make_visit
from tests.conftest import live_env
from tests.factories import (
    auth,
    make_booking,
    make_organisation,
    make_user,
    make_venue,
    make_workspace,
)

ROOT = Path(__file__).resolve().parents[2]
# Time for two workers to start on a busy machine before the crons are due.
START_MARGIN = timedelta(seconds=45)


@contextlib.contextmanager
def workers(env: dict[str, str], count: int, folder: Path) -> Iterator[list[Path]]:
    """`tierslieux worker` processes; their output (arq's lines and ours) in one file each."""
    started: list[tuple[subprocess.Popen[bytes], object]] = []
    logs = [folder / f"worker-{n}.log" for n in range(count)]
    try:
        for log in logs:
            handle = log.open("wb")
            process = subprocess.Popen(
                [sys.executable, "-m", "service.app.cli", "worker"],
                env=env,
                cwd=ROOT,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
            started.append((process, handle))
        yield logs
    finally:
        for process, _ in started:
            process.terminate()
        for process, handle in started:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
            handle.close()  # type: ignore[attr-defined]


def _first_of_month_before(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


async def _until(condition: Callable[[], Awaitable[bool]], deadline: float, what: str) -> None:
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"not within the time allowed: {what}")


async def test_two_apis_and_two_workers_fire_each_cron_once_under_one_close_lock(
    settings: Settings, redis: Redis, tmp_path: Path
) -> None:
    venues = [await make_venue(name=f"Lieu {n}") for n in range(2)]
    desks = [await make_workspace(venue, capacity=10) for venue in venues]
    organisations = [await make_organisation(name=f"Organisation {n}") for n in range(3)]
    agents = [await make_user(Role.AGENT, organisation=o) for o in organisations]
    admin = auth(settings, await make_user(Role.NETWORK_ADMIN))
    env = {**live_env(settings), "LOG_FORMAT": "json"}
    with (
        served({**env, "LOG_LEVEL": "WARNING"}, timeout=60) as first,
        served({**env, "LOG_LEVEL": "WARNING"}, timeout=60) as second,
    ):
        # The crons are due shortly after the workers start (in their hour, not across its end).
        due = (datetime.now(UTC) + START_MARGIN).replace(microsecond=0)
        if (due + timedelta(seconds=15)).hour != due.hour:
            due += timedelta(seconds=20)
        paris = due.astimezone(NETWORK_TZ)
        last_month = _first_of_month_before(paris.date())  # closed by the monthly cron
        month_before = _first_of_month_before(last_month)  # closed by the racing requests
        for month in (month_before, last_month):
            for n, agent in enumerate(agents):
                await make_visit(agent, venues[n % 2], desks[n % 2], month.replace(day=10))
                await make_visit(
                    agent, venues[(n + 1) % 2], desks[(n + 1) % 2], month.replace(day=12)
                )
        bookings = [
            await make_booking(agent, desks[0], paris.date() + timedelta(days=1))
            for agent in agents
        ]
        schedule = {
            "MONTHLY_CLOSE_DAY": str(paris.day),
            "MONTHLY_CLOSE_TIME": paris.strftime("%H:%M:%S"),
            "REMINDERS_TIME_UTC": due.strftime("%H:%M:%S"),
        }
        with workers({**env, **schedule, "LOG_LEVEL": "INFO"}, 2, tmp_path) as logs:
            started = time.monotonic() + (due - datetime.now(UTC)).total_seconds() - 5
            await _until(
                lambda: _logged_everywhere(logs, "worker.started"), started, "workers started"
            )
            # Both APIs asked at once, many times, to close and to simulate the same month,
            # while both workers are there to take the close.
            period = f"{month_before:%Y-%m}"
            async with httpx.AsyncClient(headers=admin, timeout=30) as http:
                answers = await asyncio.gather(
                    *[
                        http.post(
                            f"{(first, second)[n % 2].url}/api/v1/billing/periods/{period}/close"
                            + ("?dry_run=true" if n % 3 == 0 else "")
                        )
                        for n in range(36)
                    ]
                )
            for answer in answers:
                assert answer.status_code in (200, 202, 409), answer.text
                if answer.status_code == 409:  # a dry run while a worker was closing it
                    assert answer.json()["type"].endswith("close-in-progress")
            assert {a.json()["status"] for a in answers if a.status_code == 202} <= {
                "closing",
                "closed",
            }

            async def closed(month: date) -> bool:
                row = await BillingPeriod.select().where(BillingPeriod.month == month).first()
                return row is not None and row["status"] == "closed"

            async def reminded() -> bool:
                count = await Outbox.count().where(Outbox.kind == "booking_reminder")
                return count >= len(bookings)

            # Before the cron is due: closing last month first would bill this month's
            # visits in it (late usage goes into the month being closed).
            before_due = time.monotonic() + (due - datetime.now(UTC)).total_seconds() - 1
            await _until(lambda: closed(month_before), before_due, f"{period} closed first")
            deadline = time.monotonic() + (due - datetime.now(UTC)).total_seconds() + 60
            await _until(lambda: closed(last_month), deadline, "the monthly cron's close")
            await _until(reminded, deadline, "the reminders")
            await asyncio.sleep(2)  # would a second firing come, it would come now
    output = [log.read_text() for log in logs]

    everything = "\n".join(output)
    # arq logs each job it starts as "<wait> → <job>(…)", and keeps each cron run's result.
    assert len(re.findall(r"→ cron:monthly_close\(", everything)) == 1, everything
    assert len(re.findall(r"→ cron:send_reminders\(", everything)) == 1, everything
    assert len(await redis.keys("arq:result:cron:monthly_close:*")) == 1
    assert len(await redis.keys("arq:result:cron:send_reminders:*")) == 1
    closes = [
        event["month"]
        for line in everything.splitlines()
        if line.startswith("{")
        for event in [json.loads(line)]
        if event.get("event") == "billing.closed"
    ]
    assert sorted(closes) == [f"{month_before:%Y-%m}", f"{last_month:%Y-%m}"]

    # One invoice per organisation and one statement per venue and month, gapless numbers.
    for month in (month_before, last_month):
        for kind, column, parties in (
            ("invoice", "organisation", organisations),
            ("statement", "venue", venues),
        ):
            rows = await Document.raw(
                f"SELECT {column} AS party, count(*) AS n FROM document "
                "WHERE period = {} AND kind = {} GROUP BY 1",
                month,
                kind,
            )
            assert sorted((r["party"], r["n"]) for r in rows) == sorted((p.id, 1) for p in parties)
    invoices = await Document.select(Document.sequence_number).where(Document.kind == "invoice")
    assert sorted(r["sequence_number"] for r in invoices) == list(range(1, 7))

    # One reminder per booking.
    reminders = await Outbox.select(Outbox.booking).where(Outbox.kind == "booking_reminder")
    assert sorted(str(r["booking"]) for r in reminders) == sorted(str(b.id) for b in bookings)
    assert await Booking.count().where(Booking.reminded_at.is_null()) == 0


async def _logged_everywhere(logs: list[Path], event: str) -> bool:
    return all(log.exists() and event in log.read_text() for log in logs)
