"""The organisation console over HTTP: agents, CSV import, policy, usage, invoices and refusals."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx
import pytest

from billing.tables import Document, DocumentFile, Payment
from booking.tables import Organisation, Outbox, User
from service.kernel.identity import Role
from tests.billing.factories import make_document
from tests.factories import make_booking, make_organisation, make_user, make_venue, make_workspace
from tests.web.test_pages import csrf_token, post_form, sign_in
from web.consoles import today


@pytest.fixture
async def organisation() -> Organisation:
    return await make_organisation(name="Ville de Roubaix")


@pytest.fixture
async def admin(client: httpx.AsyncClient, organisation: Organisation) -> User:
    user = await make_user(Role.ORG_ADMIN, organisation=organisation)
    response = await sign_in(client, user)
    assert response.status_code == 303
    assert response.headers["location"] == "/organisation"
    return user


async def make_invoice(organisation: Organisation, **fields: object) -> Document:
    """A minimal issued invoice (the close itself is tested in tests/billing)."""
    values: dict[str, object] = {
        "number": f"F-2026-{uuid.uuid4().hex[:5]}",
        "series": "F",
        "organisation": organisation.id,
        "total_excl_cents": 20_000,
        "total_vat_cents": 4_000,
        "total_incl_cents": 24_000,
        "buyer": {"name": organisation.name},
        **fields,
    }
    return await make_document("invoice", **values)


async def upload(client: httpx.AsyncClient, content: bytes) -> httpx.Response:
    return await client.post(
        "/organisation/agents/import",
        data={"_csrf_token": await csrf_token(client)},
        files={"file": ("agents.csv", content, "text/csv")},
    )


# Access


async def test_anonymous_is_sent_to_sign_in_and_other_roles_get_a_403_page(
    client: httpx.AsyncClient, organisation: Organisation
) -> None:
    assert (await client.get("/organisation")).status_code == 303
    agent = await make_user(Role.AGENT, organisation=organisation)
    await sign_in(client, agent)
    for path in (
        "/organisation",
        "/organisation/policy",
        "/organisation/usage",
        "/organisation/invoices",
    ):
        response = await client.get(path)
        assert response.status_code == 403, path
        assert "Accès refusé" in response.text


# Agents


async def test_agents_are_listed_with_their_status_and_searchable(
    client: httpx.AsyncClient, organisation: Organisation, admin: User
) -> None:
    await make_user(Role.AGENT, organisation=organisation, display_name="Alix Martin")
    gone = await make_user(Role.AGENT, organisation=organisation, display_name="Bo Durand")
    await User.update({User.active: False}).where(User.id == gone.id)
    await make_user(Role.AGENT, display_name="Chez Autrui")
    response = await client.get("/organisation")
    assert response.status_code == 200
    assert "Alix Martin" in response.text
    assert "Bo Durand" in response.text
    assert "Désactivé" in response.text
    assert "Chez Autrui" not in response.text
    found = await client.get("/organisation?q=alix")
    assert "Alix Martin" in found.text
    assert "Bo Durand" not in found.text


async def test_invite_an_agent_shows_the_link_once_and_refuses_a_duplicate(
    client: httpx.AsyncClient, organisation: Organisation, admin: User
) -> None:
    response = await post_form(
        client,
        "/organisation/agents",
        {"email": "nina@roubaix.fr", "display_name": "Nina Roux", "allowance": "6"},
    )
    assert response.status_code == 201
    assert "/invitation/" in response.text
    invited = await User.objects().where(User.email == "nina@roubaix.fr").first()
    assert invited is not None
    assert (invited.organisation, invited.role, invited.monthly_allowance_units) == (
        organisation.id,
        "agent",
        6,
    )
    assert "Invitation envoyée" in (await client.get("/organisation")).text

    again = await post_form(
        client, "/organisation/agents", {"email": "nina@roubaix.fr", "display_name": "Nina"}
    )
    assert again.status_code == 409
    assert 'id="email-error"' in again.text
    assert "existe déjà" in again.text
    assert await User.count().where(User.email == "nina@roubaix.fr") == 1


async def test_inviting_another_organisations_person_looks_like_any_invitation(
    client: httpx.AsyncClient, organisation: Organisation, admin: User
) -> None:
    await make_user(Role.AGENT, email="zoe@croix.example", display_name="Zoé")

    response = await post_form(
        client, "/organisation/agents", {"email": "zoe@croix.example", "display_name": "Zoé M"}
    )

    assert response.status_code == 201
    assert "/invitation/" in response.text
    assert "existe déjà" not in response.text
    assert await User.count().where(User.email == "zoe@croix.example") == 1
    mail = await Outbox.select().where(Outbox.kind == "invitation_elsewhere").first()
    assert mail is not None
    assert mail["recipient"] == "zoe@croix.example"
    assert "Ville de Roubaix" in mail["body"]


async def test_bad_invitations_are_refused_next_to_their_fields(
    client: httpx.AsyncClient, admin: User
) -> None:
    response = await post_form(
        client,
        "/organisation/agents",
        {"email": "pas-une-adresse", "display_name": " ", "allowance": "-3"},
    )
    assert response.status_code == 422
    for field in ("email", "display_name", "allowance"):
        assert f'id="{field}-error"' in response.text, field
    assert 'value="pas-une-adresse"' in response.text
    assert await User.count().where(User.role == "agent") == 0


async def test_a_csv_import_invites_the_good_rows_and_lists_the_bad_ones(
    client: httpx.AsyncClient, organisation: Organisation, admin: User
) -> None:
    content = (
        "email;display_name;monthly_allowance_units\n"
        "lea@roubaix.fr;Léa Petit;4\n"
        "pas-une-adresse;Sans Adresse;\n"
        "tom@roubaix.fr;Tom Blanc;\n"
    ).encode()
    response = await upload(client, content)
    assert response.status_code == 200
    assert "2 agents invités" in response.text
    assert "1 ligne refusée" in response.text
    assert '<tr class="import-error"><td>3</td>' in response.text
    assert await User.count().where(User.organisation == organisation.id) == 3  # + the admin


async def test_a_csv_without_its_columns_or_without_a_file_is_refused(
    client: httpx.AsyncClient, admin: User
) -> None:
    response = await upload(client, b"courriel,nom\na@b.fr,A\n")
    assert response.status_code == 422
    assert 'id="file-error"' in response.text
    empty = await upload(client, b"")
    assert empty.status_code == 422
    assert 'id="file-error"' in empty.text
    no_csrf = await client.post(
        "/organisation/agents/import",
        files={"file": ("agents.csv", b"email,display_name\na@b.fr,A\n", "text/csv")},
    )
    assert no_csrf.status_code == 403
    assert await User.count().where(User.role == "agent") == 0


async def test_deactivate_and_reactivate_an_agent_but_not_someone_elses(
    client: httpx.AsyncClient, organisation: Organisation, admin: User
) -> None:
    agent = await make_user(Role.AGENT, organisation=organisation, display_name="Ines")
    response = await post_form(client, f"/organisation/agents/{agent.id}/deactivate", {})
    assert response.status_code == 303
    await agent.refresh()
    assert agent.active is False
    assert "Agent désactivé" in (await client.get(response.headers["location"])).text
    assert (
        await post_form(client, f"/organisation/agents/{agent.id}/reactivate", {})
    ).status_code == 303
    await agent.refresh()
    assert agent.active is True

    stranger = await make_user(Role.AGENT)
    refused = await post_form(client, f"/organisation/agents/{stranger.id}/deactivate", {})
    assert refused.status_code == 404
    await stranger.refresh()
    assert stranger.active is True
    assert (
        await post_form(client, f"/organisation/agents/{admin.id}/deactivate", {})
    ).status_code == 404
    assert (
        await post_form(client, f"/organisation/agents/{uuid.uuid4()}/reactivate", {})
    ).status_code == 404


# Policy


async def test_the_policy_is_edited_with_the_apis_bounds(
    client: httpx.AsyncClient, organisation: Organisation, admin: User
) -> None:
    page = await client.get("/organisation/policy")
    assert page.status_code == 200
    assert 'name="monthly_allowance_units"' in page.text
    response = await post_form(
        client,
        "/organisation/policy",
        {
            "monthly_allowance_units": "12",
            "booking_horizon_days": "60",
            "cancellation_deadline_hours": "48",
            "bill_no_shows": "1",
            "billing_address": "Hôtel de ville, 59100 Roubaix",
            "billing_email": "compta@roubaix.fr",
            "chorus_service_code": "SERV-1",
            "chorus_engagement_number": "",
        },
    )
    assert response.status_code == 303
    await organisation.refresh()
    assert organisation.monthly_allowance_units == 12
    assert organisation.booking_horizon_days == 60
    assert organisation.cancellation_deadline_hours == 48
    assert organisation.bill_no_shows is True
    assert organisation.bill_late_cancellations is False
    assert organisation.billing_email == "compta@roubaix.fr"
    assert organisation.chorus_service_code == "SERV-1"
    assert organisation.chorus_engagement_number is None
    assert organisation.name == "Ville de Roubaix"


async def test_bad_policy_values_are_shown_next_to_their_fields(
    client: httpx.AsyncClient, organisation: Organisation, admin: User
) -> None:
    response = await post_form(
        client,
        "/organisation/policy",
        {
            "monthly_allowance_units": "1001",
            "booking_horizon_days": "0",
            "cancellation_deadline_hours": "beaucoup",
            "billing_address": "",
            "billing_email": "compta",
            "chorus_service_code": "x" * 101,
        },
    )
    assert response.status_code == 422
    for field in (
        "monthly_allowance_units",
        "booking_horizon_days",
        "cancellation_deadline_hours",
        "billing_address",
        "billing_email",
        "chorus_service_code",
    ):
        assert f'id="{field}-error"' in response.text, field
    assert 'value="1001"' in response.text
    before = organisation.monthly_allowance_units
    await organisation.refresh()
    assert organisation.monthly_allowance_units == before


# Usage


async def test_usage_per_agent_for_a_month_with_totals(
    client: httpx.AsyncClient, organisation: Organisation, admin: User
) -> None:
    desk = await make_workspace(await make_venue())
    alix = await make_user(Role.AGENT, organisation=organisation, display_name="Alix")
    bo = await make_user(Role.AGENT, organisation=organisation, display_name="Bo")
    month = today().replace(day=1) - timedelta(days=20)
    first = month.replace(day=3)
    await make_booking(alix, desk, first, status="completed")
    await make_booking(alix, desk, first + timedelta(days=1), status="no_show")
    await make_booking(bo, desk, first, status="cancelled")
    stranger = await make_user(Role.AGENT, display_name="Quelqu'un d'autre")
    await make_booking(stranger, desk, first + timedelta(days=2), status="completed")

    response = await client.get(f"/organisation/usage?month={month:%Y-%m}")
    assert response.status_code == 200
    text = response.text
    assert "Quelqu&#39;un d&#39;autre" not in text
    alix_row = text.split('<th scope="row">Alix', 1)[1].split("</tr>", 1)[0]
    # 2 bookings, 1 attended, 0 upcoming, 1 no-show, 0 cancelled; 4 half-days (2 days) counted
    cells = [c.split("</td>")[0] for c in alix_row.split('<td class="num">')[1:]]
    assert cells[:5] == ["2", "1", "0", "1", "0"]
    assert cells[5].startswith("4 / ")
    total_row = text.split("<tfoot>", 1)[1]
    assert [c.split("</td>")[0] for c in total_row.split('<td class="num">')[1:]][:5] == [
        "3",
        "1",
        "0",
        "1",
        "1",
    ]

    bad = await client.get("/organisation/usage?month=2026-13")
    assert bad.status_code == 422
    assert 'id="month-error"' in bad.text


# Invoices


async def test_invoices_list_with_paid_status_and_serve_their_three_files(
    client: httpx.AsyncClient, organisation: Organisation, admin: User
) -> None:
    mine = await make_invoice(organisation)
    paid = await make_invoice(organisation, period=date(2026, 9, 1))
    await Payment(
        document=paid.id,
        amount_cents=24_000,
        method="bank_transfer",
        reference="VIR",
        received_on=date(2026, 10, 20),
    ).save()
    theirs = await make_invoice(await make_organisation())
    listing = await client.get("/organisation/invoices")
    assert listing.status_code == 200
    assert mine.number in listing.text
    assert theirs.number not in listing.text
    assert "Payée" in listing.text
    assert "240,00" in listing.text
    assert paid.number not in (await client.get("/organisation/invoices?period=2026-10")).text
    bad = await client.get("/organisation/invoices?period=10-2026")
    assert bad.status_code == 422
    assert 'id="period-error"' in bad.text

    waiting = await client.get(f"/organisation/invoices/{mine.id}/pdf")
    assert waiting.status_code == 503
    assert waiting.headers["retry-after"] == "5"
    assert mine.number in waiting.text
    for kind, content in (
        ("facturx_pdf", b"%PDF-fx"),
        ("pdf", b"%PDF-plain"),
        ("cii_xml", b"<xml/>"),
    ):
        await DocumentFile(document=mine.id, kind=kind, content=content).save()
    facturx = await client.get(f"/organisation/invoices/{mine.id}/pdf")
    assert (facturx.status_code, facturx.content) == (200, b"%PDF-fx")
    assert f"facture-{mine.number}.pdf" in facturx.headers["content-disposition"]
    plain = await client.get(f"/organisation/invoices/{mine.id}/plain-pdf")
    assert (plain.status_code, plain.content) == (200, b"%PDF-plain")
    xml = await client.get(f"/organisation/invoices/{mine.id}/xml")
    assert (xml.status_code, xml.content) == (200, b"<xml/>")
    assert xml.headers["content-type"].startswith("application/xml")

    assert (await client.get(f"/organisation/invoices/{mine.id}/docx")).status_code == 404
    assert (await client.get(f"/organisation/invoices/{theirs.id}/pdf")).status_code == 404
    assert (await client.get(f"/organisation/invoices/{uuid.uuid4()}/xml")).status_code == 404


async def test_the_console_reads_in_english_too(client: httpx.AsyncClient, admin: User) -> None:
    for path, heading in (
        ("/organisation", "Agents"),
        ("/organisation/policy", "Allowances and policy"),
        ("/organisation/usage", "Bookings and usage"),
        ("/organisation/invoices", "Invoices"),
    ):
        response = await client.get(f"{path}?lang=en")
        assert response.status_code == 200
        assert f"<h1>{heading}</h1>" in response.text, path
        assert "org." not in response.text.split("<main", 1)[1], path  # no key left untranslated
