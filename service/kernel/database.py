"""Database lifecycle: point Piccolo at a database, create it, migrate it."""

from __future__ import annotations

import contextlib
import io
import os
import string
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import structlog
from asyncpg.pool import Pool, PoolAcquireContext
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction

log = structlog.get_logger(__name__)


class BoundedPool(Pool):
    """An asyncpg pool whose every acquire (and so release) waits at most `acquire_timeout`.

    Piccolo acquires without a timeout; when PostgreSQL is frozen a request would wait for a
    free connection for as long as the pool's connections stay stuck. asyncpg applies the
    acquire's timeout to the release too, which waits for a timed-out query's cancellation.
    """

    acquire_timeout: float | None = None

    def acquire(self, *, timeout: float | None = None) -> PoolAcquireContext:
        return super().acquire(timeout=self.acquire_timeout if timeout is None else timeout)


async def keep_session(connection: asyncpg.Connection) -> None:
    """The pool's reset on release, without asyncpg's reset query (one round trip per release).

    asyncpg still rolls back a transaction left open and drops listeners before calling this;
    its default would then also run `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL`. Nothing the service runs on a pooled connection leaves session state behind:
    settings are transaction-local (`set_config(..., true)`), and advisory locks, cursors and
    LISTEN use a connection of their own (`get_new_connection`). Measured on the request
    floor: the release's round trip was ≈ 12 % of its CPU (docs/performance.md).
    """
    return None


class Transaction(PostgresTransaction):
    """Piccolo's transaction, which gives its connection back to the pool even when the
    rollback fails (PostgreSQL gone mid-transaction): otherwise each such failure would keep
    one pooled connection checked out for ever."""

    async def __aexit__(
        self,
        exception_type: type[BaseException] | None,
        exception: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    try:
                        await self.rollback()
                    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                        # The first error says what went wrong; the connection is dropped below.
                        log.warning("database.rollback_failed", error=repr(error))
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            try:
                if self.engine.pool:
                    await self.engine.pool.release(self.connection)
                else:
                    await self.connection.close()
            finally:
                self.engine.current_transaction.reset(self.context)
        return exception is None


class Engine(PostgresEngine):
    """Piccolo's engine without its connect-at-import version probe, with bounded waits.

    The stock engine opens a connection when this module is imported, before settings
    decide which database to use; `tierslieux migrate` checks the server version instead.
    """

    async def check_version(self) -> None:
        return None

    async def start_connection_pool(self, **kwargs: Any) -> None:
        """Open the pool; `acquire_timeout` (seconds) bounds each wait for a connection."""
        if self.pool:
            # As Piccolo does: the pool already open stays in use.
            log.warning("database.pool_already_open")
            return
        acquire_timeout = kwargs.pop("acquire_timeout", None)
        config = {**self.config, **kwargs}
        dsn = config.pop("dsn", None)
        pool = BoundedPool(
            dsn,
            reset=config.pop("reset", keep_session),
            min_size=config.pop("min_size", 10),
            max_size=config.pop("max_size", 10),
            max_queries=config.pop("max_queries", 50000),
            max_inactive_connection_lifetime=config.pop("max_inactive_connection_lifetime", 300.0),
            loop=None,
            connection_class=asyncpg.Connection,
            record_class=asyncpg.Record,
            **config,
        )
        pool.acquire_timeout = acquire_timeout
        self.pool = await pool

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return Transaction(engine=self, allow_nested=allow_nested)


DB = Engine(
    config={
        "dsn": os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/tierslieux"
    },
    log_queries=False,
)


@contextlib.asynccontextmanager
async def _statement_connection() -> AsyncIterator[asyncpg.Connection]:
    """Where a statement sent straight through asyncpg runs, as Piccolo would run it.

    On the connection of the transaction opened with `DB.transaction()`, if any; otherwise
    on one from the pool, with the pool's bounds (acquire timeout, the connection's
    statement and command timeouts); with no pool open (a command-line tool, a test), on a
    connection of its own."""
    transaction = DB.current_transaction.get()
    if transaction is not None:
        yield transaction.connection
        return
    pool = DB.pool
    if pool is None:
        connection = await DB.get_new_connection()
        try:
            yield connection
        finally:
            await connection.close()
        return
    async with pool.acquire() as connection:
        yield connection


async def fetch_row(sql: str, *args: Any) -> asyncpg.Record | None:
    """The first row of one read-only statement (`$1` placeholders), straight through asyncpg.

    For the look-ups every request makes (who a token names): Piccolo's query building costs
    more CPU than the query itself, and asyncpg keeps the statement prepared per connection.
    """
    async with _statement_connection() as connection:
        return await connection.fetchrow(sql, *args)


def numbered(sql: str) -> str:
    """A statement written with Piccolo's `{}` placeholders, with asyncpg's `$1, $2, …`.

    The same numbering Piccolo's raw queries give them, in order (`{{` and `}}` stay
    literal braces), so one text serves both ways."""
    parts: list[str] = []
    position = 0
    for literal, field, spec, conversion in string.Formatter().parse(sql):
        parts.append(literal)
        if field is not None:
            if field or spec or conversion:
                raise ValueError(f"only bare {{}} placeholders are numbered, not {{{field}}}")
            position += 1
            parts.append(f"${position}")
    return "".join(parts)


async def fetch_rows(sql: str, *args: Any) -> list[dict[str, Any]]:
    """The rows of one statement (`$1` placeholders), straight through asyncpg.

    For the statements of the hottest paths (a door scan), where Piccolo's query building
    cost more CPU than the statement's round trip; asyncpg keeps the statement prepared per
    connection."""
    async with _statement_connection() as connection:
        return [dict(row) for row in await connection.fetch(sql, *args)]


MIN_SERVER_VERSION = 15


class MigrationFailed(RuntimeError):
    """A migration did not apply; the database is left as the failed migration's transaction left it."""


def use_database(dsn: str) -> None:
    """Point the shared engine at `dsn` (call before opening its pool)."""
    DB.config = {"dsn": dsn}


def use_bounded_database(dsn: str, *, connect_timeout_ms: int, statement_timeout_ms: int) -> None:
    """Point the shared engine at `dsn`, every connection bounded in time.

    PostgreSQL cancels a statement past `statement_timeout` (a slow query on a live server);
    asyncpg gives up waiting a little later (`command_timeout`: a frozen server cancels
    nothing). A session idle inside a transaction is ended by the server, so that a client
    that died mid-transaction cannot hold its locks.
    """
    DB.config = {
        "dsn": dsn,
        "timeout": connect_timeout_ms / 1000,
        "command_timeout": (statement_timeout_ms + 500) / 1000,
        "server_settings": {
            "statement_timeout": str(statement_timeout_ms),
            "idle_in_transaction_session_timeout": str(max(statement_timeout_ms * 5, 10_000)),
        },
    }


def with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + name))


async def ensure_database(dsn: str) -> None:
    """Create the database named in `dsn` if the server does not have it yet."""
    name = urlsplit(dsn).path.lstrip("/")
    admin = await asyncpg.connect(with_database(dsn, "postgres"))
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def check_server_version(dsn: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        version = int(await connection.fetchval("SHOW server_version_num")) // 10000
    finally:
        await connection.close()
    if version < MIN_SERVER_VERSION:
        raise MigrationFailed(
            f"PostgreSQL {MIN_SERVER_VERSION} or newer is needed, found {version}"
        )
    return version


async def migrate(dsn: str, *, quiet: bool = True) -> None:
    """Apply every pending migration of every app, in dependency order."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    await check_server_version(dsn)
    use_database(dsn)
    output = io.StringIO()
    with contextlib.redirect_stdout(output) if quiet else contextlib.nullcontext():
        result = await run_forwards("all")
    if not result.success:
        raise MigrationFailed(f"{result.message}\n{output.getvalue()}")


async def pending_migrations(dsn: str, *, timeout_s: float = 10) -> list[str]:
    """`app:migration id` of every migration not applied to `dsn`, in no particular order.

    Reads only: a missing database or migration table means every migration is pending.
    """
    from piccolo.apps.migrations.commands.base import BaseMigrationManager

    try:
        connection = await asyncpg.connect(dsn, timeout=timeout_s)
    except asyncpg.InvalidCatalogNameError:
        applied: set[tuple[str, str]] = set()
    else:
        try:
            rows = await connection.fetch("SELECT app_name, name FROM migration", timeout=timeout_s)
            applied = {(row["app_name"], row["name"]) for row in rows}
        except asyncpg.UndefinedTableError:
            applied = set()
        finally:
            await connection.close(timeout=timeout_s)
    manager = BaseMigrationManager()
    pending = []
    for module in manager.get_app_modules():
        config = module.APP_CONFIG
        modules = manager.get_migration_modules(config.resolved_migrations_folder_path)
        for migration_id in manager.get_migration_ids(modules):
            if (config.app_name, migration_id) not in applied:
                pending.append(f"{config.app_name}:{migration_id}")
    return pending
