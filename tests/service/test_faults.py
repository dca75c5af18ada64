"""Frozen and stopped PostgreSQL and Redis under a live uvicorn: bounded answers, nothing lost.

The module starts its own PostgreSQL and Redis (never the machine's: they are shared), serves
the app on them with uvicorn, and freezes them with SIGSTOP as an overloaded or stuck host
would: the TCP port still accepts, nothing answers. Every request must answer in time (2 s
with Redis frozen, 5 s with PostgreSQL frozen or stopped), 503 naming the dependency rather
than a hang; door scans must not need Redis at all, and each scan acknowledged must be in the
database; once the server is back, the service works again by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from arq.worker import func

from billing.controllers import queue_rendering
from booking.tables import User
from service.app.embedded import EmbeddedPostgres, EmbeddedRedis
from service.app.serving import served
from service.app.worker import Worker
from service.kernel.database import use_database
from service.kernel.identity import Role
from service.kernel.outages import FALLBACKS, redis_client
from service.kernel.settings import Settings
from service.kernel.throttle import PerSecondLimit
from tests.conftest import TEST_SECRET
from tests.factories import (
    PASSWORD,
    auth,
    make_door_device,
    make_organisation,
    make_pass,
    make_rates,
    make_user,
    make_venue,
    make_workspace,
)
from tests.faults import Frozen, FrozenRedis, migrated_database, own_servers

pytestmark = pytest.mark.faults

REDIS_BOUND = 2.0  # seconds: sign-in, /readyz and door scans with Redis frozen
POSTGRES_BOUND = 5.0  # seconds: any request with PostgreSQL frozen or stopped
READY_BOUND = 2.0


@dataclass
class World:
    postgres: EmbeddedPostgres
    redis: EmbeddedRedis
    dsn: str
    url: str
    settings: Settings
    venue_id: uuid.UUID
    device: dict[str, str]
    staff: dict[str, str]
    staff_email: str
    tokens: list[str]


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[EmbeddedPostgres, EmbeddedRedis]]:
    """This module's own servers, whatever TEST_DATABASE_URL and TEST_REDIS_URL say."""
    with own_servers("tierslieux-faults-") as both:
        yield both


@pytest.fixture(scope="module")
async def world(servers: tuple[EmbeddedPostgres, EmbeddedRedis]) -> AsyncIterator[World]:
    postgres, redis = servers
    dsn = await migrated_database(postgres, "tl_faults")
    data_dir = Path(tempfile.mkdtemp(prefix="tierslieux-faults-data-"))
    settings = Settings(
        mode="test",
        database_url=dsn,
        redis_url=redis.url(),
        secret_key=TEST_SECRET,
        data_dir=data_dir,
    )
    use_database(dsn)
    venue = await make_venue()
    await make_workspace(venue, capacity=50)
    await make_rates(venue)
    organisation = await make_organisation(monthly_allowance_units=200)
    tokens = []
    for _ in range(6):
        agent = await make_user(Role.AGENT, organisation=organisation)
        tokens.append((await make_pass(settings, agent)).token)
    _, device = await make_door_device(venue)
    staff: User = await make_user(Role.VENUE_STAFF, venue=venue)
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": dsn,
        "REDIS_URL": redis.url(),
        "SECRET_KEY": TEST_SECRET,
        "DATA_DIR": str(data_dir),
        "LOG_LEVEL": "ERROR",
        # Small, so that a burst of requests also waits for a connection (acquire timeout).
        "DATABASE_POOL_SIZE": "4",
    }
    try:
        with served(env, timeout=60) as server:
            yield World(
                postgres,
                redis,
                dsn,
                server.url,
                settings,
                venue.id,
                device,
                auth(settings, staff),
                staff.email,
                tokens,
            )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


async def timed(call: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await call
    return response, time.monotonic() - started


def scan_body(token: str) -> dict[str, Any]:
    return {
        "scan_id": str(uuid.uuid4()),
        "token": token,
        "scanned_at": datetime.now(UTC).isoformat(),
        "direction": "in",
    }


def offline_scan(token: str) -> dict[str, Any]:
    return {**scan_body(token), "local_verdict": {"admitted": True, "reason": None}}


async def stored_scans(world: World, scan_ids: list[str]) -> set[str]:
    connection = await asyncpg.connect(world.dsn)
    try:
        rows = await connection.fetch(
            "SELECT scan_id FROM scan WHERE scan_id = ANY($1::uuid[])", scan_ids
        )
    finally:
        await connection.close()
    return {str(row["scan_id"]) for row in rows}


def assert_unavailable(response: httpx.Response, dependency: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == "urn:tierslieux:problem:unavailable", body
    assert body["dependency"] == dependency, body
    assert int(response.headers["retry-after"]) > 0


async def assert_ready(http: httpx.AsyncClient, within: float = 30) -> None:
    """The service answers 200 again by itself within `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        response = await http.get("/readyz")
        if response.status_code == 200:
            return
        assert time.monotonic() < deadline, response.text
        await asyncio.sleep(0.2)


async def test_with_redis_frozen_sign_in_readyz_and_the_door_answer_in_time(world: World) -> None:
    async with httpx.AsyncClient(base_url=world.url, timeout=30) as http:
        acknowledged: list[str] = []
        with FrozenRedis(world.redis):
            sign_in, took = await timed(
                http.post(
                    "/api/v1/auth/token", json={"email": world.staff_email, "password": PASSWORD}
                )
            )
            assert took < REDIS_BOUND, f"sign-in took {took:.2f} s"
            if sign_in.status_code != 200:
                assert_unavailable(sign_in, "redis")

            ready, took = await timed(http.get("/readyz"))
            assert took < READY_BOUND, f"/readyz took {took:.2f} s"
            assert ready.status_code == 503, ready.text
            assert ready.json()["down"] == ["redis"]
            assert ready.json()["checks"]["postgresql"] == "ok"

            # The door: every scan answered promptly, by a device and by a signed-in person.
            for i, token in enumerate(world.tokens):
                headers = world.device if i % 2 else world.staff
                scan = scan_body(token)
                response, took = await timed(
                    http.post(f"/api/v1/venues/{world.venue_id}/scans", json=scan, headers=headers)
                )
                assert response.status_code == 201, response.text
                assert took < REDIS_BOUND, f"scan {i} took {took:.2f} s"
                acknowledged.append(scan["scan_id"])
            batch = [offline_scan(token) for token in world.tokens]
            response, took = await timed(
                http.post(
                    f"/api/v1/venues/{world.venue_id}/scans:batch",
                    json={"scans": batch},
                    headers=world.device,
                )
            )
            assert response.status_code == 200, response.text
            assert took < REDIS_BOUND, f"scans:batch took {took:.2f} s"
            acknowledged += [s["scan_id"] for s in batch]

            # A signed-in page: its session lives in PostgreSQL, so it renders, promptly.
            session = {"tl_session": world.staff["Authorization"].removeprefix("Bearer ")}
            async with httpx.AsyncClient(base_url=world.url, cookies=session) as browser:
                page, took = await timed(browser.get("/account", headers={"Accept": "text/html"}))
            assert took < REDIS_BOUND, f"page took {took:.2f} s"
            assert page.status_code == 200, page.text
            assert world.staff_email in page.text

        assert await stored_scans(world, acknowledged) == set(acknowledged)
        # Redis is back: everything works again, without a restart.
        await assert_ready(http)
        sign_in = await http.post(
            "/api/v1/auth/token", json={"email": world.staff_email, "password": PASSWORD}
        )
        assert sign_in.status_code == 200, sign_in.text
        scan = scan_body(world.tokens[0])
        response = await http.post(
            f"/api/v1/venues/{world.venue_id}/scans", json=scan, headers=world.device
        )
        assert response.status_code == 201, response.text
        # The scans let through without their per-second limit were counted.
        metrics = (await http.get("/metrics")).text
        assert 'call_site="scan-rate",dependency="redis"' in metrics, metrics[-2000:]


async def test_with_redis_frozen_the_fallbacks_carry_on_in_time(world: World) -> None:
    """The call sites that go on without Redis: the scan limit and a credit note's rendering."""
    redis = redis_client(world.redis.url(), 500)
    PerSecondLimit._paused_until.clear()
    before = FALLBACKS.labels(dependency="redis", call_site="render-after-credit-note")._value.get()
    try:
        with FrozenRedis(world.redis):
            started = time.monotonic()
            assert await PerSecondLimit(redis, "scan-rate", 1).hit("door") is True
            # Paused: the next ones do not even ask.
            assert await PerSecondLimit(redis, "scan-rate", 1).hit("door") is True
            await queue_rendering(redis, uuid.uuid4())
            took = time.monotonic() - started
        assert took < 2 * REDIS_BOUND, f"took {took:.2f} s"
        after = FALLBACKS.labels(dependency="redis", call_site="render-after-credit-note")
        assert after._value.get() == before + 1
    finally:
        PerSecondLimit._paused_until.clear()
        await redis.aclose()


async def _requests_needing_postgresql(http: httpx.AsyncClient, world: World) -> None:
    """A burst of requests that all need PostgreSQL: each answers 503 within the bound."""
    calls = [http.get("/api/v1/me", headers=world.staff) for _ in range(6)] + [
        http.post(
            f"/api/v1/venues/{world.venue_id}/scans",
            json=scan_body(world.tokens[0]),
            headers=world.device,
        )
        for _ in range(4)
    ]
    results = await asyncio.gather(*(timed(call) for call in calls))
    for response, took in results:
        assert took < POSTGRES_BOUND, f"{response.request.url} took {took:.2f} s"
        assert_unavailable(response, "postgresql")
    ready, took = await timed(http.get("/readyz"))
    assert took < READY_BOUND, f"/readyz took {took:.2f} s"
    assert ready.status_code == 503, ready.text
    assert ready.json()["down"] == ["postgresql"]
    assert ready.json()["checks"]["redis"] == "ok"


async def _works_again(http: httpx.AsyncClient, world: World) -> None:
    await assert_ready(http)
    me = await http.get("/api/v1/me", headers=world.staff)
    assert me.status_code == 200, me.text
    scan = scan_body(world.tokens[1])
    response = await http.post(
        f"/api/v1/venues/{world.venue_id}/scans", json=scan, headers=world.device
    )
    assert response.status_code == 201, response.text
    assert await stored_scans(world, [scan["scan_id"]]) == {scan["scan_id"]}


async def test_with_postgresql_frozen_requests_answer_503_in_time_and_recover(
    world: World,
) -> None:
    async with httpx.AsyncClient(base_url=world.url, timeout=30) as http:
        # Warm: the pool holds connections to the server that is about to freeze.
        assert (await http.get("/api/v1/me", headers=world.staff)).status_code == 200
        with Frozen(world.postgres):
            await _requests_needing_postgresql(http, world)
        await _works_again(http, world)


async def test_with_postgresql_stopped_requests_answer_503_in_time_and_recover(
    world: World,
) -> None:
    async with httpx.AsyncClient(base_url=world.url, timeout=30) as http:
        assert (await http.get("/api/v1/me", headers=world.staff)).status_code == 200
        world.postgres.stop()
        try:
            await _requests_needing_postgresql(http, world)
        finally:
            world.postgres.start()
        await _works_again(http, world)


async def _remembered_again(http: httpx.AsyncClient, world: World, within: float) -> User:
    """A person whose deactivation, made with the announcing trigger off, is not seen: the
    server remembers who a token names again, so its listening connection is back."""
    deadline = time.monotonic() + within
    while True:
        agent = await make_user(Role.AGENT)
        headers = auth(world.settings, agent)
        assert (await http.get("/api/v1/me", headers=headers)).status_code == 200
        await User.raw("ALTER TABLE app_user DISABLE TRIGGER app_user_principals_changed")
        try:
            await User.update({User.active: False}).where(User.id == agent.id)
        finally:
            await User.raw("ALTER TABLE app_user ENABLE TRIGGER app_user_principals_changed")
        if (await http.get("/api/v1/me", headers=headers)).status_code == 200:
            return agent
        assert time.monotonic() < deadline, "the server never remembered a principal again"
        await asyncio.sleep(0.5)


async def test_after_a_frozen_postgresql_revocations_still_reach_the_remembered_principals(
    world: World,
) -> None:
    """The server runs with AUTH_CACHE_MS at its default (on). A freeze longer than the
    listener's health check (5 s + 1 s) loses the listening connection; thawed, the server
    listens again by itself, and a revocation announced then is refused at once."""
    async with httpx.AsyncClient(base_url=world.url, timeout=30) as http:
        agent = await make_user(Role.AGENT)
        headers = auth(world.settings, agent)
        assert (await http.get("/api/v1/me", headers=headers)).status_code == 200
        with Frozen(world.postgres):
            await asyncio.sleep(8)
        await assert_ready(http)
        # Right after the thaw, listening or not, a deactivation is refused at once.
        await User.update({User.active: False}).where(User.id == agent.id)
        started = time.monotonic()
        while (await http.get("/api/v1/me", headers=headers)).status_code != 401:
            assert time.monotonic() - started < 1.0, "a deactivated person still answered"
            await asyncio.sleep(0.02)
        # Listening again (the test proves it: an unannounced change is not seen) ...
        remembered = await _remembered_again(http, world, within=30)
        # ... and an announced change reaches it at once.
        await User.update({User.display_name: "Après le gel"}).where(User.id == remembered.id)
        remembered_headers = auth(world.settings, remembered)
        started = time.monotonic()
        while (await http.get("/api/v1/me", headers=remembered_headers)).status_code != 401:
            assert time.monotonic() - started < 1.0, "a revocation did not reach the cache"
            await asyncio.sleep(0.02)


async def test_the_worker_rides_out_a_frozen_redis_and_runs_jobs_after(world: World) -> None:
    """Its Redis calls time out like the API's; it must wait for Redis, not exit."""
    ran: list[str] = []

    async def note(ctx: dict[str, Any], word: str) -> None:
        ran.append(word)

    async def queued(word: str) -> None:
        await queue.enqueue_job("note", word)
        deadline = time.monotonic() + 10
        while word not in ran:
            assert time.monotonic() < deadline, f"{word!r} never ran; ran {ran}"
            await asyncio.sleep(0.05)

    queue = redis_client(world.redis.url(), 500)
    worker = Worker(
        functions=[func(note, name="note")],
        redis_pool=redis_client(world.redis.url(), 500),
        poll_delay=0.1,
        handle_signals=False,
        ctx={},
    )
    polls_failed = FALLBACKS.labels(dependency="redis", call_site="worker.poll")._value.get()
    running = asyncio.create_task(worker.async_run())
    try:
        await queued("before")
        with FrozenRedis(world.redis):
            await asyncio.sleep(2.5)  # a few polls time out meanwhile
        assert not running.done(), running.exception()
        await queued("after")
        after = FALLBACKS.labels(dependency="redis", call_site="worker.poll")._value.get()
        assert after > polls_failed
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await worker.close()
        await queue.aclose()
