"""The network console's audit trail page: filters, errors beside their field, CSV, access."""

from __future__ import annotations

import csv
import io
import uuid

import httpx
import pytest

from booking.tables import User
from service.kernel import audit
from service.kernel.identity import Principal, Role
from tests.factories import make_user, make_venue
from tests.web.test_pages import post_form, sign_in


@pytest.fixture
async def network_admin(client: httpx.AsyncClient) -> User:
    user = await make_user(Role.NETWORK_ADMIN)
    assert (await sign_in(client, user)).status_code == 303
    return user


async def test_an_act_on_the_console_shows_in_the_trail(
    client: httpx.AsyncClient, network_admin: User
) -> None:
    venue = await make_venue(status="applied")
    await audit.record(audit.SYSTEM, "period.close", "billing_period", "2026-10")
    done = await post_form(client, f"/network/venues/{venue.id}/status", {"action": "approve"})
    assert done.status_code == 303

    page = await client.get("/network/audit")
    mine = await client.get(f"/network/audit?actor={network_admin.id}")
    english = await client.get("/network/audit?lang=en")

    assert page.status_code == 200
    assert "Journal d'audit" in page.text
    assert 'href="/network/audit"' in page.text  # in the console's menu
    assert "venue.approve" in page.text
    assert "applied → approved" in page.text
    assert "period.close" in page.text
    assert "2 actes." in page.text
    assert "venue.approve" in mine.text
    assert "period.close" not in mine.text
    assert "1 acte." in mine.text
    assert "Audit trail" in english.text


async def test_bad_filters_are_shown_beside_their_field(
    client: httpx.AsyncClient, network_admin: User
) -> None:
    response = await client.get("/network/audit?actor=quelqu-un&from=2026-13-01&to=2200-01-01")
    reversed_days = await client.get("/network/audit?from=2026-12-02&to=2026-12-01")
    too_long = await client.get("/network/audit?action=" + "x" * 81)

    assert response.status_code == 422
    for field in ("actor", "from", "to"):
        assert f'id="{field}-error"' in response.text, field
    assert 'value="quelqu-un"' in response.text
    assert reversed_days.status_code == 422
    assert 'id="to-error"' in reversed_days.text
    assert too_long.status_code == 422
    assert 'id="action-error"' in too_long.text
    bad_csv = await client.get("/network/audit.csv?from=hier")
    assert bad_csv.status_code == 422
    assert 'id="from-error"' in bad_csv.text


async def test_unknown_ids_give_an_empty_trail(
    client: httpx.AsyncClient, network_admin: User
) -> None:
    await audit.record(audit.SYSTEM, "period.close", "billing_period", "2026-10")

    response = await client.get(f"/network/audit?object_id={uuid.uuid4()}")

    assert response.status_code == 200
    assert "0 acte." in response.text
    assert "period.close" not in response.text


async def test_the_csv_download_holds_the_filtered_trail(
    client: httpx.AsyncClient, network_admin: User
) -> None:
    admin = Principal(Role.NETWORK_ADMIN, user_id=network_admin.id)
    await audit.record(admin, "rate.create", "venue_rate", "r1", after={"amount_cents": 1500})
    await audit.record(audit.SYSTEM, "period.close", "billing_period", "2026-10")

    response = await client.get("/network/audit.csv?action=rate.create")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 2
    assert rows[1][5] == "rate.create"
    assert rows[1][3] == str(network_admin.id)


@pytest.mark.parametrize("role", [Role.VENUE_ADMIN, Role.ORG_ADMIN, Role.AGENT])
async def test_only_the_network_reads_the_trail(client: httpx.AsyncClient, role: Role) -> None:
    assert (await client.get("/network/audit")).status_code == 303  # to the sign-in form
    assert (await sign_in(client, await make_user(role))).status_code == 303

    assert (await client.get("/network/audit")).status_code == 403
    assert (await client.get("/network/audit.csv")).status_code == 403
