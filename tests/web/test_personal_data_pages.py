"""The pages of the rights of access and erasure: my data on /account, an organisation admin's
export and erasure of an agent, with its confirmation step."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import httpx
import pytest

from booking.tables import Organisation, User
from service.kernel.identity import Role
from service.kernel.tables import AuditEntry
from tests.factories import PASSWORD, make_organisation, make_user
from tests.web.test_pages import post_form, sign_in


@pytest.fixture
async def organisation() -> Organisation:
    return await make_organisation(name="Ville de Roubaix")


@pytest.fixture
async def admin(client: httpx.AsyncClient, organisation: Organisation) -> User:
    user = await make_user(Role.ORG_ADMIN, organisation=organisation)
    assert (await sign_in(client, user)).status_code == 303
    return user


def _data(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        data: dict[str, object] = json.loads(archive.read("data.json"))
    return data


async def test_a_person_downloads_their_data_from_their_account_page(
    client: httpx.AsyncClient,
) -> None:
    agent = await make_user(Role.AGENT, display_name="Camille Test")
    await sign_in(client, agent)

    page = await client.get("/account")
    assert page.status_code == 200
    assert "Télécharger mes données" in page.text
    assert 'href="/account/export"' in page.text
    data = _data(await client.get("/account/export"))

    account = data["account"]
    assert isinstance(account, dict)
    assert (account["id"], account["email"]) == (str(agent.id), agent.email)
    assert await AuditEntry.count().where(AuditEntry.action == "person.export") == 1


async def test_the_account_export_needs_a_session(client: httpx.AsyncClient) -> None:
    response = await client.get("/account/export")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/")


async def test_an_admin_exports_then_erases_an_agent_after_confirming(
    client: httpx.AsyncClient, organisation: Organisation, admin: User
) -> None:
    agent = await make_user(
        Role.AGENT, organisation=organisation, display_name="Ines Efface", email="ines@example.org"
    )
    listing = await client.get("/organisation")
    assert f'href="/organisation/agents/{agent.id}/erase"' in listing.text
    assert "Effacer" in listing.text
    data = _data(await client.get(f"/organisation/agents/{agent.id}/export"))
    assert data["account"]["email"] == "ines@example.org"  # type: ignore[index]

    confirm = await client.get(f"/organisation/agents/{agent.id}/erase")
    assert confirm.status_code == 200
    assert "Ines Efface" in confirm.text
    assert agent.pseudonym in confirm.text
    assert 'name="confirm_email"' in confirm.text
    # The wrong address: nothing happens, the page says why.
    wrong = await post_form(
        client, f"/organisation/agents/{agent.id}/erase", {"confirm_email": "ines@example.com"}
    )
    assert wrong.status_code == 422
    assert "Saisissez exactement" in wrong.text
    await agent.refresh()
    assert agent.email == "ines@example.org"

    done = await post_form(
        client, f"/organisation/agents/{agent.id}/erase", {"confirm_email": " INES@example.org "}
    )
    assert done.status_code == 303
    after = await client.get(done.headers["location"])
    assert "Agent effacé" in after.text
    assert "Ines Efface" not in after.text
    assert agent.pseudonym in after.text
    await agent.refresh()
    assert agent.display_name == agent.pseudonym
    assert agent.active is False
    assert await AuditEntry.count().where(AuditEntry.action == "person.erase") == 1
    # Twice: 410; the erased agent's row offers no action any more.
    assert f'href="/organisation/agents/{agent.id}/erase"' not in after.text
    assert (await client.get(f"/organisation/agents/{agent.id}/erase")).status_code == 410
    again = await post_form(
        client, f"/organisation/agents/{agent.id}/erase", {"confirm_email": agent.email}
    )
    assert again.status_code == 410
    assert (await client.get(f"/organisation/agents/{agent.id}/export")).status_code == 404
    # The agent can no longer sign in.
    signed = await client.post("/signin", data={"email": "ines@example.org", "password": PASSWORD})
    assert signed.status_code != 303


async def test_foreign_unknown_and_non_agent_ids_are_not_found(
    client: httpx.AsyncClient, organisation: Organisation, admin: User
) -> None:
    stranger = await make_user(Role.AGENT)
    for target in (stranger.id, uuid.uuid4(), admin.id):
        for path in (
            f"/organisation/agents/{target}/erase",
            f"/organisation/agents/{target}/export",
        ):
            assert (await client.get(path)).status_code == 404, path
        refused = await post_form(
            client, f"/organisation/agents/{target}/erase", {"confirm_email": stranger.email}
        )
        assert refused.status_code == 404
    await stranger.refresh()
    assert stranger.active is True
    assert await AuditEntry.count() == 0


async def test_other_roles_get_a_403_page(
    client: httpx.AsyncClient, organisation: Organisation
) -> None:
    agent = await make_user(Role.AGENT, organisation=organisation)
    await sign_in(client, agent)
    for path in (
        f"/organisation/agents/{agent.id}/erase",
        f"/organisation/agents/{agent.id}/export",
    ):
        assert (await client.get(path)).status_code == 403
    refused = await post_form(
        client, f"/organisation/agents/{agent.id}/erase", {"confirm_email": agent.email}
    )
    assert refused.status_code == 403
    await agent.refresh()
    assert agent.active is True
