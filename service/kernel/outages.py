"""When PostgreSQL or Redis does not answer: bounded Redis clients, naming the dependency that failed.

Every Redis client of the service comes from `redis_client`, with connect and read timeouts
(`REDIS_TIMEOUT_MS`, 500 ms by default): a frozen Redis then costs a call half a second and
an error, never a hang. Each call site says what it does on that error (docs/reliability.md);
where it carries on without Redis (the door's scan limit), it counts the fallback in
`tierslieux_dependency_fallbacks_total`. An error nobody handles becomes a 503 naming the
dependency (`service.kernel.problem_responses`).
"""

from __future__ import annotations

from typing import cast

import asyncpg
import structlog
from arq.connections import ArqRedis
from prometheus_client import Counter
from redis import exceptions as redis_errors

log = structlog.get_logger(__name__)

POSTGRESQL = "postgresql"
REDIS = "redis"
# What a 503 for a dependency tells the client: a frozen server is usually back within seconds.
RETRY_AFTER_SECONDS = 5

REDIS_DOWN = (redis_errors.ConnectionError, redis_errors.TimeoutError)

# PostgreSQL errors that say the server is away, starting, stopping, full or too slow: not the
# request's fault, and gone once the server is back.
_POSTGRESQL_DOWN = (
    asyncpg.PostgresConnectionError,  # class 08
    asyncpg.OperatorInterventionError,  # class 57: admin/crash shutdown, cannot connect now, timeout
    asyncpg.InsufficientResourcesError,  # class 53: too many connections, disk full
    asyncpg.ConnectionDoesNotExistError,
)

FALLBACKS = Counter(
    "tierslieux_dependency_fallbacks_total",
    "Calls that went on without a dependency that did not answer in time.",
    ["dependency", "call_site"],
)


def redis_client(url: str, timeout_ms: int) -> ArqRedis:
    """A Redis client (arq's, so it can also queue jobs) whose every wait is bounded.

    No connection is opened here: a Redis that is down when a process starts does not stop
    it; each call fails after the timeout until Redis is back.
    """
    seconds = timeout_ms / 1000
    return cast(
        ArqRedis,
        ArqRedis.from_url(url, socket_timeout=seconds, socket_connect_timeout=seconds),
    )


def fell_back(dependency: str, call_site: str, error: BaseException) -> None:
    """Log and count a call that carries on without `dependency`."""
    FALLBACKS.labels(dependency=dependency, call_site=call_site).inc()
    log.warning(
        "dependency.fallback", dependency=dependency, call_site=call_site, error=repr(error)
    )


def postgresql_down(error: BaseException) -> bool:
    """`error` says PostgreSQL (or the replica asked) is away or too slow, not a bad query."""
    return isinstance(error, (*_POSTGRESQL_DOWN, TimeoutError, OSError)) or (
        isinstance(error, asyncpg.InterfaceError) and "closed" in str(error)
    )


def failed_dependency(error: BaseException) -> str | None:
    """The dependency whose failure `error` is ("postgresql", "redis"), or None for anything else."""
    if isinstance(error, REDIS_DOWN):
        return REDIS
    if isinstance(error, _POSTGRESQL_DOWN):
        return POSTGRESQL
    if isinstance(error, asyncpg.InterfaceError) and "closed" in str(error):
        return POSTGRESQL
    if isinstance(error, OSError):
        # A timeout (TimeoutError is an OSError) or a refused connection: whose, the traceback
        # says (asyncpg raises plain TimeoutError for its connect, acquire and command timeouts).
        return _raised_in(error)
    return None


def _raised_in(error: BaseException) -> str | None:
    frame = error.__traceback__
    found: str | None = None
    while frame is not None:
        module = str(frame.tb_frame.f_globals.get("__name__", ""))
        if module.startswith("asyncpg"):
            found = POSTGRESQL
        elif module.startswith("redis"):
            found = REDIS
        frame = frame.tb_next
    return found
