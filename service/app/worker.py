"""arq worker settings: `tierslieux worker` (or `arq service.app.worker.WorkerSettings`)."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC
from typing import Any

import structlog
from arq import worker as arq_worker
from arq.connections import RedisSettings
from arq.cron import CronJob

from billing import jobs as billing_jobs
from billing import retention
from booking import jobs as booking_jobs
from service.kernel import jobs as service_jobs
from service.kernel.database import DB, use_bounded_database
from service.kernel.logs import configure as configure_logs
from service.kernel.outages import REDIS, REDIS_DOWN, fell_back, redis_client
from service.kernel.settings import Settings, load

log = structlog.get_logger(__name__)


def redis_settings_from_env() -> RedisSettings:
    return RedisSettings.from_dsn(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")


async def startup(ctx: dict[str, Any]) -> None:
    settings = load()
    settings.check()
    configure_logs(settings.log_level, settings.log_json)
    if settings.database_url:
        # The close and the renderings run long statements on purpose: the worker's own bound.
        use_bounded_database(
            settings.database_url,
            connect_timeout_ms=settings.database_connect_timeout_ms,
            statement_timeout_ms=settings.worker_statement_timeout_ms,
        )
    # Jobs run concurrently (max_jobs): a pool rather than a connection per query.
    await DB.start_connection_pool(
        min_size=1,
        max_size=settings.database_pool_size,
        acquire_timeout=settings.worker_statement_timeout_ms / 1000,
    )
    ctx["settings"] = settings
    log.info("worker.started", mode=settings.mode)


async def shutdown(ctx: dict[str, Any]) -> None:
    await DB.close_connection_pool()
    log.info("worker.stopped")


def cron_jobs(settings: Settings) -> list[CronJob]:
    """The schedules, read from the settings (MONTHLY_CLOSE_DAY/TIME, REMINDERS_TIME_UTC).

    The retention jobs (billing/retention.py) run nightly and read their periods from the
    settings the worker loads at startup (`ctx["settings"]`).

    arq makes each cron run once however many workers there are: every worker computes the
    same due time, and the job id holds it (`cron:<name>:<due time>`), so one enqueue wins.
    """
    return [
        *billing_jobs.cron_jobs(settings),
        *booking_jobs.cron_jobs(settings),
        *retention.cron_jobs(settings),
        service_jobs.once_cron(
            service_jobs.purge_idempotency_records, minute=17, run_at_startup=True
        ),
    ]


class Worker(arq_worker.Worker):
    """arq's worker, which waits for a Redis that does not answer instead of exiting.

    Its Redis client times out like the API's (`REDIS_TIMEOUT_MS`); arq would end the worker
    on the first timeout. Here a poll that fails is logged and counted, and the next poll
    tries again a second later: the worker carries on by itself once Redis is back. A job
    whose start or end could not be written to Redis is run again by arq once its in-progress
    mark expires; work pending in PostgreSQL does not depend on Redis keeping it.
    """

    async def _poll_iteration(self) -> None:
        try:
            await super()._poll_iteration()
        except REDIS_DOWN as error:
            fell_back(REDIS, "worker.poll", error)
            await asyncio.sleep(1)

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        for job_id in job_ids:
            try:
                await super().start_jobs([job_id])
            except REDIS_DOWN:
                # arq 0.28 takes a job slot before the Redis calls that failed: give it back.
                self.job_counter -= 1
                self.sem.release()
                raise


def create_worker(redis_url: str, **overrides: Any) -> Worker:
    """The worker of `tierslieux worker`, its Redis client bounded like the API's."""
    settings = load()
    options = {**arq_worker.get_kwargs(WorkerSettings), **overrides}  # type: ignore[arg-type]
    options.pop("redis_settings", None)
    return Worker(redis_pool=redis_client(redis_url, settings.redis_timeout_ms), **options)


class WorkerSettings:
    functions = [*billing_jobs.FUNCTIONS, *booking_jobs.FUNCTIONS]
    cron_jobs = cron_jobs(load())
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = redis_settings_from_env()
    # Cron fields are read in UTC whatever the machine's zone; jobs convert to Paris time.
    timezone = UTC
