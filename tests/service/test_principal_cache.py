"""Who a token names, remembered by each API process until PostgreSQL says it changed.

The remembered answer must never outlive a revocation by more than the notification's trip:
these tests turn the cache on (the other tests' in-process app runs without it) and check
that a change made straight in the database, as a SQL console would, is refused at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest
from litestar import Litestar

from booking.services import accounts
from booking.tables import User
from passes.tables import DoorDevice
from service.app.factory import app_resources, create_app
from service.kernel.auth import token_claims
from service.kernel.identity import Principal, Role
from service.kernel.principal_cache import PrincipalCache
from service.kernel.settings import Settings
from tests.factories import PASSWORD, auth, make_door_device, make_user, make_venue


@pytest.fixture
def cached_app(settings: Settings) -> Litestar:
    return create_app(dataclasses.replace(settings, auth_cache_ms=30_000))


@pytest.fixture
async def cached_client(cached_app: Litestar, redis: object) -> AsyncIterator[httpx.AsyncClient]:
    async with app_resources(cached_app.state.settings)(cached_app):
        cache: PrincipalCache = cached_app.state.principal_cache
        await _until(lambda: cache.listening, 5.0)
        transport = httpx.ASGITransport(app=cached_app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver.local"
        ) as http:
            yield http


async def _until(condition: object, seconds: float) -> float:
    started = time.monotonic()
    while not condition():  # type: ignore[operator]
        if time.monotonic() - started > seconds:
            raise AssertionError(f"not true after {seconds} s")
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def _refused_within(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], seconds: float
) -> float:
    started = time.monotonic()
    while (await client.get(path, headers=headers)).status_code != 401:
        if time.monotonic() - started > seconds:
            raise AssertionError(f"{path} still answered after {seconds} s")
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def test_a_remembered_person_is_served_without_asking_again(
    cached_client: httpx.AsyncClient, cached_app: Litestar, settings: Settings
) -> None:
    agent = await make_user(Role.AGENT)
    headers = auth(settings, agent)
    assert (await cached_client.get("/api/v1/me", headers=headers)).status_code == 200

    # A change the database does not announce (its trigger off) is not seen: the answer
    # comes from the process's memory, which is what the cache is for.
    await User.raw("ALTER TABLE app_user DISABLE TRIGGER app_user_principals_changed")
    await User.update({User.active: False}).where(User.id == agent.id)
    await User.raw("ALTER TABLE app_user ENABLE TRIGGER app_user_principals_changed")
    assert (await cached_client.get("/api/v1/me", headers=headers)).status_code == 200

    # Any announced change empties it: the deactivation is now seen.
    await User.update({User.display_name: "Camille"}).where(User.id == agent.id)
    await _refused_within(cached_client, "/api/v1/me", headers, 1.0)


async def test_every_revocation_made_in_the_database_is_refused_within_a_second(
    cached_client: httpx.AsyncClient, settings: Settings
) -> None:
    agent = await make_user(Role.AGENT)
    staff = await make_user(Role.VENUE_STAFF)
    walker = await make_user(Role.AGENT)
    venue = await make_venue()
    device, device_headers = await make_door_device(venue)
    token = (
        await cached_client.post(
            "/api/v1/auth/token", json={"email": walker.email, "password": PASSWORD}
        )
    ).json()["access_token"]
    signed_in = {"Authorization": f"Bearer {token}"}
    agent_headers, staff_headers = auth(settings, agent), auth(settings, staff)
    for headers in (agent_headers, staff_headers, signed_in):
        assert (await cached_client.get("/api/v1/me", headers=headers)).status_code == 200
    assert (
        await cached_client.get("/api/v1/devices/me", headers=device_headers)
    ).status_code == 200

    # A new password, as the service sets it.
    await accounts.set_password(agent.id, "another-long-password")
    await _refused_within(cached_client, "/api/v1/me", agent_headers, 1.0)
    # A role change, as piccolo-admin or a SQL console would make it.
    await User.update({User.role: Role.VENUE_ADMIN.value}).where(User.id == staff.id)
    await _refused_within(cached_client, "/api/v1/me", staff_headers, 1.0)
    # A sign-out of one session.
    await accounts.end_session(token_claims(settings, token))
    await _refused_within(cached_client, "/api/v1/me", signed_in, 1.0)
    # A revoked door device.
    await DoorDevice.update({DoorDevice.revoked_at: datetime.now(UTC)}).where(
        DoorDevice.id == device.id
    )
    await _refused_within(cached_client, "/api/v1/devices/me", device_headers, 1.0)


def _counting() -> tuple[list[int], object]:
    calls = [0]

    async def look_up() -> Principal | None:
        calls[0] += 1
        return Principal(role=Role.AGENT, display_name="A")

    return calls, look_up


async def test_nothing_is_remembered_while_nobody_listens() -> None:
    calls, look_up = _counting()
    cache = PrincipalCache(30.0)

    async def unreachable() -> asyncpg.Connection:
        raise OSError("PostgreSQL is away")

    cache.start(unreachable)
    try:
        for _ in range(3):
            await cache.get("token", look_up)  # type: ignore[arg-type]
        assert calls[0] == 3
        assert not cache.listening
    finally:
        await cache.stop()


async def test_a_look_up_overtaken_by_a_notification_is_not_remembered() -> None:
    cache = PrincipalCache(30.0)
    cache.listening = True
    calls = [0]

    async def overtaken() -> Principal | None:
        calls[0] += 1
        cache.forget_all()  # a change was announced while the look-up ran
        return Principal(role=Role.AGENT, display_name="A")

    await cache.get("token", overtaken)
    await cache.get("token", overtaken)

    assert calls[0] == 2


async def test_losing_the_listening_connection_stops_remembering_at_once(
    settings: Settings,
) -> None:
    calls, look_up = _counting()
    cache = PrincipalCache(30.0)
    opened: list[asyncpg.Connection] = []

    async def connect() -> asyncpg.Connection:
        connection = await asyncpg.connect(settings.database_url)
        opened.append(connection)
        return connection

    cache.start(connect)
    try:
        await _until(lambda: cache.listening, 5.0)
        await cache.get("token", look_up)  # type: ignore[arg-type]
        await cache.get("token", look_up)  # type: ignore[arg-type]
        assert calls[0] == 1

        admin = await asyncpg.connect(settings.database_url)
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", opened[0].get_server_pid())
        finally:
            await admin.close()
        await _until(lambda: not cache.listening, 2.0)

        await cache.get("token", look_up)  # type: ignore[arg-type]
        assert calls[0] == 2
    finally:
        await cache.stop()
