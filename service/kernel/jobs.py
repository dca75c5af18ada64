"""Background work of the service layer, run by the arq worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from arq import cron
from arq.constants import job_key_prefix, result_key_prefix
from arq.cron import CronJob
from arq.jobs import Job, JobStatus

from service.kernel.tables import IdempotencyRecord

log = structlog.get_logger(__name__)

# How long a cron run's result is kept; see `once_cron`.
CRON_RESULT_SECONDS = 3600

# A client retries within minutes; a day is generous and keeps the table small.
IDEMPOTENCY_RETENTION = timedelta(hours=24)


async def purge_idempotency_records(ctx: dict[str, Any], now: datetime | None = None) -> int:
    """Delete idempotency records older than the retention; returns how many went."""
    cutoff = (now or datetime.now(UTC)) - IDEMPOTENCY_RETENTION
    deleted = (
        await IdempotencyRecord.delete()
        .where(IdempotencyRecord.created_at < cutoff)
        .returning(IdempotencyRecord.key)
    )
    log.info("idempotency.purged", deleted=len(deleted), cutoff=cutoff.isoformat())
    return len(deleted)


async def enqueue_once(redis: Any, function: str, *args: Any, job_id: str) -> bool:
    """Queue `function` under `job_id` unless a job of that id is queued or running.

    A deterministic id makes the API's enqueue, the cron's and the sweeper's one job. arq
    refuses an id whose finished job's result it still keeps (`keep_result`, an hour), and
    an id whose job key outlived its queue entry: work found pending again in PostgreSQL
    after such a job must run again, so that leftover is cleared and the job queued anew.
    Answers True if this call queued it.
    """
    for _ in range(3):
        if await redis.enqueue_job(function, *args, _job_id=job_id) is not None:
            return True
        status = await Job(job_id, redis).status()
        if status in (JobStatus.queued, JobStatus.deferred, JobStatus.in_progress):
            return False
        if status == JobStatus.complete:
            await redis.delete(result_key_prefix + job_id)
        else:  # not_found, yet its job key blocks the id: a job that can no longer run
            await redis.delete(job_key_prefix + job_id)
    return False


def once_cron(coroutine: Any, **schedule: Any) -> CronJob:
    """An arq cron that runs once per due time however many workers there are.

    Every worker enqueues a due cron under the same id (`cron:<name>:<due time>`), so only
    one enqueue wins while the job is queued or running. But arq's crons keep no result by
    default: once the run is over its id is free, and a worker whose heartbeat comes later
    (a busy event loop, a slow machine) queues it again and it runs twice. Keeping the
    result an hour keeps the id taken past any such lag.
    """
    return cron(coroutine, keep_result=CRON_RESULT_SECONDS, **schedule)
