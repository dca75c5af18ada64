"""Database lifecycle: point Piccolo at a database, create it, migrate it."""

from __future__ import annotations

import contextlib
import io
import os
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from piccolo.engine.postgres import PostgresEngine


class Engine(PostgresEngine):
    """Piccolo's engine without its connect-at-import version probe.

    The stock engine opens a connection when this module is imported, before settings
    decide which database to use; `tierslieux migrate` checks the server version instead.
    """

    async def check_version(self) -> None:
        return None


DB = Engine(
    config={
        "dsn": os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/tierslieux"
    },
    log_queries=False,
)


MIN_SERVER_VERSION = 15


class MigrationFailed(RuntimeError):
    """A migration did not apply; the database is left as the failed migration's transaction left it."""


def use_database(dsn: str) -> None:
    """Point the shared engine at `dsn` (call before opening its pool)."""
    DB.config = {"dsn": dsn}


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
