"""Sign-in, tokens, the current user, and throttling of guesses."""

from __future__ import annotations

from httpx import AsyncClient

from booking.tables import User
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.factories import PASSWORD, auth, make_user

PROBLEM = "application/problem+json"


async def test_sign_in_returns_a_bearer_token_that_identifies_the_user(
    client: AsyncClient, settings: Settings
) -> None:
    user = await make_user(Role.AGENT, email="Alice.Martin@Example.ORG")

    response = await client.post(
        "/api/v1/auth/token", json={"email": "alice.martin@example.org", "password": PASSWORD}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200, me.text
    assert me.json() == {
        "id": str(user.id),
        "email": "Alice.Martin@example.org",
        "display_name": user.display_name,
        "role": "agent",
        "venue_id": None,
        "organisation_id": str(user.organisation),
    }


async def test_wrong_password_and_unknown_email_get_the_same_problem(client: AsyncClient) -> None:
    await make_user(Role.AGENT, email="bob@example.org")

    wrong = await client.post(
        "/api/v1/auth/token", json={"email": "bob@example.org", "password": "not-the-password"}
    )
    unknown = await client.post(
        "/api/v1/auth/token", json={"email": "nobody@example.org", "password": "not-the-password"}
    )

    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["type"] == "urn:tierslieux:problem:invalid-credentials"
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_inactive_user_cannot_sign_in_nor_use_an_old_token(
    client: AsyncClient, settings: Settings
) -> None:
    user = await make_user(Role.AGENT)
    headers = auth(settings, user)
    await User.update({User.active: False}).where(User.id == user.id)

    sign_in = await client.post(
        "/api/v1/auth/token", json={"email": user.email, "password": PASSWORD}
    )
    me = await client.get("/api/v1/me", headers=headers)

    assert sign_in.status_code == 401
    assert me.status_code == 401
    assert me.json()["type"] == "urn:tierslieux:problem:unauthenticated"


async def test_bad_tokens_are_refused(client: AsyncClient, settings: Settings) -> None:
    for header in ("Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer tldev_unknown"):
        response = await client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401, (header, response.text)
        assert response.json()["type"] == "urn:tierslieux:problem:unauthenticated"


async def test_sign_in_body_is_validated(client: AsyncClient) -> None:
    response = await client.post("/api/v1/auth/token", json={"email": "a@b.fr"})

    assert response.status_code == 422
    body = response.json()
    assert body["type"] == "urn:tierslieux:problem:validation-error"
    assert body["field"] == "password"
