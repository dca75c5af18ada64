"""`GET /api/v1/audit`: network admins read the trail, filtered, paginated and as CSV."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from service.kernel import audit
from service.kernel.identity import Principal, Role
from service.kernel.settings import Settings
from service.kernel.tables import AuditEntry
from tests.factories import auth, make_user, make_venue


@pytest.fixture
async def network(settings: Settings) -> dict[str, str]:
    return auth(settings, await make_user(Role.NETWORK_ADMIN))


async def test_acts_are_listed_newest_first_and_filtered(
    client: httpx.AsyncClient, settings: Settings, network: dict[str, str]
) -> None:
    venue = await make_venue(status="applied")
    admin = await make_user(Role.NETWORK_ADMIN)
    approved = await client.post(
        f"/api/v1/venues/{venue.id}/status",
        json={"status": "approved"},
        headers=auth(settings, admin),
    )
    assert approved.status_code == 200, approved.text
    await audit.record(audit.SYSTEM, "period.close", "billing_period", "2026-10")

    everything = await client.get("/api/v1/audit", headers=network)
    by_actor = await client.get(f"/api/v1/audit?actor={admin.id}", headers=network)
    by_object = await client.get(
        f"/api/v1/audit?object_type=venue&object_id={venue.id}", headers=network
    )
    by_action = await client.get("/api/v1/audit?action=venue.", headers=network)
    system = await client.get("/api/v1/audit?actor_kind=system", headers=network)
    paged = await client.get("/api/v1/audit?limit=1&offset=1", headers=network)

    assert everything.status_code == 200, everything.text
    body = everything.json()
    assert body["total"] == 2
    assert [e["action"] for e in body["items"]] == ["period.close", "venue.approve"]
    entry = body["items"][1]
    assert (entry["actor_kind"], entry["actor"], entry["actor_role"]) == (
        "person",
        str(admin.id),
        "network_admin",
    )
    assert (entry["object_type"], entry["object_id"]) == ("venue", str(venue.id))
    assert entry["changes"] == {"status": ["applied", "approved"]}
    assert entry["request_id"]
    assert [e["action"] for e in by_actor.json()["items"]] == ["venue.approve"]
    assert [e["action"] for e in by_object.json()["items"]] == ["venue.approve"]
    assert [e["action"] for e in by_action.json()["items"]] == ["venue.approve"]
    assert [e["action"] for e in system.json()["items"]] == ["period.close"]
    assert paged.json() == {**body, "items": body["items"][1:], "limit": 1, "offset": 1}


async def test_dates_are_whole_days_of_paris(
    client: httpx.AsyncClient, network: dict[str, str], database_url: str
) -> None:
    # 2026-11-30 23:30 UTC is already 1 December in Paris.
    await AuditEntry.insert(
        AuditEntry(
            at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC),
            actor_kind="system",
            action="period.close",
            object_type="billing_period",
            object_id="late",
        )
    )

    december = await client.get("/api/v1/audit?from=2026-12-01&to=2026-12-01", headers=network)
    november = await client.get("/api/v1/audit?from=2026-11-30&to=2026-11-30", headers=network)

    assert [e["object_id"] for e in december.json()["items"]] == ["late"]
    assert november.json()["items"] == []


async def test_the_csv_holds_every_matching_row_through_the_shared_writer(
    client: httpx.AsyncClient, network: dict[str, str], database_url: str
) -> None:
    await audit.record(
        Principal(Role.NETWORK_ADMIN, user_id=uuid.uuid4()),
        "venue.update",
        "venue",
        "v1",
        before={"name": "Le Lieu"},
        after={"name": "=HYPERLINK(1)"},
    )
    for n in range(3):
        await audit.record(audit.SYSTEM, "period.close", "billing_period", f"2026-0{n + 1}")

    response = await client.get("/api/v1/audit?format=csv&limit=1", headers=network)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:6] == ["id", "at", "actor_kind", "actor", "actor_role", "action"]
    assert len(rows) == 5  # the header and every row, not one page
    assert rows[-1][5] == "venue.update"
    assert '"=HYPERLINK(1)"' in rows[-1][-1]


async def test_only_network_admins_read_the_trail(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    assert (await client.get("/api/v1/audit")).status_code == 401
    for role in (Role.VENUE_ADMIN, Role.ORG_ADMIN, Role.AGENT, Role.VENUE_STAFF):
        response = await client.get("/api/v1/audit", headers=auth(settings, await make_user(role)))
        assert response.status_code == 403, role


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("actor=someone", "actor"),
        ("actor_kind=robot", "actor_kind"),
        ("from=2026-13-01", "from"),
        ("from=1999-12-31", "from"),
        ("to=2101-01-01", "to"),
        ("from=2026-12-02&to=2026-12-01", "to"),
        ("format=xlsx", "format"),
        ("limit=0", "limit"),
        ("action=" + "x" * 81, "action"),
        ("object_type=" + "x" * 41, "object_type"),
        ("from=12/01/2026", "from"),
    ],
)
async def test_bad_filters_are_refused_with_their_field(
    client: httpx.AsyncClient, network: dict[str, str], query: str, field: str
) -> None:
    response = await client.get(f"/api/v1/audit?{query}", headers=network)

    assert response.status_code in (400, 422), response.text
    problem = response.json()
    assert problem["field"] == field, problem


async def test_unknown_ids_give_an_empty_list(
    client: httpx.AsyncClient, network: dict[str, str], database_url: str
) -> None:
    await audit.record(audit.SYSTEM, "period.close", "billing_period", "2026-10")

    for query in (f"actor={uuid.uuid4()}", f"object_id={uuid.uuid4()}", "object_type=nothing"):
        response = await client.get(f"/api/v1/audit?{query}", headers=network)
        assert response.status_code == 200
        assert response.json()["items"] == []
        assert response.json()["total"] == 0
