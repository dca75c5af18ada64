"""Hostile input is the client's mistake: a 4xx problem on the API, an error page on the pages.

Each case here gave a 500 before: JSON nested 1,000 deep, a body that is not UTF-8, year 9999
in a period or a month, a CSV with a 500,000-character value. Dates anywhere are bounded to
2000-01-01..2100-12-31 by one rule (service/kernel/dates.py).
"""

from __future__ import annotations

import types
import typing
import uuid
from datetime import date, datetime
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar

from booking.tables import Closure, OrganisationRate, User, VenueRate
from passes.tables import Scan
from service.kernel.dates import DatedInput
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.factories import (
    auth,
    make_door_device,
    make_organisation,
    make_pass,
    make_user,
    make_venue,
    make_workspace,
)
from tests.web.test_pages import csrf_token, post_form, sign_in

PROBLEM = "urn:tierslieux:problem:"
DEEP_ARRAY = b"[" * 1000 + b"]" * 1000
DEEP_OBJECT = b'{"a":' * 1000 + b"1" + b"}" * 1000
NOT_UTF8 = b'{"email": "\xff\xfe@example.org", "password": "x"}'


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == PROBLEM + slug, body
    return body


def assert_error_page(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html"), response.headers
    assert "<html" in response.text
    return response.text


# Bodies


@pytest.mark.parametrize(
    "body", [DEEP_ARRAY, DEEP_OBJECT, NOT_UTF8], ids=["array", "object", "utf8"]
)
async def test_a_body_too_deep_or_not_utf8_is_a_400_problem(
    client: httpx.AsyncClient, settings: Settings, body: bytes
) -> None:
    admin = auth(settings, await make_user(Role.NETWORK_ADMIN))
    json = {"content-type": "application/json"}
    public = await client.post("/api/v1/auth/token", content=body, headers=json)
    guarded = await client.post("/api/v1/organisations", content=body, headers={**admin, **json})
    for response in (public, guarded):
        problem = assert_problem(response, 400, "bad-request")
        assert problem["detail"] in (
            "The JSON body is nested too deeply.",
            "The body is not valid UTF-8 text.",
        )
    french = await client.post(
        "/api/v1/auth/token", content=body, headers={**json, "accept-language": "fr"}
    )
    assert "JSON" in french.json()["detail"] or "UTF-8" in french.json()["detail"]
    assert french.json()["detail"] != public.json()["detail"]


async def test_the_same_bodies_through_a_live_server(live_server: str, settings: Settings) -> None:
    """Across a real socket and uvicorn's own body handling, not only the app in-process."""
    admin = auth(settings, await make_user(Role.NETWORK_ADMIN))
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as http:
        for body in (DEEP_ARRAY, DEEP_OBJECT, NOT_UTF8):
            response = await http.post(
                "/api/v1/organisations",
                content=body,
                headers={**admin, "content-type": "application/json"},
            )
            assert_problem(response, 400, "bad-request")
        still = await http.get("/healthz")
    assert still.status_code == 200


async def test_the_scanner_page_route_answers_deep_json_as_a_problem(
    client: httpx.AsyncClient,
) -> None:
    """The scanner's script posts JSON to a page route and reads problem+json back."""
    staff = await make_user(Role.VENUE_STAFF)
    await sign_in(client, staff)
    response = await client.post(
        "/scan/scans",
        content=DEEP_OBJECT,
        headers={"content-type": "application/json", "x-csrftoken": await csrf_token(client)},
    )
    assert_problem(response, 400, "bad-request")


# Months and periods

PERIOD_ROUTES = [
    ("GET", "/api/v1/billing/periods/{p}"),
    ("GET", "/api/v1/billing/periods/{p}/summary"),
    ("GET", "/api/v1/billing/periods/{p}/fec"),
    ("GET", "/api/v1/billing/periods/{p}/payouts"),
    ("POST", "/api/v1/billing/periods/{p}/payouts"),
    ("POST", "/api/v1/billing/periods/{p}/payouts/sepa"),
    ("POST", "/api/v1/billing/periods/{p}/close"),
    ("GET", "/api/v1/invoices?period={p}"),
    ("GET", "/api/v1/statements?period={p}"),
    ("GET", "/api/v1/credit-notes?period={p}"),
]


@pytest.mark.parametrize("period", ["9999-12", "1999-12", "2101-01", "0001-01"])
async def test_a_period_outside_2000_2100_is_refused_on_every_billing_route(
    client: httpx.AsyncClient, settings: Settings, period: str
) -> None:
    admin = auth(settings, await make_user(Role.NETWORK_ADMIN))
    for method, route in PERIOD_ROUTES:
        response = await client.request(method, route.format(p=period), headers=admin)
        problem = assert_problem(response, 422, "invalid-month")
        assert problem["field"] == "period", route
        assert "2000-01" in problem["detail"]


async def test_a_month_filter_in_year_9999_is_refused_in_french_too(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    organisation = await make_organisation()
    admin = auth(settings, await make_user(Role.ORG_ADMIN, organisation=organisation))
    url = f"/api/v1/organisations/{organisation.id}/bookings?month=9999-12"
    english = await client.get(url, headers=admin)
    french = await client.get(url, headers={**admin, "accept-language": "fr-FR"})
    assert assert_problem(english, 422, "invalid-month")["field"] == "month"
    assert assert_problem(french, 422, "invalid-month")["detail"] == (
        "Un mois s'écrit AAAA-MM, de 2000-01 à 2100-12."
    )


async def test_pages_with_a_month_in_year_9999_answer_an_html_page(
    client: httpx.AsyncClient,
) -> None:
    organisation = await make_organisation()
    pages = [
        (
            await make_user(Role.NETWORK_ADMIN),
            [
                "/network?month=9999-12",
                "/network/close?month=9999-12",
                "/network/invoices?month=9999-12",
                "/network/payouts?month=9999-12",
            ],
        ),
        (
            await make_user(Role.ORG_ADMIN, organisation=organisation),
            [
                "/organisation/usage?month=9999-12",
                "/organisation/invoices?period=9999-12",
            ],
        ),
        (await make_user(Role.VENUE_ADMIN), ["/venue/statements?period=9999-12"]),
    ]
    for user, urls in pages:
        client.cookies.clear()
        await sign_in(client, user)
        for url in urls:
            response = await client.get(url)
            assert response.status_code in (200, 422), (url, response.text[:300])
            assert response.headers["content-type"].startswith("text/html"), url


async def test_the_network_summary_csv_of_year_9999_is_an_error_page(
    client: httpx.AsyncClient,
) -> None:
    await sign_in(client, await make_user(Role.NETWORK_ADMIN))
    response = await client.get("/network/close/9999-12/summary.csv")
    assert_error_page(response, 404)  # as for any period that does not exist


# Dates in bodies, queries and forms


@pytest.mark.parametrize("day", ["9999-12-31", "1999-12-31", "2101-01-01", "0001-01-01"])
async def test_dates_outside_2000_2100_are_refused_with_the_field(
    client: httpx.AsyncClient, settings: Settings, day: str
) -> None:
    venue = await make_venue()
    desk = await make_workspace(venue)
    organisation = await make_organisation()
    admin = auth(settings, await make_user(Role.NETWORK_ADMIN))
    agent_user = await make_user(Role.AGENT, organisation=organisation)
    agent = auth(settings, agent_user)
    _, device = await make_door_device(venue)
    token = (await make_pass(settings, agent_user)).token
    scanned_at = f"{day}T10:00:00+00:00"
    rate = {"workspace_kind": "desk", "unit": "day", "amount_cents": 100, "vat_rate": "0.2"}
    cases: list[tuple[str, dict[str, str], dict[str, Any], str]] = [
        (
            "/api/v1/bookings",
            agent,
            {"workspace_id": str(desk.id), "date": day, "slot": "day"},
            "date",
        ),
        (
            "/api/v1/bookings",
            agent,
            {"workspace_id": str(desk.id), "start": f"{day}T10:00:00", "end": f"{day}T11:00:00"},
            "start",
        ),
        (
            f"/api/v1/venues/{venue.id}/closures",
            admin,
            {"starts_on": "2030-01-01", "ends_on": day, "reason": "Travaux"},
            "ends_on",
        ),
        (
            f"/api/v1/venues/{venue.id}/rates",
            admin,
            {**rate, "effective_from": day},
            "effective_from",
        ),
        ("/api/v1/rates/organisations", admin, {**rate, "effective_from": day}, "effective_from"),
        (
            "/api/v1/booking-series",
            agent,
            {
                "workspace_id": str(desk.id),
                "rrule": "FREQ=WEEKLY;COUNT=2",
                "dtstart": day,
                "slot": "day",
            },
            "dtstart",
        ),
        (
            f"/api/v1/venues/{venue.id}/scans",
            device,
            {
                "scan_id": str(uuid.uuid4()),
                "token": token,
                "scanned_at": scanned_at,
                "direction": "in",
            },
            "scanned_at",
        ),
        (
            f"/api/v1/venues/{venue.id}/scans:batch",
            device,
            {
                "scans": [
                    {
                        "scan_id": str(uuid.uuid4()),
                        "token": token,
                        "scanned_at": scanned_at,
                        "direction": "in",
                        "local_verdict": {"admitted": True},
                    }
                ]
            },
            "scanned_at",
        ),
    ]
    for url, headers, body, field in cases:
        response = await client.post(url, json=body, headers=headers)
        problem = assert_problem(response, 422, "date-out-of-range")
        assert problem["field"] == field, (url, problem)
        assert "2000-01-01" in problem["detail"]
        assert "2100-12-31" in problem["detail"]
    for url in (
        f"/api/v1/venues/{venue.id}/arrivals?date={day}",
        f"/api/v1/availability?date={day}&slot=day",
    ):
        problem = assert_problem(await client.get(url, headers=admin), 422, "date-out-of-range")
        assert problem["field"] == "date"
    assert await Closure.count() == 0
    assert await VenueRate.count() == 0
    assert await OrganisationRate.count() == 0
    assert await Scan.count() == 0


def _structs(annotation: Any) -> list[type[msgspec.Struct]]:
    """The msgspec Structs an annotation names, through Annotated, unions and lists."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _structs(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, tuple, set):
        return [s for arg in typing.get_args(annotation) for s in _structs(arg)]
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return [annotation]
    return []


def _holds_a_date(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is not None:
        return any(_holds_a_date(arg) for arg in typing.get_args(annotation))
    return isinstance(annotation, type) and issubclass(annotation, date | datetime)


def test_every_input_struct_with_a_date_checks_its_range(app: Litestar) -> None:
    """Walks every route's body type, and the structs inside it: a new date field is covered."""
    seen: set[type[msgspec.Struct]] = set()
    pending = [
        struct
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if "data" in handler.parsed_fn_signature.parameters
        for struct in _structs(handler.parsed_fn_signature.parameters["data"].annotation)
    ]
    unchecked = []
    while pending:
        struct = pending.pop()
        if struct in seen:
            continue
        seen.add(struct)
        hints = typing.get_type_hints(struct, include_extras=True)
        if any(_holds_a_date(hint) for hint in hints.values()) and not issubclass(
            struct, DatedInput
        ):
            unchecked.append(struct.__qualname__)
        pending += [s for hint in hints.values() for s in _structs(hint)]
    assert {"NewBooking", "NewClosure", "NewScan", "OfflineScan"} <= {s.__name__ for s in seen}
    assert not unchecked, f"input structs with a date not deriving from DatedInput: {unchecked}"


async def test_page_forms_refuse_dates_outside_2000_2100_beside_the_field(
    client: httpx.AsyncClient,
) -> None:
    venue = await make_venue()
    await sign_in(client, await make_user(Role.VENUE_ADMIN, venue=venue))
    closure = await post_form(
        client,
        "/venue/closures",
        {"starts_on": "9999-12-30", "ends_on": "9999-12-31", "reason": "Travaux"},
    )
    assert closure.status_code == 422
    assert 'id="starts_on-error"' in closure.text
    assert "Les dates vont du 2000-01-01 au 2100-12-31." in closure.text
    client.cookies.clear()
    await sign_in(client, await make_user(Role.NETWORK_ADMIN))
    rate = await post_form(
        client,
        "/network/rates",
        {
            "owner": "default",
            "workspace_kind": "desk",
            "unit": "day",
            "amount": "10",
            "vat": "20",
            "effective_from": "9999-01-01",
        },
    )
    assert rate.status_code == 422
    assert "Les dates vont du 2000-01-01 au 2100-12-31." in rate.text
    client.cookies.clear()
    await sign_in(client, await make_user(Role.AGENT))
    find = await client.get("/agent?date=9999-12-31&slot=day&kind=desk")
    assert find.status_code in (200, 422)
    assert "Les dates vont du 2000-01-01 au 2100-12-31." in find.text
    booked = await post_form(
        client,
        "/agent/bookings",
        {
            "workspace_id": str((await make_workspace(venue)).id),
            "date": "9999-12-31",
            "slot": "day",
        },
    )
    assert booked.status_code == 422
    assert booked.headers["content-type"].startswith("text/html")
    assert await Closure.count() == 0
    assert await VenueRate.count() == 0
    assert await OrganisationRate.count() == 0


# CSV uploads

LONG_VALUE = "x" * 500_000


async def test_an_agent_csv_with_a_huge_value_is_refused_on_the_api(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    organisation = await make_organisation()
    admin = auth(settings, await make_user(Role.ORG_ADMIN, organisation=organisation))
    url = f"/api/v1/organisations/{organisation.id}/agents/import"
    huge = f"email,display_name\na@example.org,{LONG_VALUE}\n".encode()
    long_but_allowed = f"email,display_name\na@example.org,{'x' * 100_000}\n".encode()
    ragged = b"email,display_name\na@example.org,Ann,extra,values\n"
    too_large = b"email,display_name\n" + b"a@example.org,Ann\n" * 70_000
    refused = await client.post(url, content=huge, headers={**admin, "content-type": "text/csv"})
    also = await client.post(
        url, content=long_but_allowed, headers={**admin, "content-type": "text/csv"}
    )
    odd = await client.post(url, content=ragged, headers={**admin, "content-type": "text/csv"})
    big = await client.post(url, content=too_large, headers={**admin, "content-type": "text/csv"})
    problem = assert_problem(refused, 422, "invalid-value")
    assert problem["field"] == "file"
    assert "1000" in problem["detail"]
    assert assert_problem(also, 422, "invalid-value")["detail"] == problem["detail"]
    assert odd.status_code == 200, odd.text  # values beyond the columns are dropped
    assert [c["email"] for c in odd.json()["created"]] == ["a@example.org"]
    assert_problem(big, 413, "payload-too-large")
    assert await User.count().where(User.role == Role.AGENT.value) == 1


async def test_an_agent_csv_with_a_huge_value_is_refused_on_the_page(
    client: httpx.AsyncClient,
) -> None:
    organisation = await make_organisation()
    await sign_in(client, await make_user(Role.ORG_ADMIN, organisation=organisation))
    token = await csrf_token(client)
    huge = f"email,display_name\na@example.org,{LONG_VALUE}\n".encode()
    refused = await client.post(
        "/organisation/agents/import",
        files={"file": ("agents.csv", huge, "text/csv")},
        data={"_csrf_token": token},
    )
    page = assert_error_page(refused, 422) if refused.status_code != 200 else refused.text
    assert "1000" in page
    too_large = b"email,display_name\n" + b"a@example.org,Ann\n" * 70_000
    big = await client.post(
        "/organisation/agents/import",
        files={"file": ("agents.csv", too_large, "text/csv")},
        data={"_csrf_token": token},
    )
    assert "trop volumineux" in assert_error_page(big, 413)
    assert await User.count().where(User.role == Role.AGENT.value) == 0


async def test_a_bank_csv_that_is_not_utf8_or_has_a_huge_value_is_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    admin = auth(settings, await make_user(Role.NETWORK_ADMIN))
    url = "/api/v1/billing/bank-statements"
    latin1 = "date;amount;reference;label\n2026-11-18;12,00;R1;Café\n".encode("latin-1")
    huge = f"date;amount;reference;label\n2026-11-18;12,00;R1;{LONG_VALUE}\n".encode()
    far = b"date;amount;reference;label\n9999-11-18;12,00;R1;Far\n"
    for body, slug in (
        (latin1, "invalid-value"),
        (huge, "invalid-value"),
        (far, "date-out-of-range"),
    ):
        response = await client.post(
            url, content=body, headers={**admin, "content-type": "text/csv"}
        )
        assert_problem(response, 422, slug)
