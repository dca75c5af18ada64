"""Reporting reads that may go to a streaming replica (READ_REPLICA_URL), else to the primary.

Only reads that tolerate a few seconds of lag and write nothing go there: the network's
indicators and the open-data exports. A replica that does not answer costs a bounded wait,
is counted (`tierslieux_dependency_fallbacks_total{dependency="postgresql-replica"}`) and the
read is made on the primary: the dashboard stays up when the replica is away.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from piccolo.query.base import Query

from service.kernel.database import DB, Engine
from service.kernel.outages import fell_back, postgresql_down

REPORTING = "reporting"
REPLICA = "postgresql-replica"


def use_read_replica(
    dsn: str | None, *, connect_timeout_ms: int, statement_timeout_ms: int
) -> None:
    """Send reporting reads to `dsn` (None: everything stays on the primary)."""
    if not dsn:
        DB.extra_nodes = {}
        return
    DB.extra_nodes = {
        REPORTING: Engine(
            config={
                "dsn": dsn,
                "timeout": connect_timeout_ms / 1000,
                "command_timeout": (statement_timeout_ms + 500) / 1000,
                "server_settings": {"statement_timeout": str(statement_timeout_ms)},
            },
            log_queries=False,
        )
    }


def replica() -> Engine | None:
    engine = DB.extra_nodes.get(REPORTING)
    return engine if isinstance(engine, Engine) else None


async def start_replica_pool(max_size: int, acquire_timeout_s: float) -> None:
    """Open the replica's pool without connecting: a replica down does not stop the start."""
    engine = replica()
    if engine is not None:
        await engine.start_connection_pool(
            min_size=0, max_size=max_size, acquire_timeout=acquire_timeout_s
        )


async def close_replica_pool() -> None:
    """Close the replica's pool and forget the replica (reads go to the primary again)."""
    engine = replica()
    DB.extra_nodes = {}
    if engine is not None and engine.pool is not None:
        await engine.close_connection_pool()


async def reporting_read(query: Query[Any, Any], call_site: str) -> Any:
    """Run a read-only reporting `query` on the replica when there is one, else the primary."""
    if replica() is None:
        return await query.run()
    try:
        return await query.run(node=REPORTING)
    except Exception as error:
        # A replica also cancels a read that conflicts with the recovery it replays (40001).
        if not (postgresql_down(error) or isinstance(error, asyncpg.SerializationError)):
            raise
        fell_back(REPLICA, call_site, error)
        return await query.run()
