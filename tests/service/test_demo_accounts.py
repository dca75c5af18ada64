"""Demo accounts (@demo.test, published password) sign in on a demo instance only."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from redis.asyncio import Redis

from service.app.factory import app_resources, create_app
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.factories import make_user

DEMO_PASSWORD = "demo-password"


async def test_a_demo_account_cannot_sign_in_outside_demo_mode(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    assert settings.mode == "test"
    await make_user(Role.NETWORK_ADMIN, email="reseau@demo.test", password=DEMO_PASSWORD)

    response = await client.post(
        "/api/v1/auth/token", json={"email": "Reseau@DEMO.test", "password": DEMO_PASSWORD}
    )

    assert response.status_code == 401, response.text
    problem = response.json()
    assert problem["type"] == "urn:tierslieux:problem:invalid-credentials"
    assert "demo" in problem["detail"]


@asynccontextmanager
async def demo_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(dataclasses.replace(settings, mode="demo"))
    async with app_resources(app.state.settings)(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://demo.local") as http:
            yield http


async def test_a_demo_account_signs_in_in_demo_mode(settings: Settings, redis: Redis) -> None:
    user = await make_user(Role.NETWORK_ADMIN, email="reseau@demo.test", password=DEMO_PASSWORD)

    async with demo_client(settings) as client:
        response = await client.post(
            "/api/v1/auth/token", json={"email": "reseau@demo.test", "password": DEMO_PASSWORD}
        )
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200, me.text
        assert me.json()["id"] == str(user.id)
        assert me.json()["role"] == "network_admin"


async def test_demo_mode_still_checks_the_password(settings: Settings, redis: Redis) -> None:
    await make_user(Role.AGENT, email="agent@demo.test", password=DEMO_PASSWORD)

    async with demo_client(settings) as client:
        response = await client.post(
            "/api/v1/auth/token", json={"email": "agent@demo.test", "password": "wrong-password"}
        )
        assert response.status_code == 401, response.text
        assert response.json()["type"] == "urn:tierslieux:problem:invalid-credentials"
