"""Test infrastructure: real PostgreSQL and Redis, a fresh database per test.

By default both servers are embedded (started once per session in a temporary folder);
TEST_DATABASE_URL and TEST_REDIS_URL point at others. The schema is migrated once into
a template database; each test gets its own copy (CREATE DATABASE … TEMPLATE), so tests
are isolated even when they commit, race, or run requests through the app.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from litestar import Litestar
from redis.asyncio import Redis

from booking.services import accounts
from service.app.embedded import EmbeddedPostgres, EmbeddedRedis
from service.app.factory import app_resources, create_app
from service.app.serving import served
from service.kernel.database import migrate, use_database, with_database
from service.kernel.settings import Settings

TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256-signing"
accounts.use_fast_hashing()


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external
        return
    # Not under pytest's own temporary folder: another pytest session resets that folder to
    # mode 0700, which locks out the PostgreSQL system user of a server still running.
    folder = Path(tempfile.mkdtemp(prefix="tierslieux-test-pg-"))
    server = EmbeddedPostgres(folder / "data", ephemeral=True)
    server.start()
    try:
        yield server.url()
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("TEST_REDIS_URL")
    if external:
        yield external
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), persist=False)
    server.start()
    try:
        yield server.url()
    finally:
        server.stop()


@pytest.fixture(scope="session")
async def template_database(postgres_url: str) -> AsyncIterator[str]:
    """A database with every migration applied, copied for each test."""
    name = f"tl_template_{os.getpid()}"
    admin = await asyncpg.connect(with_database(postgres_url, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}"')
        dsn = with_database(postgres_url, name)
        await migrate(dsn)
        # Piccolo may keep no connection, but make sure nothing holds the template open.
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        yield name
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


_counter = itertools.count()


@pytest.fixture
async def database_url(postgres_url: str, template_database: str) -> AsyncIterator[str]:
    name = f"tl_test_{os.getpid()}_{next(_counter)}"
    admin = await asyncpg.connect(with_database(postgres_url, "postgres"))
    try:
        await admin.execute(
            f'CREATE DATABASE "{name}" TEMPLATE "{template_database}" STRATEGY FILE_COPY'
        )
        dsn = with_database(postgres_url, name)
        use_database(dsn)
        yield dsn
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.flushdb()
        await client.aclose()


@pytest.fixture
def settings(database_url: str, redis_url: str, tmp_path: Path) -> Settings:
    return Settings(
        mode="test",
        database_url=database_url,
        redis_url=redis_url,
        secret_key=TEST_SECRET,
        base_url="http://testserver.local",
        data_dir=tmp_path,
        log_json=True,
        log_level="WARNING",
    )


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar, redis: Redis) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in this event loop, with its lifespan running.

    (Litestar's AsyncTestClient runs the app in another thread's loop, which would make the
    app's connection pool unusable from the test's factories.)
    """
    # Only our resources (pool, Redis): Litestar's own lifespan keeps an anyio task group
    # that pytest-asyncio would enter and exit in different tasks.
    async with app_resources(app.state.settings)(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver.local"
        ) as http:
            yield http


@pytest.fixture
def live_server_env() -> dict[str, str]:
    """Extra environment for the live server; a folder's conftest overrides it (demo mode)."""
    return {}


def live_env(settings: Settings) -> dict[str, str]:
    """The environment of an API or worker process serving this test's database and Redis."""
    return {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": settings.database_url or "",
        "REDIS_URL": settings.redis_url or "",
        "SECRET_KEY": settings.secret_key,
        "BASE_URL": settings.base_url,
        "DATA_DIR": str(settings.data_dir),
        "LOG_LEVEL": "WARNING",
    }


@pytest.fixture
def live_server(settings: Settings, redis: Redis, live_server_env: dict[str, str]) -> Iterator[str]:
    """The app served by a real uvicorn process on a free port, on this test's database.

    For what must cross a real socket: concurrent-request races, schemathesis, browsers.
    """
    with served({**live_env(settings), **live_server_env}, timeout=60) as server:
        yield server.url
