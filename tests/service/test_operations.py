"""Health, readiness, metrics, request ids and the OpenAPI document."""

from __future__ import annotations

import httpx


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    health = await client.get("/healthz")
    ready = await client.get("/readyz")

    assert health.status_code == 200
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "checks": {"postgresql": "ok", "redis": "ok"}}


async def test_every_response_carries_a_request_id_and_keeps_a_sane_incoming_one(
    client: httpx.AsyncClient,
) -> None:
    fresh = await client.get("/healthz")
    kept = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})

    assert len(fresh.headers["x-request-id"]) == 32
    assert kept.headers["x-request-id"] == "abc-123"


async def test_metrics_are_exposed_for_prometheus(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")

    response = await client.get("/metrics")

    assert response.status_code == 200
    assert "tierslieux_requests_total" in response.text


async def test_openapi_document_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/schema/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "Pass Tiers-Lieux API"
    assert "/api/v1/auth/token" in document["paths"]


async def test_unknown_route_is_a_problem_not_a_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "urn:tierslieux:problem:not-found"


async def test_malformed_json_is_a_400_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/token", content=b"{not json", headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["type"] == "urn:tierslieux:problem:bad-request"


def test_feed_secrets_stay_out_of_the_access_log() -> None:
    from service.kernel.observability import _loggable

    assert _loggable("/calendars/s3cr3t-token.ics") == "/calendars/***"
    assert (
        _loggable("/calendars/workspaces/abc/freebusy.ics")
        == "/calendars/workspaces/abc/freebusy.ics"
    )
    assert _loggable("/api/v1/bookings") == "/api/v1/bookings"
