"""Self-enrolment by SIRET: the rule an organisation admin sets, and who it lets in."""

from __future__ import annotations

import uuid

import httpx

from booking.services import federation
from booking.services.federation import Identity, NoOrganisationForSiret
from booking.tables import User
from service.kernel.identity import Role
from service.kernel.settings import Settings
from service.kernel.tables import AuditEntry
from tests.factories import auth, make_organisation, make_user
from tests.web.test_pages import post_form, sign_in

SIRET = "21590350100017"


def _identity(**fields: object) -> Identity:
    claims = {
        "given_name": "Camille",
        "family_name": "Martin",
        "email": "camille@lille.example.fr",
        "siret": SIRET,
        **fields,
    }
    return Identity.of("https://provider.example", str(fields.get("sub", "sub-1")), claims, True)


async def test_an_admin_sets_the_rule_through_the_api(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    organisation = await make_organisation()
    admin = await make_user(Role.ORG_ADMIN, organisation=organisation)
    url = f"/api/v1/organisations/{organisation.id}/enrolment"

    saved = await client.put(
        url,
        json={
            "self_enrolment": True,
            "sirets": ["215 903 501 00017"],
            "domains": ["@Lille.example.fr"],
        },
        headers=auth(settings, admin),
    )
    read = await client.get(url, headers=auth(settings, admin))

    assert saved.status_code == 200, saved.text
    assert read.json() == {
        "self_enrolment": True,
        "sirets": [SIRET],
        "domains": ["lille.example.fr"],
    }
    actions = [row["action"] for row in await AuditEntry.select(AuditEntry.action)]
    assert actions == ["organisation.enrolment"]


async def test_bad_rules_wrong_roles_and_unknown_organisations_are_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    organisation = await make_organisation()
    admin = await make_user(Role.ORG_ADMIN, organisation=organisation)
    other_admin = await make_user(Role.ORG_ADMIN)
    agent = await make_user(Role.AGENT, organisation=organisation)
    network = await make_user(Role.NETWORK_ADMIN)
    url = f"/api/v1/organisations/{organisation.id}/enrolment"
    rule = {"self_enrolment": True, "sirets": [SIRET]}

    bad_siret = await client.put(
        url, json={"self_enrolment": True, "sirets": ["123"]}, headers=auth(settings, admin)
    )
    no_siret = await client.put(url, json={"self_enrolment": True}, headers=auth(settings, admin))
    bad_domain = await client.put(
        url, json={**rule, "domains": ["not a domain"]}, headers=auth(settings, admin)
    )
    extra = await client.put(url, json={**rule, "x": 1}, headers=auth(settings, admin))
    as_agent = await client.put(url, json=rule, headers=auth(settings, agent))
    elsewhere = await client.put(url, json=rule, headers=auth(settings, other_admin))
    unknown = await client.put(
        f"/api/v1/organisations/{uuid.uuid4()}/enrolment",
        json=rule,
        headers=auth(settings, network),
    )
    anonymous = await client.get(url)

    assert bad_siret.status_code == 422
    assert bad_siret.json()["field"] == "sirets"
    assert no_siret.status_code == 422
    assert bad_domain.status_code == 422
    assert bad_domain.json()["field"] == "domains"
    assert extra.status_code in (400, 422)
    assert as_agent.status_code == 403
    assert elsewhere.status_code == 403
    assert unknown.status_code == 404
    assert anonymous.status_code == 401
    assert (await federation.enrolment_rule(organisation.id)).self_enrolment is False
    assert await AuditEntry.count() == 0


async def test_only_an_enrolling_organisation_of_that_siret_and_domain_takes_the_agent(
    database_url: str,
) -> None:
    closed = await make_organisation(name="Fermée")
    await federation.set_enrolment_rule(closed.id, False, [SIRET], [])
    inactive = await make_organisation(name="Inactive", active=False)
    await federation.set_enrolment_rule(inactive.id, True, [SIRET], [])
    open_one = await make_organisation(name="Ouverte")
    await federation.set_enrolment_rule(open_one.id, True, [SIRET], ["lille.example.fr"])

    for refused in (
        _identity(siret="11111111111111"),
        _identity(email="camille@elsewhere.example"),
        _identity(siret=None),
        _identity(email=None),
        _identity(siret="2159035010001'; --"),
    ):
        try:
            await federation.person_for(refused)
        except NoOrganisationForSiret:
            pass
        else:
            raise AssertionError(f"{refused} was let in")
    assert await User.count() == 0

    agent = await federation.person_for(_identity())
    assert agent.organisation == open_one.id
    assert [row["id"] for row in await federation.self_enrolled(open_one.id)] == [agent.id]
    assert await federation.self_enrolled(closed.id) == []


async def test_the_enrolment_page_sets_the_rule_and_lists_who_joined(
    client: httpx.AsyncClient,
) -> None:
    organisation = await make_organisation()
    admin = await make_user(Role.ORG_ADMIN, organisation=organisation)
    await sign_in(client, admin)

    bad = await post_form(
        client, "/organisation/enrolment", {"self_enrolment": "on", "sirets": "1234"}
    )
    saved = await post_form(
        client,
        "/organisation/enrolment",
        {"self_enrolment": "on", "sirets": SIRET, "domains": "lille.example.fr"},
    )
    agent = await federation.person_for(_identity())
    shown = await client.get("/organisation/enrolment")
    deactivated = await post_form(client, f"/organisation/agents/{agent.id}/deactivate", {})

    assert bad.status_code == 422
    assert "14 chiffres" in bad.text
    assert saved.status_code == 303
    assert shown.status_code == 200
    assert "Camille Martin" in shown.text
    assert SIRET in shown.text
    assert deactivated.status_code == 303
    stored = await User.select(User.active).where(User.id == agent.id).first()
    assert stored == {"active": False}


def test_a_providers_name_with_line_breaks_is_taken_as_one_line() -> None:
    # The provider is trusted for who signs in, not for what its claims contain: a name with
    # a line break would reach mail subjects. It is cleaned (the person must still sign in).
    identity = Identity.of(
        "https://provider.example",
        "sub-1",
        {"email": "a@b.example", "given_name": "Claire\r\nBcc:", "family_name": "X\x00Y\t"},
        trust_email=False,
    )

    assert (identity.given_name, identity.family_name) == ("Claire Bcc:", "X Y")
    assert identity.display_name == "Claire Bcc: X Y"
