"""Idempotency-Key: a retry returns the first response, another body with the same key is refused."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest
from litestar import Litestar, post
from litestar.params import JSONBody

from booking.tables import Organisation
from service.app.factory import app_resources, create_app
from service.kernel.auth import allow
from service.kernel.idempotency import IdempotencyMiddleware
from service.kernel.identity import Role
from service.kernel.settings import Settings
from service.kernel.tables import IdempotencyRecord
from tests.factories import VALID_SIREN, auth, make_user


class NewOrganisation(msgspec.Struct):
    name: str


@post(
    "/api/v1/test-organisations",
    opt=allow(Role.NETWORK_ADMIN),
    middleware=[IdempotencyMiddleware],
)
async def create_organisation(data: JSONBody[NewOrganisation]) -> dict[str, str]:
    # Slow enough that concurrent retries overlap the first request.
    await asyncio.sleep(0.05)
    if data.name == "boom":
        raise RuntimeError("simulated crash")
    organisation = Organisation(
        name=data.name,
        siren=VALID_SIREN,
        kind="company",
        billing_address="x",
        billing_email="b@example.org",
    )
    await organisation.save()
    return {"id": str(organisation.id), "name": organisation.name}


@pytest.fixture
async def idem_client(settings: Settings, redis: object) -> AsyncIterator[httpx.AsyncClient]:
    app: Litestar = create_app(settings)
    app.register(create_organisation)
    async with app_resources(settings)(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield http


async def _admin_headers(settings: Settings, key: str | None) -> dict[str, str]:
    admin = await make_user(Role.NETWORK_ADMIN)
    headers = auth(settings, admin)
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


async def test_a_retry_returns_the_first_response_and_creates_nothing_more(
    idem_client: httpx.AsyncClient, settings: Settings
) -> None:
    headers = await _admin_headers(settings, str(uuid.uuid4()))

    first = await idem_client.post(
        "/api/v1/test-organisations", json={"name": "MEL"}, headers=headers
    )
    retry = await idem_client.post(
        "/api/v1/test-organisations", json={"name": "MEL"}, headers=headers
    )

    assert first.status_code == 201, first.text
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert await Organisation.count() == 1


async def test_the_same_key_with_another_body_is_refused(
    idem_client: httpx.AsyncClient, settings: Settings
) -> None:
    headers = await _admin_headers(settings, "key-1")
    await idem_client.post("/api/v1/test-organisations", json={"name": "MEL"}, headers=headers)

    other = await idem_client.post(
        "/api/v1/test-organisations", json={"name": "Roubaix"}, headers=headers
    )

    assert other.status_code == 422
    assert other.json()["type"] == "urn:tierslieux:problem:idempotency-key-reused"
    assert await Organisation.count() == 1


async def test_concurrent_retries_create_exactly_one_row(
    idem_client: httpx.AsyncClient, settings: Settings
) -> None:
    headers = await _admin_headers(settings, "race-key")

    responses = await asyncio.gather(
        *[
            idem_client.post("/api/v1/test-organisations", json={"name": "MEL"}, headers=headers)
            for _ in range(20)
        ]
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}, statuses
    for response in responses:
        if response.status_code == 409:
            assert response.json()["type"] == "urn:tierslieux:problem:idempotency-in-progress"
    assert await Organisation.count() == 1


async def test_without_a_key_each_post_runs(
    idem_client: httpx.AsyncClient, settings: Settings
) -> None:
    headers = await _admin_headers(settings, None)

    for _ in range(2):
        response = await idem_client.post(
            "/api/v1/test-organisations", json={"name": "MEL"}, headers=headers
        )
        assert response.status_code == 201

    assert await Organisation.count() == 2
    assert await IdempotencyRecord.count() == 0


async def test_a_server_error_releases_the_key_so_a_retry_runs_again(
    idem_client: httpx.AsyncClient, settings: Settings
) -> None:
    headers = await _admin_headers(settings, "crash-key")

    crashed = await idem_client.post(
        "/api/v1/test-organisations", json={"name": "boom"}, headers=headers
    )

    assert crashed.status_code == 500
    assert await IdempotencyRecord.count() == 0


async def test_keys_are_per_caller(idem_client: httpx.AsyncClient, settings: Settings) -> None:
    first = await _admin_headers(settings, "shared-key")
    second = await _admin_headers(settings, "shared-key")

    a = await idem_client.post("/api/v1/test-organisations", json={"name": "MEL"}, headers=first)
    b = await idem_client.post("/api/v1/test-organisations", json={"name": "MEL"}, headers=second)

    assert a.json()["id"] != b.json()["id"]
    assert await Organisation.count() == 2


async def test_an_overlong_key_is_refused(
    idem_client: httpx.AsyncClient, settings: Settings
) -> None:
    headers = await _admin_headers(settings, "k" * 201)

    response = await idem_client.post(
        "/api/v1/test-organisations", json={"name": "MEL"}, headers=headers
    )

    assert response.status_code == 422
    assert response.json()["field"] == "Idempotency-Key"
    assert await Organisation.count() == 0


# A handler whose first run fails with a server error after a pause, and whose later runs
# succeed: concurrent retries that arrive while the first one holds the key, and look again
# just after it released it, must still never run the handler twice.
_flaky_runs: list[str] = []


@post(
    "/api/v1/test-flaky-organisations",
    opt=allow(Role.NETWORK_ADMIN),
    middleware=[IdempotencyMiddleware],
)
async def create_flaky_organisation(data: JSONBody[NewOrganisation]) -> dict[str, str]:
    first = not _flaky_runs
    _flaky_runs.append(data.name)
    await asyncio.sleep(0.05)
    if first:
        raise RuntimeError("the first run crashes")
    organisation = Organisation(
        name=data.name,
        siren=VALID_SIREN,
        kind="company",
        billing_address="x",
        billing_email="b@example.org",
    )
    await organisation.save()
    return {"id": str(organisation.id), "name": organisation.name}


async def test_retries_racing_a_released_key_never_run_the_handler_twice(
    settings: Settings, redis: object
) -> None:
    _flaky_runs.clear()
    app: Litestar = create_app(settings)
    app.register(create_flaky_organisation)
    async with app_resources(settings)(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            headers = await _admin_headers(settings, "flaky-key")

            async def attempt(after: float) -> httpx.Response:
                await asyncio.sleep(after)
                return await http.post(
                    "/api/v1/test-flaky-organisations", json={"name": "MEL"}, headers=headers
                )

            # Attempts spread over the moment the first run crashes and releases the key.
            responses = await asyncio.gather(*[attempt(i * 0.001) for i in range(100)])

    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {201, 409, 500}, statuses
    assert statuses.count(500) == 1, statuses
    # Every run after the crash created an organisation: exactly one may have run.
    assert await Organisation.count() == len(_flaky_runs) - 1 <= 1, _flaky_runs


async def test_an_answer_about_the_callers_circumstances_is_not_stored(
    idem_client: httpx.AsyncClient, settings: Settings
) -> None:
    agent = await make_user(Role.AGENT)
    headers = {**auth(settings, agent), "Idempotency-Key": "forbidden-key"}

    refused = await idem_client.post(
        "/api/v1/test-organisations", json={"name": "MEL"}, headers=headers
    )

    assert refused.status_code == 403
    assert await IdempotencyRecord.count() == 0


async def test_an_answer_in_progress_says_when_to_retry(
    idem_client: httpx.AsyncClient, settings: Settings
) -> None:
    headers = await _admin_headers(settings, "slow-key")
    first = asyncio.create_task(
        idem_client.post("/api/v1/test-organisations", json={"name": "MEL"}, headers=headers)
    )
    await asyncio.sleep(0.02)

    second = await idem_client.post(
        "/api/v1/test-organisations", json={"name": "MEL"}, headers=headers
    )
    await first

    assert second.status_code == 409, second.text
    assert second.json()["type"] == "urn:tierslieux:problem:idempotency-in-progress"
    assert int(second.headers["retry-after"]) >= 1
