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
from tests.faults import migrated_database

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


async def test_reporting_reads_follow_the_streaming_replica_and_fall_back_when_it_stops(
    pair: tuple[EmbeddedPostgres, EmbeddedPostgres], redis_url: str, tmp_path: Path
) -> None:
    primary, replica = pair
    dsn = await migrated_database(primary, DATABASE)
    replica_dsn = with_database(replica.url(), DATABASE)
    use_database(dsn)
    settings = Settings(
        mode="test",
        database_url=dsn,
        redis_url=redis_url,
        read_replica_url=replica_dsn,
        secret_key="streaming-replica-test-secret-long-enough",
        data_dir=tmp_path,
        log_level="WARNING",
    )
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
