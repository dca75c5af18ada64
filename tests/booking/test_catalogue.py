"""The catalogue: applying, approving, editing venues; hours, closures, workspaces, rates."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from booking.services import rates
from booking.tables import (
    Closure,
    OpeningHours,
    Organisation,
    OrganisationRate,
    Venue,
    VenueRate,
    Workspace,
)
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.factories import (
    VALID_IBAN,
    VALID_SIRET,
    auth,
    make_organisation,
    make_user,
    make_venue,
)

P = "urn:tierslieux:problem:"


def application(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "La Ruche d'Armentières",
        "legal_name": "SCIC La Ruche",
        "siret": "732 829 320 00074",
        "iban": "fr76 3000 6000 0112 3456 7890 189",
        "bic": "AGRIFRPP",
        "address": "12 rue de Lille",
        "postcode": "59280",
        "commune": "Armentières",
        "insee_code": "59017",
        "latitude": "50.688500",
        "longitude": "2.881600",
        "contact_email": "bonjour@laruche.example",
        "services": ["wifi", "cafe", "accessibility"],
    }
    body.update(changes)
    return body


async def test_anyone_applies_and_the_network_approves(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    applied = await client.post("/api/v1/venues", json=application())
    venue_id = applied.json()["id"]
    hidden = await client.get(f"/api/v1/venues/{venue_id}")
    admin = auth(settings, await make_user(Role.NETWORK_ADMIN))

    approved = await client.post(
        f"/api/v1/venues/{venue_id}/status", json={"status": "approved"}, headers=admin
    )
    public = await client.get(f"/api/v1/venues/{venue_id}")

    assert applied.status_code == 201, applied.text
    assert applied.json()["status"] == "applied"
    assert applied.json()["siret"] == VALID_SIRET  # normalised
    assert applied.json()["iban"] == VALID_IBAN
    assert hidden.status_code == 404
    assert approved.status_code == 200, approved.text
    assert public.status_code == 200
    assert public.json()["status"] == "approved"
    assert public.json()["iban"] is None  # bank details are not public
    assert public.json()["services"] == ["accessibility", "cafe", "wifi"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("siret", "73282932000075"),
        ("iban", "FR7630006000011234567890188"),
        ("bic", "NOTABIC"),
        ("vat_number", "FR00123456789"),
        ("timezone", "Europe/Lile"),
        ("latitude", "91"),
        ("longitude", "-181"),
        ("insee_code", "5901"),
        ("services", ["wifi", "jacuzzi"]),
    ],
)
async def test_bad_identifiers_are_a_clear_422_naming_the_field(
    client: httpx.AsyncClient, field: str, value: object
) -> None:
    response = await client.post("/api/v1/venues", json=application(**{field: value}))

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == field
    assert response.json()["detail"]
    assert await Venue.count() == 0


async def test_malformed_bodies_are_422_too(client: httpx.AsyncClient) -> None:
    missing = await client.post("/api/v1/venues", json={"name": "x"})
    bad_postcode = await client.post("/api/v1/venues", json=application(postcode="ABCDE"))

    assert missing.status_code == 422
    assert missing.json()["type"] == P + "validation-error"
    assert bad_postcode.json()["field"] == "postcode"


async def test_status_transitions_are_the_network_admins_and_follow_the_workflow(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue = await make_venue(status="applied")
    admin = auth(settings, await make_user(Role.NETWORK_ADMIN))
    venue_admin = auth(settings, await make_user(Role.VENUE_ADMIN, venue=venue))
    url = f"/api/v1/venues/{venue.id}/status"

    by_venue = await client.post(url, json={"status": "approved"}, headers=venue_admin)
    closed = await client.post(url, json={"status": "closed"}, headers=admin)
    reopened = await client.post(url, json={"status": "approved"}, headers=admin)
    unknown = await client.post(
        f"/api/v1/venues/{uuid.uuid4()}/status", json={"status": "approved"}, headers=admin
    )

    assert by_venue.status_code == 403
    assert closed.status_code == 200
    assert reopened.status_code == 409
    assert reopened.json()["type"] == P + "invalid-status-change"
    assert unknown.status_code == 404


async def test_a_venue_admin_edits_their_venue_only(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue, other = await make_venue(), await make_venue()
    admin = auth(settings, await make_user(Role.VENUE_ADMIN, venue=venue))
    staff = auth(settings, await make_user(Role.VENUE_STAFF, venue=venue))

    edited = await client.patch(
        f"/api/v1/venues/{venue.id}",
        json={"description": "Café associatif", "website": "https://x.example"},
        headers=admin,
    )
    bad = await client.patch(f"/api/v1/venues/{venue.id}", json={"siret": "123"}, headers=admin)
    foreign = await client.patch(
        f"/api/v1/venues/{other.id}", json={"description": "x"}, headers=admin
    )
    by_staff = await client.patch(
        f"/api/v1/venues/{venue.id}", json={"description": "x"}, headers=staff
    )
    status = await client.patch(
        f"/api/v1/venues/{venue.id}", json={"status": "approved"}, headers=admin
    )

    assert edited.status_code == 200, edited.text
    assert edited.json()["description"] == "Café associatif"
    assert (bad.status_code, bad.json()["field"]) == (422, "siret")
    assert foreign.status_code == 403
    assert by_staff.status_code == 403
    assert status.status_code == 422
    stored = await Venue.select(Venue.description, Venue.siret).where(Venue.id == venue.id).first()
    assert stored == {"description": "Café associatif", "siret": VALID_SIRET}


async def test_lists_show_approved_venues_and_the_admin_sees_all(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await make_venue(name="A", commune="Lille")
    await make_venue(name="B", commune="Roubaix", services=["fablab"])
    await make_venue(name="C", status="applied")
    admin = auth(settings, await make_user(Role.NETWORK_ADMIN))

    public = await client.get("/api/v1/venues")
    fablabs = await client.get("/api/v1/venues?service=fablab")
    applied = await client.get("/api/v1/venues?status=applied", headers=admin)

    assert [v["name"] for v in public.json()["items"]] == ["A", "B"]
    assert public.json()["total"] == 2
    assert [v["name"] for v in fablabs.json()["items"]] == ["B"]
    assert [v["name"] for v in applied.json()["items"]] == ["C"]


async def test_opening_hours_replace_the_week_and_refuse_overlaps(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue = await make_venue(hours=False)
    admin = auth(settings, await make_user(Role.VENUE_ADMIN, venue=venue))
    url = f"/api/v1/venues/{venue.id}/opening-hours"
    week = [{"weekday": d, "opens": "08:30", "closes": "12:30"} for d in range(5)] + [
        {"weekday": d, "opens": "13:30", "closes": "18:00"} for d in range(5)
    ]

    saved = await client.put(url, json=week, headers=admin)
    overlapping = await client.put(
        url,
        json=[
            {"weekday": 0, "opens": "08:00", "closes": "12:00"},
            {"weekday": 0, "opens": "11:00", "closes": "14:00"},
        ],
        headers=admin,
    )
    backwards = await client.put(
        url, json=[{"weekday": 1, "opens": "18:00", "closes": "08:00"}], headers=admin
    )
    public = await client.get(url)

    assert saved.status_code == 200, saved.text
    assert overlapping.status_code == 422
    assert overlapping.json()["type"] == P + "overlapping-hours"
    assert overlapping.json()["field"] == "hours[1]"
    assert backwards.status_code == 422
    assert len(public.json()) == 10  # the failed requests changed nothing
    assert public.json()[0] == {"weekday": 0, "opens": "08:30", "closes": "12:30"}
    assert await OpeningHours.count() == 10


async def test_closures_and_workspaces(client: httpx.AsyncClient, settings: Settings) -> None:
    venue = await make_venue()
    admin = auth(settings, await make_user(Role.VENUE_ADMIN, venue=venue))
    other_admin = auth(settings, await make_user(Role.VENUE_ADMIN))

    closure = await client.post(
        f"/api/v1/venues/{venue.id}/closures",
        json={"starts_on": "2026-12-24", "ends_on": "2027-01-01", "reason": "Fêtes"},
        headers=admin,
    )
    backwards = await client.post(
        f"/api/v1/venues/{venue.id}/closures",
        json={"starts_on": "2026-12-24", "ends_on": "2026-12-01", "reason": "x"},
        headers=admin,
    )
    desk = await client.post(
        f"/api/v1/venues/{venue.id}/workspaces",
        json={
            "kind": "desk",
            "name": "Open space",
            "capacity": 12,
            "booking_unit": "half_day",
            "equipment": ["screen"],
        },
        headers=admin,
    )
    hourly_desk = await client.post(
        f"/api/v1/venues/{venue.id}/workspaces",
        json={"kind": "desk", "name": "x", "capacity": 2, "booking_unit": "hour"},
        headers=admin,
    )
    foreign = await client.post(
        f"/api/v1/venues/{venue.id}/workspaces",
        json={"kind": "lab", "name": "Fablab", "capacity": 6, "booking_unit": "hour"},
        headers=other_admin,
    )
    desk_id = desk.json()["id"]
    deactivated = await client.patch(
        f"/api/v1/venues/{venue.id}/workspaces/{desk_id}", json={"active": False}, headers=admin
    )
    public = await client.get(f"/api/v1/venues/{venue.id}/workspaces")
    own = await client.get(f"/api/v1/venues/{venue.id}/workspaces", headers=admin)
    removed = await client.delete(
        f"/api/v1/venues/{venue.id}/closures/{closure.json()['id']}", headers=admin
    )
    gone = await client.delete(f"/api/v1/venues/{venue.id}/closures/{uuid.uuid4()}", headers=admin)

    assert closure.status_code == 201, closure.text
    assert (backwards.status_code, backwards.json()["field"]) == (422, "ends_on")
    assert desk.status_code == 201, desk.text
    assert (hourly_desk.status_code, hourly_desk.json()["field"]) == (422, "booking_unit")
    assert foreign.status_code == 403
    assert deactivated.json()["active"] is False
    assert public.json() == []
    assert len(own.json()) == 1
    assert removed.status_code == 204
    assert gone.status_code == 404
    assert await Closure.count() == 0
    assert await Workspace.count() == 1


async def test_rates_are_history_and_the_one_in_force_is_used(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue = await make_venue()
    organisation = await make_organisation()
    admin = auth(settings, await make_user(Role.NETWORK_ADMIN))
    venue_staff = auth(settings, await make_user(Role.VENUE_STAFF, venue=venue))
    org_admin = auth(settings, await make_user(Role.ORG_ADMIN, organisation=organisation))
    rate = {"workspace_kind": "desk", "unit": "half_day", "amount_cents": 1000, "vat_rate": "0.20"}

    first = await client.post(
        f"/api/v1/venues/{venue.id}/rates",
        json={**rate, "effective_from": "2026-01-01"},
        headers=admin,
    )
    raised = await client.post(
        f"/api/v1/venues/{venue.id}/rates",
        json={**rate, "amount_cents": 1100, "effective_from": "2026-07-01"},
        headers=admin,
    )
    duplicate = await client.post(
        f"/api/v1/venues/{venue.id}/rates",
        json={**rate, "effective_from": "2026-07-01"},
        headers=admin,
    )
    bad_vat = await client.post(
        f"/api/v1/venues/{venue.id}/rates",
        json={**rate, "vat_rate": "1.5", "effective_from": "2026-08-01"},
        headers=admin,
    )
    by_venue = await client.post(
        f"/api/v1/venues/{venue.id}/rates",
        json={**rate, "effective_from": "2026-09-01"},
        headers=venue_staff,
    )
    default = await client.post(
        "/api/v1/rates/organisations",
        json={**rate, "amount_cents": 1500, "effective_from": "2026-01-01"},
        headers=admin,
    )
    override = await client.post(
        f"/api/v1/organisations/{organisation.id}/rates",
        json={**rate, "amount_cents": 1300, "effective_from": "2026-06-01"},
        headers=admin,
    )
    seen_by_venue = await client.get(f"/api/v1/venues/{venue.id}/rates", headers=venue_staff)
    seen_by_org = await client.get(
        f"/api/v1/organisations/{organisation.id}/rates", headers=org_admin
    )

    assert (first.status_code, raised.status_code) == (201, 201)
    assert duplicate.status_code == 409
    assert duplicate.json()["type"] == P + "rate-already-defined"
    assert (bad_vat.status_code, bad_vat.json()["field"]) == (422, "vat_rate")
    assert by_venue.status_code == 403
    assert (default.status_code, override.status_code) == (201, 201)
    assert [r["amount_cents"] for r in seen_by_venue.json()] == [1000, 1100]
    assert [r["amount_cents"] for r in seen_by_org.json()] == [1300]
    in_march = await rates.venue_rate_in_force(venue.id, "desk", "half_day", date(2026, 3, 1))
    in_september = await rates.venue_rate_in_force(venue.id, "desk", "half_day", date(2026, 9, 1))
    assert in_march is not None
    assert in_march.amount_cents == 1000
    assert in_september is not None
    assert in_september.amount_cents == 1100
    assert (
        await rates.organisation_rate_in_force(
            organisation.id, "desk", "half_day", date(2026, 3, 1)
        )
    ).amount_cents == 1500  # type: ignore[union-attr]
    assert (
        await rates.organisation_rate_in_force(
            organisation.id, "desk", "half_day", date(2026, 6, 1)
        )
    ).amount_cents == 1300  # type: ignore[union-attr]
    assert await rates.venue_rate_in_force(venue.id, "desk", "half_day", date(2025, 12, 31)) is None


async def test_rates_are_never_overwritten_in_the_database(database_url: str) -> None:
    import asyncpg

    venue = await make_venue()
    await VenueRate(
        venue=venue.id,
        workspace_kind="desk",
        unit="day",
        amount_cents=2000,
        vat_rate=Decimal("0.2"),
        effective_from=date(2026, 1, 1),
    ).save()

    with pytest.raises(asyncpg.IntegrityConstraintViolationError):
        await VenueRate.update({VenueRate.amount_cents: 1}).where(VenueRate.venue == venue.id)
    await OrganisationRate(
        workspace_kind="desk",
        unit="day",
        amount_cents=2500,
        vat_rate=Decimal("0.2"),
        effective_from=date(2026, 1, 1),
    ).save()
    with pytest.raises(asyncpg.IntegrityConstraintViolationError):
        await OrganisationRate.delete(force=True)
    assert await OrganisationRate.count() == 1
    assert await Organisation.count() == 0
