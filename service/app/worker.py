"""arq worker settings: `tierslieux worker` (or `arq service.app.worker.WorkerSettings`)."""

from __future__ import annotations

import os
from datetime import UTC
from typing import Any

import structlog
from arq.connections import RedisSettings
from arq.cron import CronJob

from billing import jobs as billing_jobs
from booking import jobs as booking_jobs
from service.kernel import jobs as service_jobs
from service.kernel.database import DB, use_database
from service.kernel.logs import configure as configure_logs
from service.kernel.settings import Settings, load

log = structlog.get_logger(__name__)


def redis_settings_from_env() -> RedisSettings:
    return RedisSettings.from_dsn(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")


async def startup(ctx: dict[str, Any]) -> None:
    settings = load()
    settings.check()
    configure_logs(settings.log_level, settings.log_json)
    if settings.database_url:
        use_database(settings.database_url)
    # Jobs run concurrently (max_jobs): a pool rather than a connection per query.
    await DB.start_connection_pool(min_size=1, max_size=settings.database_pool_size)
    ctx["settings"] = settings
    log.info("worker.started", mode=settings.mode)


async def shutdown(ctx: dict[str, Any]) -> None:
    await DB.close_connection_pool()
    log.info("worker.stopped")


def cron_jobs(settings: Settings) -> list[CronJob]:
    """The schedules, read from the settings (MONTHLY_CLOSE_DAY/TIME, REMINDERS_TIME_UTC).

    arq makes each cron run once however many workers there are: every worker computes the
    same due time, and the job id holds it (`cron:<name>:<due time>`), so one enqueue wins.
    """
    return [
        *billing_jobs.cron_jobs(settings),
        *booking_jobs.cron_jobs(settings),
        service_jobs.once_cron(
            service_jobs.purge_idempotency_records, minute=17, run_at_startup=True
        ),
    ]


class WorkerSettings:
    functions = [*billing_jobs.FUNCTIONS, *booking_jobs.FUNCTIONS]
    cron_jobs = cron_jobs(load())
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = redis_settings_from_env()
    # Cron fields are read in UTC whatever the machine's zone; jobs convert to Paris time.
    timezone = UTC
