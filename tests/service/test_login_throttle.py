"""Sign-in throttling: guesses slow down the guesser's address, never the account's owner."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar
from redis.asyncio import Redis

from booking.tables import User
from service.app.factory import app_resources, create_app
from service.kernel.addresses import parse_networks
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.factories import PASSWORD, make_user

WRONG = "guess-guess-guess"
TOKEN = "/api/v1/auth/token"


@pytest.fixture
async def app_with_resources(settings: Settings, redis: Redis) -> AsyncIterator[Litestar]:
    app = create_app(dataclasses.replace(settings, trusted_proxies=()))
    async with app_resources(settings)(app):
        yield app


def _from(app: Litestar, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver.local")


async def _sign_in(app: Litestar, address: str, email: str, password: str) -> httpx.Response:
    async with _from(app, address) as http:
        return await http.post(TOKEN, json={"email": email, "password": password})


async def test_ten_wrong_passwords_from_one_address_do_not_stop_the_owner_elsewhere(
    app_with_resources: Litestar, settings: Settings
) -> None:
    user = await make_user(Role.AGENT)
    for _ in range(settings.login_free_attempts):
        wrong = await _sign_in(app_with_resources, "203.0.113.66", user.email, WRONG)
        assert wrong.status_code == 401

    locked_out = await _sign_in(app_with_resources, "203.0.113.66", user.email, PASSWORD)
    owner = await _sign_in(app_with_resources, "198.51.100.7", user.email, PASSWORD)

    # The guessing address waits, even with the right password; the owner's address does not.
    assert locked_out.status_code == 429, locked_out.text
    assert locked_out.json()["type"] == "urn:tierslieux:problem:too-many-attempts"
    assert owner.status_code == 200, owner.text


async def test_unknown_emails_from_one_address_do_not_lock_another_users_sign_in(
    app_with_resources: Litestar,
) -> None:
    user = await make_user(Role.AGENT)
    answers = [
        (await _sign_in(app_with_resources, "203.0.113.66", f"nobody{i}@example.org", WRONG))
        for i in range(60)
    ]

    owner = await _sign_in(app_with_resources, "198.51.100.7", user.email, PASSWORD)

    assert {a.status_code for a in answers} <= {401, 429}
    assert owner.status_code == 200, owner.text


async def test_an_address_spraying_many_accounts_is_slowed_down_across_them(
    app_with_resources: Litestar, settings: Settings
) -> None:
    budget = settings.login_free_attempts * 10
    statuses = [
        (await _sign_in(app_with_resources, "203.0.113.66", f"n{i}@example.org", WRONG)).status_code
        for i in range(budget + 1)
    ]

    assert statuses[:budget] == [401] * budget
    assert statuses[budget] == 429


async def test_delays_grow_with_each_failure_past_the_free_ones(
    app_with_resources: Litestar, settings: Settings, redis: Redis
) -> None:
    user = await make_user(Role.AGENT)
    address = "203.0.113.66"
    waits = []
    for _ in range(settings.login_free_attempts):
        assert (await _sign_in(app_with_resources, address, user.email, WRONG)).status_code == 401
    for _ in range(4):
        refused = await _sign_in(app_with_resources, address, user.email, WRONG)
        assert refused.status_code == 429
        waits.append(int(refused.headers["retry-after"]))
        # Time passes: the wait is over, and the next guess fails once more.
        for key in await redis.keys("login-fail:pair:*:wait"):
            await redis.delete(key)
        assert (await _sign_in(app_with_resources, address, user.email, WRONG)).status_code == 401

    assert waits == sorted(waits)
    assert waits[0] <= 30
    assert waits[-1] >= 4 * waits[0], waits
    assert waits[-1] <= 15 * 60


async def test_a_success_clears_the_pair_but_not_the_address(
    app_with_resources: Litestar, settings: Settings, redis: Redis
) -> None:
    user = await make_user(Role.AGENT)
    for _ in range(settings.login_free_attempts - 1):
        await _sign_in(app_with_resources, "203.0.113.66", user.email, WRONG)

    assert (await _sign_in(app_with_resources, "203.0.113.66", user.email, PASSWORD)).is_success
    pairs = await redis.keys("login-fail:pair:*")
    address = await redis.get("login-fail:address:203.0.113.66")

    assert pairs == []
    assert int(address or 0) == settings.login_free_attempts - 1


async def test_the_pages_sign_in_shares_the_throttle(
    app_with_resources: Litestar, settings: Settings
) -> None:
    user = await make_user(Role.AGENT)
    for _ in range(settings.login_free_attempts):
        await _sign_in(app_with_resources, "203.0.113.66", user.email, WRONG)

    async with _from(app_with_resources, "203.0.113.66") as http:
        await http.get("/")
        page = await http.post(
            "/signin",
            data={
                "email": user.email,
                "password": PASSWORD,
                "_csrf_token": str(http.cookies["csrftoken"]),
            },
        )

    assert page.status_code == 429
    assert page.headers["content-type"].startswith("text/html")


async def test_an_inactive_account_counts_as_a_failure(app_with_resources: Litestar) -> None:
    user = await make_user(Role.AGENT)
    await User.update({User.active: False}).where(User.id == user.id)

    refused = await _sign_in(app_with_resources, "203.0.113.66", user.email, PASSWORD)

    assert refused.status_code == 401


async def _app_behind(settings: Settings, proxies: str) -> Litestar:
    return create_app(dataclasses.replace(settings, trusted_proxies=parse_networks(proxies)))


async def _guess_via_proxy(
    app: Litestar, peer: str, forwarded_for: str, email: str, password: str
) -> httpx.Response:
    async with _from(app, peer) as http:
        return await http.post(
            TOKEN,
            json={"email": email, "password": password},
            headers={"X-Forwarded-For": forwarded_for},
        )


async def test_x_forwarded_for_is_ignored_from_a_peer_that_is_not_a_trusted_proxy(
    settings: Settings, redis: Redis
) -> None:
    app = await _app_behind(settings, "10.0.0.0/8")
    user = await make_user(Role.AGENT)
    async with app_resources(settings)(app):
        # A guesser claims a new address on each try: the header is not believed.
        statuses = [
            (
                await _guess_via_proxy(app, "203.0.113.66", f"192.0.2.{i}", user.email, WRONG)
            ).status_code
            for i in range(settings.login_free_attempts + 1)
        ]
    assert statuses[-1] == 429, statuses
    assert await redis.exists("login-fail:address:203.0.113.66")


async def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(
    settings: Settings, redis: Redis
) -> None:
    app = await _app_behind(settings, "10.0.0.0/8")
    user = await make_user(Role.AGENT)
    async with app_resources(settings)(app):
        for _ in range(settings.login_free_attempts):
            await _guess_via_proxy(
                app, "10.0.0.2", "6.6.6.6, 203.0.113.66, 10.0.0.9", user.email, WRONG
            )
        guesser = await _guess_via_proxy(app, "10.0.0.2", "203.0.113.66", user.email, PASSWORD)
        owner = await _guess_via_proxy(app, "10.0.0.2", "198.51.100.7", user.email, PASSWORD)

    # Right-most address that is not a trusted proxy: what the client wrote left of it is ignored.
    assert await redis.exists("login-fail:address:203.0.113.66")
    assert not await redis.exists("login-fail:address:6.6.6.6")
    assert guesser.status_code == 429
    assert owner.status_code == 200, owner.text


async def test_a_throttle_that_cannot_be_reached_is_never_reported_as_a_wrong_password(
    app_with_resources: Litestar, settings: Settings
) -> None:
    user = await make_user(Role.AGENT)
    working = app_with_resources.state.redis
    # A Redis client whose server is not there (nothing listens on port 1).
    app_with_resources.state.redis = Redis.from_url(
        "redis://127.0.0.1:1/0", socket_connect_timeout=0.5
    )
    try:
        right = await _sign_in(app_with_resources, "198.51.100.7", user.email, PASSWORD)
        wrong = await _sign_in(app_with_resources, "198.51.100.7", user.email, WRONG)
    finally:
        await app_with_resources.state.redis.aclose()
        app_with_resources.state.redis = working

    # Not "wrong password" for the right one, nor a sign-in without the throttle.
    assert right.status_code >= 500, right.text
    assert wrong.status_code >= 500, wrong.text
