"""READ_REPLICA_URL against a real PostgreSQL streaming replica (pg_basebackup -R), our own pair.

Replay is paused on the replica while the primary takes a new venue: the open-data export,
read from the replica, does not show it yet; resumed, it does; with the replica stopped, the
primary answers and the fallback is counted.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from booking.tables import Venue
from service.app.embedded import EmbeddedPostgres, _embedded_postgres
from service.app.factory import app_resources, create_app
from service.kernel.database import use_database, with_database
from service.kernel.outages import FALLBACKS
from service.kernel.replica import REPLICA
from service.kernel.settings import Settings
from tests.factories import make_venue
from tests.faults import Frozen, migrated_database

pytestmark = pytest.mark.slow

DATABASE = "tl_streaming"


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[EmbeddedPostgres, EmbeddedPostgres]]:
    folder = Path(tempfile.mkdtemp(prefix="tierslieux-replica-"))
    primary = EmbeddedPostgres(folder / "primary", ephemeral=True)
    replica = EmbeddedPostgres(folder / "replica", ephemeral=True)
    primary.start()
    try:
        run_as = primary._user_kwargs()
        replica.data_dir.mkdir(mode=0o700)
        if run_as:
            _embedded_postgres().utils.ensure_prefix_permissions(replica.data_dir)
            shutil.chown(replica.data_dir, run_as["user"], run_as["group"])  # type: ignore[arg-type]
        subprocess.run(
            [
                str(primary.bin_dir / "pg_basebackup"),
                "-h",
                "127.0.0.1",
                "-p",
                str(primary.port),
                "-U",
                "postgres",
                "-D",
                str(replica.data_dir),
                "-R",
                "-X",
                "stream",
            ],
            check=True,
            capture_output=True,
            timeout=120,
            **run_as,  # type: ignore[arg-type]
        )
        replica.start()
        yield primary, replica
    finally:
        replica.stop()
        primary.stop()
        shutil.rmtree(folder, ignore_errors=True)


async def _names(settings: Settings) -> list[str]:
    app = create_app(settings)
    async with app_resources(settings)(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            answer = await http.get("/opendata/venues.geojson")
    assert answer.status_code == 200, answer.text
    return sorted(f["properties"]["name"] for f in answer.json()["features"])


async def _replica_has(replica_dsn: str, count: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        connection = await asyncpg.connect(replica_dsn)
        try:
            if await connection.fetchval("SELECT count(*) FROM venue") == count:
                return
        finally:
            await connection.close()
        await asyncio.sleep(0.2)
    raise AssertionError(f"the replica never had {count} venue(s)")


async def _on_the_pair(
    pair: tuple[EmbeddedPostgres, EmbeddedPostgres],
    database: str,
    redis_url: str,
    tmp_path: Path,
    **bounds: int,
) -> tuple[Settings, str]:
    """A migrated database on the primary (the test's own), settings reading the replica's copy."""
    primary, replica = pair
    dsn = await migrated_database(primary, database)
    replica_dsn = with_database(replica.url(), database)
    use_database(dsn)
    settings = Settings(
        mode="test",
        database_url=dsn,
        redis_url=redis_url,
        read_replica_url=replica_dsn,
        secret_key="streaming-replica-test-secret-long-enough",
        data_dir=tmp_path,
        log_level="WARNING",
        **bounds,  # type: ignore[arg-type]
    )
    return settings, replica_dsn


async def test_reporting_reads_follow_the_streaming_replica_and_fall_back_when_it_stops(
    pair: tuple[EmbeddedPostgres, EmbeddedPostgres], redis_url: str, tmp_path: Path
) -> None:
    settings, replica_dsn = await _on_the_pair(pair, DATABASE, redis_url, tmp_path)
    replica = pair[1]
    await make_venue(name="Première")
    await _replica_has(replica_dsn, 1)
    assert await _names(settings) == ["Première"]

    control = await asyncpg.connect(with_database(replica.url(), "postgres"))
    try:
        await control.execute("SELECT pg_wal_replay_pause()")
        await make_venue(name="Seconde")
        assert await Venue.count() == 2  # on the primary
        assert await _names(settings) == ["Première"]  # the replica, paused, lags
        await control.execute("SELECT pg_wal_replay_resume()")
    finally:
        await control.close()
    await _replica_has(replica_dsn, 2)
    assert await _names(settings) == ["Première", "Seconde"]

    before = FALLBACKS.labels(
        dependency=REPLICA, call_site="open_data.approved_venues"
    )._value.get()
    replica.stop()
    try:
        stopped = dataclasses.replace(settings, database_connect_timeout_ms=500)
        assert await _names(stopped) == ["Première", "Seconde"]  # from the primary
    finally:
        replica.start()
    after = FALLBACKS.labels(dependency=REPLICA, call_site="open_data.approved_venues")._value.get()
    assert after == before + 1


async def test_a_frozen_replica_costs_a_bounded_wait_and_the_primary_answers(
    pair: tuple[EmbeddedPostgres, EmbeddedPostgres], redis_url: str, tmp_path: Path
) -> None:
    """SIGSTOP on the replica's postmaster and backends, as a stuck host: the pool's open
    connection and a new one both hang; each read costs at most its bound and is answered by
    the primary; thawed, the same app reads from the replica again."""
    settings, replica_dsn = await _on_the_pair(
        pair,
        f"{DATABASE}_frozen",
        redis_url,
        tmp_path,
        database_connect_timeout_ms=500,
        database_statement_timeout_ms=1000,
        database_acquire_timeout_ms=1000,
    )
    replica = pair[1]
    await make_venue(name="Gelée")
    await _replica_has(replica_dsn, 1)
    call_site = "open_data.approved_venues"
    app = create_app(settings)
    async with app_resources(settings)(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:

            async def names() -> tuple[list[str], float]:
                started = time.monotonic()
                answer = await http.get("/opendata/venues.geojson")
                assert answer.status_code == 200, answer.text
                found = sorted(f["properties"]["name"] for f in answer.json()["features"])
                return found, time.monotonic() - started

            expected, _ = await names()  # the replica's pool now holds a connection
            assert "Gelée" in expected
            before = FALLBACKS.labels(dependency=REPLICA, call_site=call_site)._value.get()
            with Frozen(replica):
                # The replica frozen: the primary takes a venue the replica cannot replay.
                await make_venue(name="Pendant le gel")
                for _ in range(3):
                    found, took = await names()
                    assert "Pendant le gel" in found  # answered by the primary
                    # statement bound (1 s) + asyncpg's margin (0.5 s) or connect (0.5 s)
                    assert took < 4.0, f"a frozen replica held the read {took:.1f} s"
            fallbacks = FALLBACKS.labels(dependency=REPLICA, call_site=call_site)
            assert fallbacks._value.get() == before + 3
            await _replica_has(replica_dsn, 2)  # thawed, it replays what it missed
            # The pool's connections broken by the freeze are replaced: within a few reads
            # the same app reads from the replica again, without falling back.
            for _ in range(10):
                counted = fallbacks._value.get()
                found, took = await names()
                if fallbacks._value.get() == counted:
                    break
                await asyncio.sleep(0.5)
            else:
                raise AssertionError("the app never read from the thawed replica again")
            assert "Pendant le gel" in found
            assert took < 1.0
