"""Jobs lost with Redis: the work pending in PostgreSQL is queued again and done, once.

Redis is emptied under a job queued and not yet run (FLUSHDB on the test's own Redis: what a
restart without persistence does). A real arq worker then finds nothing to run; the sweeper,
fired by the worker as the cron it is registered as, queues the work again from what
PostgreSQL says is pending, and the worker does it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from arq import Retry
from arq.cron import CronJob
from redis.asyncio import Redis

from billing import rendering
from billing.close import close_period
from billing.jobs import close_month, queue_close, render_documents, requeue_lost_jobs
from billing.tables import BillingPeriod, Document, DocumentFile
from booking.jobs import deliver_outbox
from booking.tables import Outbox
from service.app.worker import WorkerSettings
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.billing.factories import NETWORK, make_past_booking, make_visit
from tests.booking.test_jobs import Inbox, smtp_server  # noqa: F401 (a fixture)
from tests.factories import (
    auth,
    make_organisation,
    make_rates,
    make_user,
    make_venue,
    make_workspace,
)
from tests.workers import arq_pool, run_worker

OCTOBER = date(2026, 10, 1)
SEPTEMBER = date(2026, 9, 1)
NOTHING = {"closes": 0, "renders": 0, "emails": 0, "stripe_pushes": 0}


def registered_cron(name: str) -> CronJob:
    """The worker's own cron, as `tierslieux worker` registers it (a fresh copy: a cron job
    keeps its next run time, and this one must start from now)."""
    crons = {job.name: job for job in WorkerSettings.cron_jobs}
    return dataclasses.replace(crons[f"cron:{name}"], next_run=None)


async def _october_usage(*, september: bool = False) -> None:
    venue = await make_venue()
    organisation = await make_organisation(name="MEL", billing_email="factures@mel.example")
    agent = await make_user(Role.AGENT, organisation=organisation)
    desk = await make_workspace(venue)
    await make_visit(agent, venue, desk, date(2026, 10, 9))
    if september:
        await make_visit(agent, venue, desk, date(2026, 9, 9))


def test_the_sweeper_is_a_cron_of_the_worker_every_minute() -> None:
    sweeper = registered_cron("requeue_lost_jobs")
    assert sweeper.second == 40
    assert sweeper.minute is None  # every minute
    assert sweeper.hour is None
    assert sweeper.run_at_startup  # a worker started after an outage sweeps at once
    assert sweeper.unique  # several workers: one sweep per minute


async def test_a_close_lost_with_redis_is_queued_again_and_ends_closed(
    client: httpx.AsyncClient, settings: Settings, redis: Redis
) -> None:
    await _october_usage()
    admin = auth(settings, await make_user(Role.NETWORK_ADMIN))

    asked = await client.post("/api/v1/billing/periods/2026-10/close", headers=admin)
    assert asked.status_code == 202, asked.text
    assert asked.json() == {"period": "2026-10", "status": "closing", "queued": True}
    assert await redis.exists("arq:job:close:2026-10") == 1

    await redis.flushdb()  # Redis restarted without persistence: the job is gone
    idle = await run_worker(settings)
    assert idle.jobs_complete == 0
    period = await BillingPeriod.select().where(BillingPeriod.month == OCTOBER).first()
    assert period is not None
    assert period["status"] == "closing"  # pending in PostgreSQL

    # A minute later nobody has picked it up: the API says so.
    fresh = (await client.get("/api/v1/billing/periods/2026-10", headers=admin)).json()
    assert fresh["waiting_for_worker_since"] is None
    await BillingPeriod.update(
        {BillingPeriod.queued_at: period["queued_at"] - timedelta(minutes=2)}
    ).where(BillingPeriod.month == OCTOBER)
    stuck = (await client.get("/api/v1/billing/periods/2026-10", headers=admin)).json()
    assert stuck["status"] == "closing"
    assert stuck["waiting_for_worker_since"] == stuck["queued_at"]
    assert datetime.fromisoformat(stuck["queued_at"]) == period["queued_at"] - timedelta(minutes=2)

    # The worker's sweeper cron queues it again; the worker closes the month.
    worker = await run_worker(settings, cron_jobs=[registered_cron("requeue_lost_jobs")])

    assert worker.jobs_failed == 0
    closed = (await client.get("/api/v1/billing/periods/2026-10", headers=admin)).json()
    assert closed["status"] == "closed"
    assert closed["waiting_for_worker_since"] is None
    assert await Document.count().where(Document.kind == "invoice") == 1
    assert await Document.count().where(Document.kind == "statement") == 1
    # What the close queued next ran too: the PDFs and the invoice's email.
    assert await rendering.unrendered() == []
    assert await Outbox.count().where(Outbox.kind == "invoice_issued") == 1


async def test_the_sweeper_never_doubles_a_queued_job_and_unblocks_a_finished_one(
    database_url: str, settings: Settings, redis: Redis
) -> None:
    await _october_usage()
    async with arq_pool(settings.redis_url or "") as pool:
        ctx: dict[str, Any] = {"settings": settings, "redis": pool}
        assert await requeue_lost_jobs(ctx) == NOTHING  # nothing pending

        assert await queue_close(pool, OCTOBER, now=datetime(2026, 11, 2, tzinfo=UTC)) == "closing"
        # Queued already: the sweeper and a second ask leave the one job alone.
        assert await requeue_lost_jobs(ctx) == NOTHING
        assert await queue_close(pool, OCTOBER) == "closing"
        assert await redis.zrange("arq:queue", 0, -1) == [b"close:2026-10"]

        # The job finished without closing the month (it failed), and arq keeps its result
        # for keep_result seconds: a plain enqueue under its id is refused meanwhile.
        await redis.delete("arq:job:close:2026-10")
        await redis.zrem("arq:queue", "close:2026-10")
        await redis.set("arq:result:close:2026-10", b"failed", ex=3600)
        assert await pool.enqueue_job("close_month", "2026-10", _job_id="close:2026-10") is None

        # The month is still closing in PostgreSQL: the sweeper clears the result, queues it.
        assert await requeue_lost_jobs(ctx) == {**NOTHING, "closes": 1}
        assert await redis.exists("arq:result:close:2026-10") == 0
        assert await redis.zrange("arq:queue", 0, -1) == [b"close:2026-10"]
        assert await requeue_lost_jobs(ctx) == NOTHING

        # The worker closes it; a closed month is never queued again.
        await run_worker(settings)
        assert await queue_close(pool, OCTOBER) == "closed"
        assert await requeue_lost_jobs(ctx) == NOTHING
        assert await redis.zcard("arq:queue") == 0


async def test_invoices_not_sent_after_a_close_are_sent_by_the_sweeper(
    database_url: str, settings: Settings, redis: Redis
) -> None:
    """The close's job died after the close, before the invoices went out."""
    await _october_usage(september=True)
    now = datetime.now(UTC)
    await close_period(SEPTEMBER, NETWORK, now=datetime(2026, 10, 2, tzinfo=UTC))
    await close_period(OCTOBER, NETWORK, now=datetime(2026, 11, 2, tzinfo=UTC))
    # September was closed long ago, before email was set up: its invoice stays unsent.
    await BillingPeriod.update({BillingPeriod.closed_at: now - timedelta(days=8)}).where(
        BillingPeriod.month == SEPTEMBER
    )
    await DocumentFile.raw(
        "INSERT INTO document_file (document, kind, content, created_at) "
        "SELECT id, 'facturx_pdf', '\\x00', now() FROM document"
    )  # the files are not the point here
    async with arq_pool(settings.redis_url or "") as pool:
        by_email = {"settings": settings, "redis": pool}
        assert await requeue_lost_jobs(by_email, now=now) == {**NOTHING, "emails": 1}
        assert await requeue_lost_jobs(by_email, now=now) == NOTHING
        [email] = await Outbox.select(Outbox.subject).where(Outbox.kind == "invoice_issued")
        assert email["subject"].startswith("Facture TL-")

        await Outbox.delete(force=True)
        by_stripe = {
            "settings": dataclasses.replace(settings, stripe_api_key="sk_test_sweeper"),
            "redis": pool,
        }
        assert await requeue_lost_jobs(by_stripe, now=now) == {**NOTHING, "stripe_pushes": 1}
        assert await requeue_lost_jobs(by_stripe, now=now) == NOTHING  # queued already
        assert await redis.zrange("arq:queue", 0, -1) == [b"stripe-push:2026-10"]
        assert await Outbox.count() == 0


async def test_a_close_failing_on_a_missing_rate_completes_once_the_rate_is_added(
    database_url: str, settings: Settings, redis: Redis
) -> None:
    venue = await make_venue()
    desk = await make_workspace(venue)
    agent = await make_user(Role.AGENT, organisation=await make_organisation(bill_no_shows=True))
    await make_past_booking(agent, venue, desk, date(2026, 10, 12), "no_show")  # no rate yet
    sweeper = registered_cron("requeue_lost_jobs")
    async with arq_pool(settings.redis_url or "") as pool:
        await queue_close(pool, OCTOBER)

    failed = await run_worker(settings)
    assert failed.jobs_failed == 1
    period = await BillingPeriod.select().where(BillingPeriod.month == OCTOBER).first()
    assert period is not None
    assert period["status"] == "closing"

    await make_rates(venue)
    worker = await run_worker(settings, cron_jobs=[sweeper])

    assert worker.jobs_failed == 0
    period = await BillingPeriod.select().where(BillingPeriod.month == OCTOBER).first()
    assert period is not None
    assert period["status"] == "closed"
    assert await Document.count().where(Document.kind == "invoice") == 1


async def test_a_render_lost_with_redis_is_queued_again(
    client: httpx.AsyncClient, settings: Settings, redis: Redis
) -> None:
    await _october_usage()
    admin = auth(settings, await make_user(Role.NETWORK_ADMIN))
    await close_period(OCTOBER, NETWORK, now=datetime(2026, 11, 2, tzinfo=UTC))
    [invoice] = await Document.select(Document.id).where(Document.kind == "invoice")

    first = await client.get(f"/api/v1/invoices/{invoice['id']}/pdf", headers=admin)
    assert first.status_code == 503  # being rendered: a job is queued
    assert await redis.exists(f"arq:job:render-document:{invoice['id']}") == 1

    await redis.flushdb()
    await run_worker(settings)
    assert len(await rendering.unrendered()) == 2  # the invoice and the statement

    worker = await run_worker(settings, cron_jobs=[registered_cron("requeue_lost_jobs")])

    assert worker.jobs_failed == 0
    assert await rendering.unrendered() == []
    again = await client.get(f"/api/v1/invoices/{invoice['id']}/pdf", headers=admin)
    assert again.status_code == 200
    assert again.content.startswith(b"%PDF")


async def test_an_outbox_message_outlives_a_lost_delivery_job(
    database_url: str,
    settings: Settings,
    redis: Redis,
    smtp_server: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, port = smtp_server
    mailing = dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{port}")
    await Outbox(
        kind="booking_confirmed", recipient="camille@example.org", subject="Réservé", body="…"
    ).save()
    async with arq_pool(settings.redis_url or "") as pool:
        # A delivery run queued by the cron, lost before a worker took it.
        await pool.enqueue_job("deliver_outbox", _job_id="cron:deliver_outbox:1")
    await redis.flushdb()
    await run_worker(mailing)
    assert await Outbox.count().where(Outbox.sent_at.is_null()) == 1

    # The message waits in PostgreSQL; the worker's next delivery cron sends it, once.
    await run_worker(mailing, cron_jobs=[registered_cron("deliver_outbox")])
    await run_worker(mailing, cron_jobs=[registered_cron("deliver_outbox")])

    assert await Outbox.count().where(Outbox.sent_at.is_null()) == 0
    assert [m["To"] for m in inbox.messages] == ["camille@example.org"]


async def test_the_jobs_run_twice_do_no_harm(
    database_url: str,
    settings: Settings,
    redis: Redis,
    smtp_server: tuple[Inbox, int],  # noqa: F811
) -> None:
    await _october_usage()
    inbox, port = smtp_server
    async with arq_pool(settings.redis_url or "") as pool:
        ctx: dict[str, Any] = {"settings": settings, "redis": pool}
        await BillingPeriod.insert(
            BillingPeriod(month=OCTOBER, status="closing", queued_at=datetime.now(UTC))
        )
        # Two runs at once: one closes, the other finds the lock taken and is retried later
        outcomes = await asyncio.gather(
            close_month(ctx, "2026-10"), close_month(ctx, "2026-10"), return_exceptions=True
        )
        # (or, should the first be done before the second starts, a replay of nothing).
        assert all(isinstance(o, dict | Retry) for o in outcomes), outcomes
        assert any(isinstance(o, dict) for o in outcomes)
        # Run again after it finished: nothing new.
        await close_month(ctx, "2026-10")
        assert await Document.count() == 2
        assert await Outbox.count().where(Outbox.kind == "invoice_issued") == 1

        assert await render_documents(ctx, "2026-10") == 2
        assert await render_documents(ctx, "2026-10") == 0
        assert await DocumentFile.count() == 6  # three files each, made once

    mailing = {"settings": dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{port}")}
    sent = await asyncio.gather(deliver_outbox(mailing), deliver_outbox(mailing))
    assert sorted(sent) == [0, 1]
    assert len(inbox.messages) == 1
