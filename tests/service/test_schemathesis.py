"""Property-based run of schemathesis over the OpenAPI document against a real server.

It grows with every endpoint: no 5xx, and every response conforms to the schema.
"""

from __future__ import annotations

import asyncio
import re
import sys
import uuid
from pathlib import Path

import httpx
from litestar import Litestar
from litestar.enums import RequestEncodingType

from booking.tables import User
from service.kernel.identity import Role
from service.kernel.problems import PROBLEM_JSON
from service.kernel.settings import Settings
from tests.factories import PASSWORD, auth, make_organisation, make_user, make_venue


async def test_no_server_error_and_no_response_breaking_the_schema(
    live_server: str, settings: Settings, tmp_path: Path
) -> None:
    venue = await make_venue()
    organisation = await make_organisation()
    await make_user(Role.AGENT, organisation=organisation)
    admin = await make_user(Role.NETWORK_ADMIN)
    headers = auth(settings, admin)
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{live_server}/schema/openapi.json",
        "--checks",
        "not_a_server_error,response_schema_conformance,content_type_conformance",
        "--max-examples",
        "25",
        "--seed",
        "20261124",
        "--workers",
        "1",
        "--phases",
        "examples,coverage,fuzzing",
        "--exclude-path-regex",
        "^/metrics",
        "-H",
        f"Authorization: {headers['Authorization']}",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    stdout, _ = await asyncio.wait_for(process.communicate(), timeout=900)
    output = stdout.decode(errors="replace")[-16000:]
    assert process.returncode == 0, f"schemathesis found problems (venue {venue.id}):\n{output}"


# Hostile bodies on every route that reads one: the route table is walked, so a new route
# cannot be left out.

DEEP_JSON = b'{"a":' * 1000 + b"1" + b"}" * 1000
NOT_UTF8_JSON = b'{"name": "\xff\xfe\xfa"}'
NOT_UTF8_FORM = b"email=\xff\xfe%40example.org&password=\xfa&reason=\xff"


def _body_routes(app: Litestar) -> list[tuple[str, str, RequestEncodingType]]:
    routes = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is None:
                continue
            media = getattr(data.kwarg_definition, "media_type", RequestEncodingType.JSON)
            path = re.sub(r"\{[^}:]+:uuid\}", lambda _: str(uuid.uuid4()), route.path)
            path = re.sub(r"\{[^}]+\}", "2026-01", path)
            routes += [(method, path, media) for method in sorted(handler.http_methods)]
    return routes


async def _page_session(http: httpx.AsyncClient, user: User) -> str:
    await http.get("/")
    token = str(http.cookies["csrftoken"])
    signed = await http.post(
        "/signin", data={"email": user.email, "password": PASSWORD, "_csrf_token": token}
    )
    assert signed.status_code == 303, signed.text
    return str(http.cookies["csrftoken"])


async def test_every_json_route_refuses_deep_and_non_utf8_bodies_with_a_4xx_problem(
    live_server: str, settings: Settings, app: Litestar
) -> None:
    venue = await make_venue()
    admin = auth(settings, await make_user(Role.NETWORK_ADMIN))
    staff = await make_user(Role.VENUE_STAFF, venue=venue)
    routes = _body_routes(app)
    json_routes = [(m, p) for m, p, media in routes if media == RequestEncodingType.JSON]
    schema = app.openapi_schema.to_schema()
    documented = {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    }
    assert len(documented) >= 25, documented  # the document's JSON operations were found
    walked = {(m, re.sub(r"/[0-9a-f-]{36}", "/{x}", p)) for m, p in json_routes}
    assert {(m, re.sub(r"\{[^}]+\}", "{x}", p)) for m, p in documented} <= walked
    assert any(p.startswith("/scan/") for _, p in json_routes)  # the pages' JSON routes too
    answers: list[str] = []
    bad_request = 0
    async with httpx.AsyncClient(base_url=live_server, timeout=20) as pages:
        csrf = await _page_session(pages, staff)
        async with httpx.AsyncClient(base_url=live_server, timeout=20) as api:
            for method, path in json_routes:
                client, headers = (api, admin) if path.startswith("/api/") else (pages, {})
                for body in (DEEP_JSON, NOT_UTF8_JSON):
                    response = await client.request(
                        method,
                        path,
                        content=body,
                        headers={
                            **headers,
                            "content-type": "application/json",
                            "x-csrftoken": csrf,
                        },
                    )
                    kind = response.headers.get("content-type", "")
                    if not (400 <= response.status_code < 500 and kind == PROBLEM_JSON):
                        answers.append(f"{method} {path}: {response.status_code} {kind}")
                    bad_request += response.status_code == 400
            for method, path, media in routes:
                if media != RequestEncodingType.URL_ENCODED:
                    continue
                response = await pages.request(
                    method,
                    path,
                    content=NOT_UTF8_FORM + f"&_csrf_token={csrf}".encode(),
                    headers={"content-type": "application/x-www-form-urlencoded"},
                )
                if response.status_code >= 500:
                    answers.append(f"{method} {path} (form): {response.status_code}")
    assert not answers, "\n".join(answers)
    # Most routes read the body before any lookup: the 400 is the body's, not a 403 or 404.
    assert bad_request >= len(json_routes), (bad_request, len(json_routes))
