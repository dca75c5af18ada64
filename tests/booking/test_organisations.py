"""Organisations, agents (invited, imported, deactivated), venue staff, users, door devices."""

from __future__ import annotations

import json
import uuid

import httpx

from booking.tables import Organisation, Outbox, User
from passes.tables import DoorDevice
from service.kernel.identity import Role
from service.kernel.settings import Settings
from service.kernel.tables import AuditEntry
from tests.factories import PASSWORD, VALID_SIREN, auth, make_organisation, make_user, make_venue

P = "urn:tierslieux:problem:"


def organisation_body(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "name": "Ville de Tourcoing",
        "siren": "732 829 320",
        "kind": "public_body",
        "billing_address": "Place Victor Hassebroucq, 59200 Tourcoing",
        "billing_email": "factures@tourcoing.example",
        "chorus_service_code": "SERV-01",
        "monthly_allowance_units": 10,
    }
    body.update(changes)
    return body


async def test_the_network_adds_an_organisation_and_its_admin_edits_the_policy(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    network = auth(settings, await make_user(Role.NETWORK_ADMIN))
    created = await client.post("/api/v1/organisations", json=organisation_body(), headers=network)
    organisation_id = created.json()["id"]
    org_admin_user = await make_user(
        Role.ORG_ADMIN,
        organisation=await Organisation.objects()
        .where(Organisation.id == uuid.UUID(organisation_id))
        .first(),
    )
    org_admin = auth(settings, org_admin_user)

    policy = await client.patch(
        f"/api/v1/organisations/{organisation_id}",
        json={"booking_horizon_days": 14, "bill_no_shows": False},
        headers=org_admin,
    )
    renamed = await client.patch(
        f"/api/v1/organisations/{organisation_id}", json={"name": "Autre"}, headers=org_admin
    )
    other = await client.get(
        f"/api/v1/organisations/{(await make_organisation()).id}", headers=org_admin
    )
    listing = await client.get("/api/v1/organisations", headers=org_admin)

    assert created.status_code == 201, created.text
    assert created.json()["siren"] == VALID_SIREN
    assert policy.status_code == 200, policy.text
    assert policy.json()["booking_horizon_days"] == 14
    assert renamed.status_code == 403
    assert renamed.json()["field"] == "name"
    assert other.status_code == 403
    assert listing.status_code == 403


async def test_bad_organisation_identifiers(client: httpx.AsyncClient, settings: Settings) -> None:
    network = auth(settings, await make_user(Role.NETWORK_ADMIN))

    bad_siren = await client.post(
        "/api/v1/organisations", json=organisation_body(siren="123456789"), headers=network
    )
    foreign_siret = await client.post(
        "/api/v1/organisations",
        json=organisation_body(siret="73282932000074", siren="552100554"),
        headers=network,
    )
    bad_kind = await client.post(
        "/api/v1/organisations", json=organisation_body(kind="ngo"), headers=network
    )
    unknown = await client.get(f"/api/v1/organisations/{uuid.uuid4()}", headers=network)

    assert (bad_siren.status_code, bad_siren.json()["field"]) == (422, "siren")
    assert (foreign_siret.status_code, foreign_siret.json()["field"]) == (422, "siret")
    assert (bad_kind.status_code, bad_kind.json()["field"]) == (422, "kind")
    assert unknown.status_code == 404
    assert await Organisation.count() == 0


async def test_an_invited_agent_sets_a_password_and_signs_in(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    organisation = await make_organisation()
    admin = auth(settings, await make_user(Role.ORG_ADMIN, organisation=organisation))

    invited = await client.post(
        f"/api/v1/organisations/{organisation.id}/agents",
        json={"email": "Lea.Dupont@Tourcoing.example", "display_name": "Léa Dupont"},
        headers=admin,
    )
    duplicate = await client.post(
        f"/api/v1/organisations/{organisation.id}/agents",
        json={"email": "lea.dupont@tourcoing.EXAMPLE", "display_name": "Léa"},
        headers=admin,
    )
    token = invited.json()["invitation_url"].rsplit("/", 1)[1]
    short = await client.post(
        "/api/v1/auth/accept-invitation", json={"token": token, "password": "short"}
    )
    accepted = await client.post(
        "/api/v1/auth/accept-invitation", json={"token": token, "password": PASSWORD}
    )
    reused = await client.post(
        "/api/v1/auth/accept-invitation", json={"token": token, "password": PASSWORD}
    )
    signed_in = await client.post(
        "/api/v1/auth/token", json={"email": "lea.dupont@tourcoing.example", "password": PASSWORD}
    )

    assert invited.status_code == 201, invited.text
    assert invited.json()["person"]["invitation_pending"] is True
    assert duplicate.status_code == 409
    assert duplicate.json()["type"] == P + "duplicate-email"
    assert (short.status_code, short.json()["field"]) == (422, "password")
    assert accepted.status_code == 200
    assert reused.status_code == 404
    assert reused.json()["type"] == P + "invitation-not-found"
    assert signed_in.status_code == 200
    stored = (
        await User.select(User.invitation_token_hash).where(User.email.ilike("lea.dupont%")).first()
    )
    assert stored == {"invitation_token_hash": None}


async def test_csv_import_keeps_valid_rows_and_reports_the_others(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    organisation = await make_organisation()
    await make_user(Role.AGENT, organisation=organisation, email="deja@mel.example")
    admin = auth(settings, await make_user(Role.ORG_ADMIN, organisation=organisation))
    content = (
        "\ufeffemail;display_name;monthly_allowance_units\n"
        "alice@mel.example;Alice Martin;6\n"
        "pas-un-email;Bob\n"
        "deja@mel.example;Déjà Là\n"
        "carla@mel.example;Carla Petit;\n"
        "ALICE@mel.example;Alice encore\n"
        "dan@mel.example;Dan;beaucoup\n"
    ).encode()

    response = await client.post(
        f"/api/v1/organisations/{organisation.id}/agents/import",
        content=content,
        headers={**admin, "content-type": "text/csv"},
    )
    no_header = await client.post(
        f"/api/v1/organisations/{organisation.id}/agents/import",
        content=b"a@b.fr,Someone\n",
        headers={**admin, "content-type": "text/csv"},
    )

    assert response.status_code == 200, response.text
    assert [c["email"] for c in response.json()["created"]] == [
        "alice@mel.example",
        "carla@mel.example",
    ]
    assert [(e["row"], e["field"]) for e in response.json()["errors"]] == [
        (3, "email"),
        (4, "email"),
        (6, "email"),
        (7, "monthly_allowance_units"),
    ]
    assert (no_header.status_code, no_header.json()["field"]) == (422, "file")
    # The file is one act: one audit row, committed with the invitations it lists.
    rows = await AuditEntry.select().where(AuditEntry.action == "agent.import")
    assert len(rows) == 1
    assert json.loads(rows[0]["changes"])["created"][1] == [
        str(c["id"]) for c in response.json()["created"]
    ]
    agents = (
        await User.select(User.email, User.monthly_allowance_units)
        .where((User.organisation == organisation.id) & (User.role == "agent"))
        .order_by(User.email)
    )
    assert agents == [
        {"email": "alice@mel.example", "monthly_allowance_units": 6},
        {"email": "carla@mel.example", "monthly_allowance_units": None},
        {"email": "deja@mel.example", "monthly_allowance_units": None},
    ]


async def test_a_deactivated_agent_keeps_their_history_but_cannot_sign_in(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    organisation = await make_organisation()
    agent = await make_user(Role.AGENT, organisation=organisation)
    agent_headers = auth(settings, agent)
    admin = auth(settings, await make_user(Role.ORG_ADMIN, organisation=organisation))
    stranger = auth(settings, await make_user(Role.ORG_ADMIN))

    foreign = await client.post(
        f"/api/v1/organisations/{organisation.id}/agents/{agent.id}/deactivate", headers=stranger
    )
    unknown = await client.post(
        f"/api/v1/organisations/{organisation.id}/agents/{uuid.uuid4()}/deactivate", headers=admin
    )
    done = await client.post(
        f"/api/v1/organisations/{organisation.id}/agents/{agent.id}/deactivate", headers=admin
    )
    me = await client.get("/api/v1/me", headers=agent_headers)
    listed = await client.get(
        f"/api/v1/organisations/{organisation.id}/agents?active=false", headers=admin
    )
    allowance = await client.patch(
        f"/api/v1/organisations/{organisation.id}/agents/{agent.id}",
        json={"monthly_allowance_units": 12},
        headers=admin,
    )

    assert foreign.status_code == 403
    assert unknown.status_code == 404
    assert done.json()["active"] is False
    assert me.status_code == 401
    assert [p["id"] for p in listed.json()["items"]] == [str(agent.id)]
    assert allowance.json()["monthly_allowance_units"] == 12
    assert await User.exists().where(User.id == agent.id)


async def test_users_and_venue_staff(client: httpx.AsyncClient, settings: Settings) -> None:
    venue = await make_venue()
    network = auth(settings, await make_user(Role.NETWORK_ADMIN))
    venue_admin_user = await make_user(Role.VENUE_ADMIN, venue=venue)
    venue_admin = auth(settings, venue_admin_user)
    staff = auth(settings, await make_user(Role.VENUE_STAFF, venue=venue))

    by_network = await client.post(
        "/api/v1/users",
        json={
            "email": "admin2@lieu.example",
            "display_name": "Admin 2",
            "role": "venue_admin",
            "venue_id": str(venue.id),
        },
        headers=network,
    )
    no_membership = await client.post(
        "/api/v1/users",
        json={"email": "x@lieu.example", "display_name": "X", "role": "venue_staff"},
        headers=network,
    )
    invited_staff = await client.post(
        f"/api/v1/venues/{venue.id}/staff",
        json={"email": "accueil2@lieu.example", "display_name": "Accueil"},
        headers=venue_admin,
    )
    by_staff = await client.post(
        f"/api/v1/venues/{venue.id}/staff",
        json={"email": "y@lieu.example", "display_name": "Y"},
        headers=staff,
    )
    myself = await client.post(
        f"/api/v1/venues/{venue.id}/staff/{venue_admin_user.id}/deactivate", headers=venue_admin
    )
    search = await client.get("/api/v1/users?q=accueil", headers=network)

    assert by_network.status_code == 201, by_network.text
    assert by_network.json()["person"]["role"] == "venue_admin"
    assert (no_membership.status_code, no_membership.json()["field"]) == (422, "venue_id")
    assert invited_staff.status_code == 201
    assert by_staff.status_code == 403
    assert myself.status_code == 403
    assert [p["email"] for p in search.json()["items"]] == ["accueil2@lieu.example"]


async def test_door_devices_get_a_token_once_and_can_be_revoked(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue = await make_venue()
    admin = auth(settings, await make_user(Role.VENUE_ADMIN, venue=venue))
    staff = auth(settings, await make_user(Role.VENUE_STAFF, venue=venue))
    other_admin = auth(settings, await make_user(Role.VENUE_ADMIN))

    created = await client.post(
        f"/api/v1/venues/{venue.id}/door-devices", json={"name": "Accueil"}, headers=admin
    )
    token = created.json()["token"]
    device = {"Authorization": f"Bearer {token}"}
    whoami = await client.get("/api/v1/devices/me", headers=device)
    not_for_devices = await client.get("/api/v1/me", headers=device)
    listed = await client.get(f"/api/v1/venues/{venue.id}/door-devices", headers=staff)
    by_staff = await client.post(
        f"/api/v1/venues/{venue.id}/door-devices", json={"name": "x"}, headers=staff
    )
    foreign = await client.post(
        f"/api/v1/venues/{venue.id}/door-devices", json={"name": "x"}, headers=other_admin
    )
    nameless = await client.post(
        f"/api/v1/venues/{venue.id}/door-devices", json={"name": "  "}, headers=admin
    )
    device_id = created.json()["device"]["id"]
    revoked = await client.post(
        f"/api/v1/venues/{venue.id}/door-devices/{device_id}/revoke", headers=admin
    )
    again = await client.post(
        f"/api/v1/venues/{venue.id}/door-devices/{device_id}/revoke", headers=admin
    )
    after = await client.get("/api/v1/devices/me", headers=device)
    unknown = await client.post(
        f"/api/v1/venues/{venue.id}/door-devices/{uuid.uuid4()}/revoke", headers=admin
    )

    assert created.status_code == 201, created.text
    assert token.startswith("tldev_")
    assert whoami.json()["venue_id"] == str(venue.id)
    assert not_for_devices.status_code == 403
    assert token not in listed.text
    assert listed.json()[0]["token_prefix"] == token[:10]
    assert by_staff.status_code == 403
    assert foreign.status_code == 403
    assert (nameless.status_code, nameless.json()["field"]) == (422, "name")
    assert revoked.json()["revoked_at"] is not None
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    assert after.status_code == 401
    assert unknown.status_code == 404
    stored = await DoorDevice.select(DoorDevice.token_hash).first()
    assert stored is not None
    assert token not in stored["token_hash"]


# Another tenant's people


async def test_inviting_another_organisations_person_answers_like_a_new_invitation(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """The inviter learns nothing about the address; its owner learns who tried."""
    mine = await make_organisation(name="Ville de Wattrelos")
    theirs = await make_organisation(name="Ville de Croix")
    elsewhere = await make_user(
        Role.AGENT, organisation=theirs, email="zoe@croix.example", display_name="Zoé"
    )
    staff = await make_user(Role.VENUE_STAFF, email="yann@ruche.example")
    admin = auth(settings, await make_user(Role.ORG_ADMIN, organisation=mine))
    agents = f"/api/v1/organisations/{mine.id}/agents"

    new = await client.post(
        agents,
        json={"email": "nouveau@wattrelos.example", "display_name": "Nouveau"},
        headers=admin,
    )
    foreign = await client.post(
        agents, json={"email": "Zoe@Croix.example", "display_name": "Zoé Martin"}, headers=admin
    )
    venue_person = await client.post(
        agents, json={"email": "yann@ruche.example", "display_name": "Yann"}, headers=admin
    )
    token = foreign.json()["invitation_url"].rsplit("/", 1)[1]
    dead_link = await client.post(
        "/api/v1/auth/accept-invitation", json={"token": token, "password": PASSWORD}
    )

    assert new.status_code == foreign.status_code == venue_person.status_code == 201
    for answer in (foreign, venue_person):
        person = answer.json()["person"]
        assert set(answer.json()) == set(new.json())
        assert set(person) == set(new.json()["person"])
        assert person["organisation_id"] == str(mine.id)
        assert (person["role"], person["invitation_pending"], person["active"]) == (
            "agent",
            True,
            True,
        )
        assert person["id"] not in (str(elsewhere.id), str(staff.id))
    assert foreign.json()["person"]["email"] == "Zoe@croix.example"  # as a new one would be
    assert "Croix" not in foreign.text
    # Nothing was created or changed, and the stand-in's link leads nowhere.
    owner = await User.objects().where(User.email == "zoe@croix.example").first()
    assert owner is not None
    assert (owner.organisation, owner.invitation_token_hash) == (theirs.id, None)
    assert await User.count().where(User.email.ilike("zoe@%")) == 1
    assert dead_link.status_code == 404
    mails = await Outbox.select().where(Outbox.kind == "invitation_elsewhere")
    assert sorted(m["recipient"] for m in mails) == ["yann@ruche.example", "zoe@croix.example"]
    assert all("« Ville de Wattrelos »" in m["body"] for m in mails)


async def test_a_duplicate_in_the_same_organisation_or_asked_by_the_network_is_still_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    mine = await make_organisation()
    await make_user(Role.AGENT, organisation=mine, email="deja@mine.example")
    await make_user(Role.AGENT, email="ailleurs@other.example")
    admin = auth(settings, await make_user(Role.ORG_ADMIN, organisation=mine))
    network = auth(settings, await make_user(Role.NETWORK_ADMIN))
    agents = f"/api/v1/organisations/{mine.id}/agents"

    same = await client.post(
        agents, json={"email": "deja@mine.example", "display_name": "D"}, headers=admin
    )
    by_network = await client.post(
        agents, json={"email": "ailleurs@other.example", "display_name": "A"}, headers=network
    )
    bad = await client.post(
        agents, json={"email": "pas-un-email", "display_name": "X"}, headers=admin
    )

    assert (same.status_code, same.json()["type"]) == (409, P + "duplicate-email")
    assert (by_network.status_code, by_network.json()["type"]) == (409, P + "duplicate-email")
    assert (bad.status_code, bad.json()["field"]) == (422, "email")
    assert await Outbox.count().where(Outbox.kind == "invitation_elsewhere") == 0


async def test_a_venue_admin_inviting_another_tenants_person_learns_nothing_either(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue = await make_venue()
    await make_user(Role.AGENT, email="agent@ailleurs.example")
    admin = auth(settings, await make_user(Role.VENUE_ADMIN, venue=venue))

    response = await client.post(
        f"/api/v1/venues/{venue.id}/staff",
        json={"email": "agent@ailleurs.example", "display_name": "Quelqu'un"},
        headers=admin,
    )

    assert response.status_code == 201, response.text
    assert response.json()["person"]["venue_id"] == str(venue.id)
    assert await User.count().where(User.email == "agent@ailleurs.example") == 1
    assert await Outbox.count().where(Outbox.recipient == "agent@ailleurs.example") == 1


async def test_a_csv_import_does_not_map_who_has_an_account_elsewhere(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    mine = await make_organisation()
    await make_user(Role.AGENT, organisation=mine, email="deja@mine.example")
    await make_user(Role.AGENT, email="ailleurs@other.example")
    admin = auth(settings, await make_user(Role.ORG_ADMIN, organisation=mine))
    content = (
        "email,display_name\n"
        "neuf@mine.example,Neuf\n"
        "ailleurs@other.example,Ailleurs\n"
        "deja@mine.example,Déjà\n"
    ).encode()

    response = await client.post(
        f"/api/v1/organisations/{mine.id}/agents/import",
        content=content,
        headers={**admin, "content-type": "text/csv"},
    )

    assert response.status_code == 200, response.text
    assert [c["email"] for c in response.json()["created"]] == [
        "neuf@mine.example",
        "ailleurs@other.example",
    ]
    assert [(e["row"], e["field"]) for e in response.json()["errors"]] == [(4, "email")]
    assert await User.count().where(User.email == "ailleurs@other.example") == 1
    assert await Outbox.count().where(Outbox.recipient == "ailleurs@other.example") == 1


async def test_a_name_with_a_line_break_is_refused_wherever_it_comes_in(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    # A name goes into mail subjects, where a line break either injects a header or, with
    # Python's mail library, fails the whole message; also into invitations, PDFs and CSV.
    organisation = await make_organisation()
    agent = await make_user(Role.AGENT, organisation=organisation)
    admin = auth(settings, await make_user(Role.ORG_ADMIN, organisation=organisation))
    network = auth(settings, await make_user(Role.NETWORK_ADMIN))
    hostile = "Claire\r\nBcc: everyone@evil.example"
    agents = f"/api/v1/organisations/{organisation.id}/agents"

    answers = {
        "invited": await client.post(
            agents, json={"email": "claire@mel.example", "display_name": hostile}, headers=admin
        ),
        "renamed": await client.patch(
            f"{agents}/{agent.id}", json={"display_name": "Eve\nBcc: x@evil.example"}, headers=admin
        ),
        "with a NUL": await client.post(
            agents, json={"email": "nul@mel.example", "display_name": "Nul\x00"}, headers=admin
        ),
        "organisation": await client.post(
            "/api/v1/organisations", json=organisation_body(name="Ville\r\nX"), headers=network
        ),
    }
    imported = await client.post(
        f"{agents}/import",
        content=(
            b'email;display_name\nclaire@mel.example;"Claire\r\nBcc: everyone@evil.example"\n'
            b"dora@mel.example;Dora Martin\n"
        ),
        headers={**admin, "content-type": "text/csv"},
    )

    assert {name: r.status_code for name, r in answers.items()} == {
        "invited": 422,
        "renamed": 422,
        "with a NUL": 422,
        "organisation": 422,
    }
    assert imported.status_code == 200, imported.text
    assert [c["email"] for c in imported.json()["created"]] == ["dora@mel.example"]
    assert [(e["row"], e["field"]) for e in imported.json()["errors"]] == [(2, "display_name")]
    names = await User.select(User.display_name).where(User.organisation == organisation.id)
    assert not [n for n in names if "\n" in n["display_name"] or "\x00" in n["display_name"]]
