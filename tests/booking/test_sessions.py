"""Sessions end for real: sign-out, a new password, deactivation and a role change end tokens.

A token is dead on the API as soon as its session ends, whichever process ended it: the
state is in PostgreSQL, checked on every request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import jwt
import pytest
from argon2 import PasswordHasher

from booking.services import accounts
from booking.tables import EndedSession, User
from service.app.serving import Served, served
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.conftest import live_env
from tests.factories import PASSWORD, auth, make_organisation, make_user
from web.session import SESSION_COOKIE


async def _api_token(client: httpx.AsyncClient, user: User) -> str:
    response = await client.post(
        "/api/v1/auth/token", json={"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _page_session(client: httpx.AsyncClient, user: User) -> str:
    """Sign in through the pages' form; the session cookie's token."""
    await client.get("/")
    response = await client.post(
        "/signin",
        data={
            "email": user.email,
            "password": PASSWORD,
            "_csrf_token": str(client.cookies["csrftoken"]),
        },
    )
    assert response.status_code == 303, response.text
    return str(client.cookies[SESSION_COOKIE])


async def _me(client: httpx.AsyncClient, token: str) -> int:
    return (await client.get("/api/v1/me", headers=_bearer(token))).status_code


async def test_signing_out_of_the_pages_ends_the_token_on_the_api(
    client: httpx.AsyncClient,
) -> None:
    agent = await make_user(Role.AGENT)
    token = await _page_session(client, agent)
    assert await _me(client, token) == 200

    signed_out = await client.post(
        "/signout", data={"_csrf_token": str(client.cookies["csrftoken"])}
    )

    assert signed_out.status_code == 303
    refused = await client.get("/api/v1/me", headers=_bearer(token))
    assert refused.status_code == 401
    assert "session has ended" in refused.json()["detail"]
    assert await EndedSession.count() == 1


async def test_signing_out_ends_only_that_session(client: httpx.AsyncClient) -> None:
    agent = await make_user(Role.AGENT)
    phone = await _api_token(client, agent)
    laptop = await _page_session(client, agent)

    await client.post("/signout", data={"_csrf_token": str(client.cookies["csrftoken"])})

    assert await _me(client, laptop) == 401
    assert await _me(client, phone) == 200


async def test_a_new_password_ends_every_session(client: httpx.AsyncClient) -> None:
    agent = await make_user(Role.AGENT)
    tokens = [await _api_token(client, agent) for _ in range(2)]

    await accounts.set_password(agent.id, "another-long-password")

    assert [await _me(client, t) for t in tokens] == [401, 401]
    fresh = await client.post(
        "/api/v1/auth/token", json={"email": agent.email, "password": "another-long-password"}
    )
    assert await _me(client, fresh.json()["access_token"]) == 200


async def test_deactivation_ends_every_session_and_reactivation_revives_none(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    organisation = await make_organisation()
    admin = await make_user(Role.ORG_ADMIN, organisation=organisation)
    agent = await make_user(Role.AGENT, organisation=organisation)
    token = await _api_token(client, agent)
    base = f"/api/v1/organisations/{admin.organisation}/agents/{agent.id}"

    deactivated = await client.post(f"{base}/deactivate", headers=auth(settings, admin))
    reactivated = await client.post(f"{base}/reactivate", headers=auth(settings, admin))

    assert (deactivated.status_code, reactivated.status_code) == (200, 200)
    assert await _me(client, token) == 401
    assert await _me(client, await _api_token(client, agent)) == 200


async def test_a_role_change_ends_every_session_whoever_makes_it(
    client: httpx.AsyncClient,
) -> None:
    staff = await make_user(Role.VENUE_STAFF)
    token = await _api_token(client, staff)

    # As piccolo-admin or a SQL console would: the database itself ends the sessions.
    await User.update({User.role: Role.VENUE_ADMIN.value}).where(User.id == staff.id)

    assert await _me(client, token) == 401


async def test_ending_all_sessions_is_one_call(client: httpx.AsyncClient) -> None:
    agent = await make_user(Role.AGENT)
    token = await _api_token(client, agent)

    await accounts.end_sessions(agent.id)

    assert await _me(client, token) == 401


async def test_a_change_that_is_not_about_credentials_keeps_sessions(
    client: httpx.AsyncClient,
) -> None:
    agent = await make_user(Role.AGENT)
    token = await _api_token(client, agent)

    await User.update({User.display_name: "Camille", User.monthly_allowance_units: 4}).where(
        User.id == agent.id
    )

    assert await _me(client, token) == 200


async def test_a_sign_in_that_upgrades_the_password_hash_keeps_every_session(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    agent = await make_user(Role.AGENT)
    older = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1).hash(PASSWORD)
    await User.update({User.password_hash: older}).where(User.id == agent.id)

    # A session opened under the old hash (its change above raised the generation).
    agent = await User.objects().where(User.id == agent.id).first()
    earlier = auth(settings, agent)["Authorization"].removeprefix("Bearer ")

    token = await _api_token(client, agent)

    assert await _me(client, token) == 200
    # The same password re-hashed is no new credential: the other session goes on.
    assert await _me(client, earlier) == 200
    stored = await User.select(User.password_hash).where(User.id == agent.id).first()
    assert stored is not None
    assert stored["password_hash"] != older


async def test_a_token_from_before_sessions_is_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    agent = await make_user(Role.AGENT)
    now = int(time.time())
    legacy = jwt.encode(
        {"sub": str(agent.id), "role": "agent", "iat": now, "exp": now + 600, "jti": "x"},
        settings.secret_key,
        algorithm="HS256",
    )

    assert await _me(client, legacy) == 401


@pytest.fixture
def two_api_processes(settings: Settings, redis: object) -> Iterator[tuple[Served, Served]]:
    env = live_env(settings)
    with served(env, timeout=60) as first, served(env, timeout=60) as second:
        yield first, second


async def _refused_within(http: httpx.AsyncClient, token: str, seconds: float) -> float:
    """Seconds until `token` is refused (401), asking every 50 ms; fails after `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if (await http.get("/api/v1/me", headers=_bearer(token))).status_code == 401:
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"the token was still accepted after {seconds} s")


async def test_a_session_ended_on_one_process_is_refused_by_the_other_within_a_second(
    two_api_processes: tuple[Served, Served],
) -> None:
    first, second = two_api_processes
    agent = await make_user(Role.AGENT)
    async with (
        httpx.AsyncClient(base_url=first.url, timeout=30) as on_first,
        httpx.AsyncClient(base_url=second.url, timeout=30) as on_second,
    ):
        page_token = await _page_session(on_first, agent)
        api_token = await _api_token(on_first, agent)
        assert await _me(on_second, page_token) == 200

        # Sign out of the pages on the first process: the second refuses that session.
        await on_first.post("/signout", data={"_csrf_token": str(on_first.cookies["csrftoken"])})
        await _refused_within(on_second, page_token, 1.0)
        assert await _me(on_second, api_token) == 200

        # A new password, whichever process set it: the second refuses every earlier session.
        await accounts.set_password(agent.id, "another-long-password")
        await _refused_within(on_second, api_token, 1.0)
