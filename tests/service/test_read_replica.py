"""Reporting reads (open data, the network's indicators) go to READ_REPLICA_URL, and to the
primary when the replica does not answer.

The "replica" here is a second database on the test server holding other rows than the
primary, so that where each answer came from shows; streaming replication itself is
PostgreSQL's (docs/deployment.md says how to set it up).
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from passes import indicators
from service.app.factory import app_resources, create_app
from service.kernel.database import with_database
from service.kernel.outages import FALLBACKS
from service.kernel.replica import REPLICA, close_replica_pool, start_replica_pool, use_read_replica
from service.kernel.settings import Settings, load
from tests.factories import make_venue


@pytest.fixture
async def replica_url(postgres_url: str, template_database: str) -> AsyncIterator[str]:
    name = f"tl_replica_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(with_database(postgres_url, "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
        yield with_database(postgres_url, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _geojson_names(settings: Settings, redis: Redis) -> list[str]:
    app = create_app(settings)
    async with app_resources(settings)(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            answer = await http.get("/opendata/venues.geojson")
    assert answer.status_code == 200, answer.text
    return sorted(f["properties"]["name"] for f in answer.json()["features"])


def _fallbacks(call_site: str) -> float:
    return FALLBACKS.labels(dependency=REPLICA, call_site=call_site)._value.get()


async def test_open_data_is_read_from_the_replica_when_one_is_set(
    settings: Settings, redis: Redis, replica_url: str
) -> None:
    await make_venue(name="Sur le primaire")
    replica = await asyncpg.connect(replica_url)
    try:
        primary_row = await asyncpg.connect(settings.database_url)
        try:
            row = await primary_row.fetchrow("SELECT * FROM venue")
        finally:
            await primary_row.close()
        columns = list(row.keys())
        values = [*row.values()]
        values[columns.index("name")] = "Sur le réplica"
        await replica.execute(
            f"INSERT INTO venue ({', '.join(columns)}) "
            f"VALUES ({', '.join(f'${n + 1}' for n in range(len(columns)))})",
            *values,
        )
    finally:
        await replica.close()

    assert await _geojson_names(settings, redis) == ["Sur le primaire"]
    with_replica = dataclasses.replace(settings, read_replica_url=replica_url)
    assert await _geojson_names(with_replica, redis) == ["Sur le réplica"]
    # The app's end forgets the replica: the next reads go to the primary again.
    assert await _geojson_names(settings, redis) == ["Sur le primaire"]


async def test_a_replica_that_does_not_answer_costs_a_bounded_wait_and_the_primary_answers(
    settings: Settings, redis: Redis
) -> None:
    await make_venue(name="Sur le primaire")
    before = _fallbacks("open_data.approved_venues")
    away = dataclasses.replace(
        settings,
        read_replica_url="postgresql://postgres@127.0.0.1:1/none",
        database_connect_timeout_ms=300,
    )

    assert await _geojson_names(away, redis) == ["Sur le primaire"]
    assert _fallbacks("open_data.approved_venues") == before + 1


async def test_the_indicators_read_from_the_replica(settings: Settings, replica_url: str) -> None:
    await make_venue(name="Sur le primaire")
    assert [p["name"] for p in await indicators.venue_points()] == ["Sur le primaire"]

    use_read_replica(replica_url, connect_timeout_ms=1000, statement_timeout_ms=2000)
    await start_replica_pool(2, 1.0)
    try:
        assert await indicators.venue_points() == []
    finally:
        await close_replica_pool()
    assert [p["name"] for p in await indicators.venue_points()] == ["Sur le primaire"]


def test_read_replica_url_is_a_setting() -> None:
    assert load({"READ_REPLICA_URL": "postgresql://r@replica/tl"}).read_replica_url == (
        "postgresql://r@replica/tl"
    )
    assert load({}).read_replica_url is None
