"""Real arq parts for tests: a pool on the test's Redis, and a worker that runs what is queued."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.worker import Worker

from service.app.worker import WorkerSettings
from service.kernel.settings import Settings


@contextlib.asynccontextmanager
async def arq_pool(redis_url: str) -> AsyncIterator[ArqRedis]:
    pool = await create_pool(RedisSettings.from_dsn(redis_url))
    try:
        yield pool
    finally:
        await pool.aclose()


async def run_worker(settings: Settings, *, cron_jobs: Sequence[Any] = ()) -> Worker:
    """A real arq worker on the test's Redis and database, in burst mode: it runs what is
    queued (and the crons given, when due), then stops. Answers it, for its counters."""
    worker = Worker(
        functions=WorkerSettings.functions,
        cron_jobs=list(cron_jobs),
        redis_settings=RedisSettings.from_dsn(settings.redis_url or ""),
        burst=True,
        poll_delay=0.1,
        ctx={"settings": settings},
        handle_signals=False,
    )
    try:
        await worker.async_run()
    finally:
        await worker.close()
    return worker
