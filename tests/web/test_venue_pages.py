"""The venue console over HTTP: each action, and each refusal shown next to its field."""

from __future__ import annotations

import uuid
from datetime import time, timedelta

import httpx
import pytest

from billing.tables import Document, DocumentFile
from booking.tables import Closure, OpeningHours, User, Venue, Workspace
from passes.tables import DoorDevice
from service.kernel.identity import Role
from tests.billing.factories import make_document
from tests.factories import make_booking, make_user, make_venue, make_workspace, next_weekday
from tests.web.test_pages import csrf_token, post_form, sign_in


@pytest.fixture
async def venue() -> Venue:
    return await make_venue()


@pytest.fixture
async def admin(client: httpx.AsyncClient, venue: Venue) -> User:
    user = await make_user(Role.VENUE_ADMIN, venue=venue)
    response = await sign_in(client, user)
    assert response.status_code == 303
    assert response.headers["location"] == "/venue"
    return user


async def make_statement(venue: Venue, **fields: object) -> Document:
    """A minimal issued statement (the close itself is tested in tests/billing)."""
    values: dict[str, object] = {
        "number": f"AF-2026-{uuid.uuid4().hex[:5]}",
        "issuer": f"venue:{venue.id}",
        "series": "AF",
        "venue": venue.id,
        "seller": {"name": venue.name},
        "buyer": {"name": "Réseau"},
        **fields,
    }
    return await make_document("statement", **values)


# Access


async def test_anonymous_is_sent_to_sign_in_and_other_roles_get_a_403_page(
    client: httpx.AsyncClient, venue: Venue
) -> None:
    assert (await client.get("/venue")).status_code == 303
    staff = await make_user(Role.VENUE_STAFF, venue=venue)
    await sign_in(client, staff)
    for path in ("/venue", "/venue/hours", "/venue/devices", "/venue/statements"):
        response = await client.get(path)
        assert response.status_code == 403, path
        assert "Accès refusé" in response.text


async def test_the_landing_page_lists_workspaces_and_the_rates_in_force(
    client: httpx.AsyncClient, venue: Venue, admin: User
) -> None:
    await make_workspace(venue, name="Grand plateau")
    response = await client.get("/venue")
    assert response.status_code == 200
    assert "Grand plateau" in response.text
    assert 'aria-current="page"' in response.text
    assert "Tarifs en vigueur" in response.text


# Workspaces


async def test_add_a_workspace_then_edit_deactivate_and_reactivate_it(
    client: httpx.AsyncClient, venue: Venue, admin: User
) -> None:
    response = await post_form(
        client,
        "/venue/workspaces",
        {
            "name": "Salle Jaune",
            "kind": "meeting_room",
            "capacity": "8",
            "booking_unit": "hour",
            "equipment_screen": "1",
            "equipment_whiteboard": "1",
        },
    )
    assert response.status_code == 303, response.text
    workspace = await Workspace.objects().where(Workspace.name == "Salle Jaune").first()
    assert workspace is not None
    assert workspace.venue == venue.id
    assert sorted(workspace.equipment) == ["screen", "whiteboard"]
    assert "Espace ajouté" in (await client.get(response.headers["location"])).text

    edit = await client.get(f"/venue/workspaces/{workspace.id}")
    assert edit.status_code == 200
    assert 'value="Salle Jaune"' in edit.text
    saved = await post_form(
        client,
        f"/venue/workspaces/{workspace.id}",
        {"name": "Salle Jaune (RDC)", "capacity": "10", "booking_unit": "half_day"},
    )
    assert saved.status_code == 303
    await workspace.refresh()
    assert (workspace.name, workspace.capacity, workspace.equipment) == (
        "Salle Jaune (RDC)",
        10,
        [],
    )

    assert (
        await post_form(client, f"/venue/workspaces/{workspace.id}/deactivate", {})
    ).status_code == 303
    await workspace.refresh()
    assert workspace.active is False
    assert "Désactivé" in (await client.get("/venue")).text
    assert (
        await post_form(client, f"/venue/workspaces/{workspace.id}/reactivate", {})
    ).status_code == 303
    await workspace.refresh()
    assert workspace.active is True


async def test_bad_workspace_values_are_shown_next_to_their_fields(
    client: httpx.AsyncClient, admin: User
) -> None:
    response = await post_form(
        client,
        "/venue/workspaces",
        {"name": " ", "kind": "castle", "capacity": "0", "booking_unit": "week"},
    )
    assert response.status_code == 422
    for field in ("name", "kind", "capacity", "booking_unit"):
        assert f'id="{field}-error"' in response.text, field
    assert 'aria-invalid="true"' in response.text
    # A unit the kind is not booked by: the service's rule, shown next to the unit.
    response = await post_form(
        client,
        "/venue/workspaces",
        {"name": "Poste", "kind": "desk", "capacity": "4", "booking_unit": "hour"},
    )
    assert response.status_code == 422
    assert 'id="booking_unit-error"' in response.text
    assert await Workspace.count() == 0


async def test_another_venues_workspace_is_not_found(
    client: httpx.AsyncClient, admin: User
) -> None:
    theirs = await make_workspace(await make_venue(), name="Chez les autres")
    assert (await client.get(f"/venue/workspaces/{theirs.id}")).status_code == 404
    response = await post_form(
        client,
        f"/venue/workspaces/{theirs.id}",
        {"name": "Volé", "capacity": "1", "booking_unit": "day"},
    )
    assert response.status_code == 404
    assert (
        await post_form(client, f"/venue/workspaces/{theirs.id}/deactivate", {})
    ).status_code == 404
    assert (await client.get(f"/venue/workspaces/{uuid.uuid4()}")).status_code == 404
    await theirs.refresh()
    assert (theirs.name, theirs.active) == ("Chez les autres", True)


async def test_a_form_without_its_csrf_token_is_refused(
    client: httpx.AsyncClient, admin: User
) -> None:
    await csrf_token(client)
    response = await client.post(
        "/venue/workspaces",
        data={"name": "Sans jeton", "kind": "desk", "capacity": "2", "booking_unit": "day"},
    )
    assert response.status_code == 403
    assert await Workspace.count() == 0


# Hours and closures


async def test_the_week_is_replaced_and_overlaps_are_refused_next_to_the_range(
    client: httpx.AsyncClient, venue: Venue, admin: User
) -> None:
    page = await client.get("/venue/hours")
    assert page.status_code == 200
    assert 'value="08:00"' in page.text
    response = await post_form(
        client,
        "/venue/hours",
        {
            "d0_0_opens": "09:00",
            "d0_0_closes": "12:00",
            "d0_1_opens": "14:00",
            "d0_1_closes": "18:00",
            "d5_0_opens": "10:00",
            "d5_0_closes": "13:00",
        },
    )
    assert response.status_code == 303
    hours = await OpeningHours.select().where(OpeningHours.venue == venue.id)
    assert sorted((h["weekday"], h["opens"], h["closes"]) for h in hours) == [
        (0, time(9), time(12)),
        (0, time(14), time(18)),
        (5, time(10), time(13)),
    ]

    overlap = await post_form(
        client,
        "/venue/hours",
        {
            "d0_0_opens": "09:00",
            "d0_0_closes": "12:00",
            "d0_1_opens": "11:00",
            "d0_1_closes": "18:00",
        },
    )
    assert overlap.status_code == 422
    assert 'id="d0_1_opens-error"' in overlap.text
    assert "chevauche" in overlap.text
    backwards = await post_form(
        client, "/venue/hours", {"d2_0_opens": "18:00", "d2_0_closes": "09:00"}
    )
    assert backwards.status_code == 422
    assert 'id="d2_0_closes-error"' in backwards.text
    garbled = await post_form(client, "/venue/hours", {"d3_0_opens": "9h", "d3_0_closes": ""})
    assert garbled.status_code == 422
    assert 'id="d3_0_opens-error"' in garbled.text
    assert await OpeningHours.count().where(OpeningHours.venue == venue.id) == 3


async def test_a_closure_cancels_the_bookings_it_covers_and_can_be_removed(
    client: httpx.AsyncClient, venue: Venue, admin: User
) -> None:
    desk = await make_workspace(venue)
    day = next_weekday(3)
    agent = await make_user(Role.AGENT)
    booking = await make_booking(agent, desk, day)
    response = await post_form(
        client,
        "/venue/closures",
        {"starts_on": day.isoformat(), "ends_on": day.isoformat(), "reason": "Travaux"},
    )
    assert response.status_code == 201
    assert "1 réservation annulée" in response.text
    assert "Travaux" in response.text
    await booking.refresh()
    assert booking.status == "cancelled"
    closure = await Closure.objects().where(Closure.venue == venue.id).first()
    assert closure is not None

    removed = await post_form(client, f"/venue/closures/{closure.id}/delete", {})
    assert removed.status_code == 303
    assert await Closure.count() == 0
    again = await post_form(client, f"/venue/closures/{closure.id}/delete", {})
    assert again.status_code == 404


async def test_bad_closures_are_refused_next_to_their_fields(
    client: httpx.AsyncClient, venue: Venue, admin: User
) -> None:
    day = next_weekday(3)
    cases = [
        ({"starts_on": "demain", "ends_on": day.isoformat(), "reason": "x"}, "starts_on"),
        (
            {
                "starts_on": day.isoformat(),
                "ends_on": (day - timedelta(days=1)).isoformat(),
                "reason": "x",
            },
            "ends_on",
        ),
        ({"starts_on": day.isoformat(), "ends_on": day.isoformat(), "reason": "  "}, "reason"),
        ({"starts_on": "2020-01-01", "ends_on": "2020-01-02", "reason": "Passé"}, "starts_on"),
    ]
    for form, field in cases:
        response = await post_form(client, "/venue/closures", form)
        assert response.status_code == 422, form
        assert f'id="{field}-error"' in response.text, form
    assert await Closure.count() == 0
    theirs = Closure(
        venue=(await make_venue()).id, starts_on=day, ends_on=day, reason="Leur fermeture"
    )
    await theirs.save()
    assert (await post_form(client, f"/venue/closures/{theirs.id}/delete", {})).status_code == 404
    assert await Closure.count() == 1


# Door devices


async def test_a_device_token_is_shown_once_and_can_be_revoked(
    client: httpx.AsyncClient, venue: Venue, admin: User, settings: object
) -> None:
    response = await post_form(client, "/venue/devices", {"name": "Tablette accueil"})
    assert response.status_code == 201
    assert "/scan/device" in response.text
    assert "ne sera plus jamais affiché" in response.text
    token = response.text.split('id="device-token" type="text" readonly value="', 1)[1]
    token = token.split('"', 1)[0]
    assert token.startswith("tldev_")
    device = await DoorDevice.objects().where(DoorDevice.venue == venue.id).first()
    assert device is not None
    assert device.token_prefix == token[:10]
    # The token itself is never shown again.
    listing = await client.get("/venue/devices")
    assert token not in listing.text
    assert "Tablette accueil" in listing.text
    # It works as a device's bearer token until revoked.
    assert (
        await client.get("/api/v1/devices/me", headers={"Authorization": f"Bearer {token}"})
    ).status_code == 200
    revoked = await post_form(client, f"/venue/devices/{device.id}/revoke", {})
    assert revoked.status_code == 303
    assert "Révoqué le" in (await client.get("/venue/devices")).text
    assert (
        await client.get("/api/v1/devices/me", headers={"Authorization": f"Bearer {token}"})
    ).status_code == 401


async def test_a_device_needs_a_name_and_another_venues_device_is_not_found(
    client: httpx.AsyncClient, admin: User
) -> None:
    response = await post_form(client, "/venue/devices", {"name": "   "})
    assert response.status_code == 422
    assert 'id="name-error"' in response.text
    assert await DoorDevice.count() == 0
    other = await make_venue()
    other_admin = await make_user(Role.VENUE_ADMIN, venue=other)
    theirs = DoorDevice(
        venue=other.id,
        name="Porte",
        token_hash="x" * 64,
        token_prefix="tldev_abcd",
        created_by=other_admin.id,
    )
    await theirs.save()
    assert (await post_form(client, f"/venue/devices/{theirs.id}/revoke", {})).status_code == 404
    await theirs.refresh()
    assert theirs.revoked_at is None


# Statements


async def test_statements_list_by_month_and_show_lines_and_the_pdf_once_rendered(
    client: httpx.AsyncClient, venue: Venue, admin: User
) -> None:
    mine = await make_statement(venue)
    theirs = await make_statement(await make_venue())
    listing = await client.get("/venue/statements")
    assert listing.status_code == 200
    assert mine.number in listing.text
    assert theirs.number not in listing.text
    assert "120,00" in listing.text
    assert "À préparer" in listing.text
    october = await client.get("/venue/statements?period=2026-10")
    assert mine.number in october.text
    assert mine.number not in (await client.get("/venue/statements?period=2026-09")).text
    bad = await client.get("/venue/statements?period=octobre")
    assert bad.status_code == 422
    assert 'id="period-error"' in bad.text

    detail = await client.get(f"/venue/statements/{mine.id}")
    assert detail.status_code == 200
    assert mine.number in detail.text
    assert (await client.get(f"/venue/statements/{theirs.id}")).status_code == 404
    assert (await client.get(f"/venue/statements/{uuid.uuid4()}")).status_code == 404
    assert (await client.get(f"/venue/statements/{theirs.id}/pdf")).status_code == 404

    # Not rendered yet: said so, with Retry-After, and the rendering is queued.
    waiting = await client.get(f"/venue/statements/{mine.id}/pdf")
    assert waiting.status_code == 503
    assert waiting.headers["retry-after"] == "5"
    assert "en cours de préparation" in waiting.text
    await DocumentFile(document=mine.id, kind="facturx_pdf", content=b"%PDF-1.7 test").save()
    pdf = await client.get(f"/venue/statements/{mine.id}/pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content == b"%PDF-1.7 test"
    assert f"autofacturation-{mine.number}.pdf" in pdf.headers["content-disposition"]


async def test_equipment_the_catalogue_does_not_list_is_kept_unless_changed(
    client: httpx.AsyncClient, venue: Venue, admin: User
) -> None:
    # The demo seeds such names; the API refuses them on a change.
    workspace = await make_workspace(venue, equipment=["power_outlet"])
    page = await client.get(f"/venue/workspaces/{workspace.id}")
    assert 'name="equipment_power_outlet" value="1" checked' in page.text
    assert "power outlet" in page.text
    same = {"name": "Poste", "capacity": "3", "booking_unit": "day"}
    kept = await post_form(
        client, f"/venue/workspaces/{workspace.id}", {**same, "equipment_power_outlet": "1"}
    )
    assert kept.status_code == 303
    await workspace.refresh()
    assert (workspace.name, workspace.equipment) == ("Poste", ["power_outlet"])
    refused = await post_form(
        client,
        f"/venue/workspaces/{workspace.id}",
        {**same, "equipment_power_outlet": "1", "equipment_screen": "1"},
    )
    assert refused.status_code == 422
    assert 'id="equipment-error"' in refused.text
    dropped = await post_form(client, f"/venue/workspaces/{workspace.id}", same)
    assert dropped.status_code == 303
    await workspace.refresh()
    assert workspace.equipment == []


async def test_the_console_reads_in_english_too(client: httpx.AsyncClient, admin: User) -> None:
    for path, heading in (
        ("/venue", "My workspaces"),
        ("/venue/hours", "Opening hours and closures"),
        ("/venue/devices", "Door devices"),
        ("/venue/statements", "Self-billing statements"),
    ):
        response = await client.get(f"{path}?lang=en")
        assert response.status_code == 200
        assert f"<h1>{heading}</h1>" in response.text, path
        assert "venue." not in response.text.split("<main", 1)[1], path  # no key left untranslated
