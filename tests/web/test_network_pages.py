"""The network console over HTTP: each page, its actions, and its refusals shown on the page."""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from piccolo.apps.user.tables import BaseUser
from piccolo_api.session_auth.tables import SessionsBase
from redis.asyncio import Redis

from billing.close import close_period, paris_today
from billing.tables import BillingPeriod, Document, Payout
from booking.tables import OrganisationRate, User, Venue, VenueRate, Workspace
from passes.tables import Anomaly, Visit
from service.kernel.identity import Role
from tests.billing.factories import NETWORK, make_visit
from tests.factories import make_organisation, make_rates, make_user, make_venue, make_workspace
from tests.web.test_pages import post_form, sign_in
from web.network_admin import admin_tables


@dataclass
class World:
    venue: Venue
    applied: Venue
    desk: Workspace
    agent: User
    visit: Visit
    anomaly: Anomaly


def last_month_day(day: int = 10) -> date:
    return (paris_today().replace(day=1) - timedelta(days=1)).replace(day=day)


@pytest.fixture
async def world() -> World:
    organisation = await make_organisation(name="Métropole Test")
    venue = await make_venue(name="La Ruche Test", commune="Roubaix", insee_code="59512")
    applied = await make_venue(name="Candidat Test", status="applied")
    desk = await make_workspace(venue, capacity=4)
    await make_rates(venue, effective_from=last_month_day(1))
    agent = await make_user(Role.AGENT, organisation=organisation, display_name="Camille Agent")
    visit = await make_visit(agent, venue, desk, last_month_day(10))
    flagged = await make_visit(agent, venue, desk, last_month_day(11), billable=False)
    anomaly = Anomaly(
        kind="over_capacity", visit=flagged.id, venue=venue.id, detail="Salle pleine."
    )
    await anomaly.save()
    return World(venue, applied, desk, agent, visit, anomaly)


@pytest.fixture
async def network_admin(client: httpx.AsyncClient) -> User:
    user = await make_user(Role.NETWORK_ADMIN, display_name="Régie Test")
    response = await sign_in(client, user)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/network"
    return user


PAGES = (
    "/network",
    "/network/venues",
    "/network/rates",
    "/network/anomalies",
    "/network/close",
    "/network/invoices",
    "/network/payouts",
)


# Access


async def test_every_console_page_opens_for_the_network_admin(
    client: httpx.AsyncClient, world: World, network_admin: User
) -> None:
    for path in PAGES:
        response = await client.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:500]}"
        assert '<html lang="fr">' in response.text
        assert 'href="/network/anomalies"' in response.text  # the console's menu


@pytest.mark.parametrize("role", [Role.AGENT, Role.VENUE_ADMIN, Role.VENUE_STAFF, Role.ORG_ADMIN])
async def test_other_roles_get_the_403_page(client: httpx.AsyncClient, role: Role) -> None:
    venue = await make_venue() if role in (Role.VENUE_ADMIN, Role.VENUE_STAFF) else None
    organisation = await make_organisation() if role in (Role.AGENT, Role.ORG_ADMIN) else None
    await sign_in(client, await make_user(role, venue=venue, organisation=organisation))
    for path in (*PAGES, "/network/admin/"):
        response = await client.get(path)
        assert response.status_code == 403, f"{path} as {role}: {response.status_code}"
        assert "Accès refusé" in response.text


async def test_strangers_are_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    for path in (*PAGES, "/network/admin/"):
        response = await client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/"


async def test_forms_without_the_csrf_token_are_refused(
    client: httpx.AsyncClient, world: World, network_admin: User
) -> None:
    response = await client.post(
        f"/network/venues/{world.applied.id}/status", data={"action": "approve"}
    )
    assert response.status_code == 403
    assert (await Venue.select(Venue.status).where(Venue.id == world.applied.id).first()) == {
        "status": "applied"
    }


# Dashboard


async def test_dashboard_draws_charts_with_their_numbers_and_the_map(
    client: httpx.AsyncClient, world: World, network_admin: User
) -> None:
    month = last_month_day(1)
    response = await client.get(f"/network?month={month:%Y-%m}")
    assert response.status_code == 200
    page = response.text
    assert page.count('role="img"') >= 5
    # The text equivalent: La Ruche Test had two visits last month.
    assert re.search(r"<th scope=\"row\">La Ruche Test</th><td class=\"num\">2</td>", page)
    assert re.search(r"<th scope=\"row\">Roubaix</th><td class=\"num\">2</td>", page)
    assert re.search(r"<th scope=\"row\">Métropole Test</th><td class=\"num\">2</td>", page)
    assert f'href="/network/venues#venue-{world.venue.id}"' in page  # a map point
    assert "Candidat Test" in page  # pending venues are on the map too


async def test_dashboard_with_a_bad_month_says_so(
    client: httpx.AsyncClient, world: World, network_admin: User
) -> None:
    response = await client.get("/network?month=2026-13")
    assert response.status_code == 422
    assert "Choisissez un mois" in response.text


# Venue applications


async def test_network_admin_approves_a_pending_application(
    client: httpx.AsyncClient, world: World, network_admin: User
) -> None:
    page = await client.get("/network/venues")
    assert "Candidat Test" in page.text
    response = await post_form(
        client, f"/network/venues/{world.applied.id}/status", {"action": "approve"}
    )
    assert response.status_code == 303
    assert (await Venue.select(Venue.status).where(Venue.id == world.applied.id).first()) == {
        "status": "approved"
    }
    after = await client.get(response.headers["location"])
    assert "Lieu approuvé" in after.text


async def test_rejecting_then_approving_again_is_a_conflict_shown_on_the_page(
    client: httpx.AsyncClient, world: World, network_admin: User
) -> None:
    url = f"/network/venues/{world.applied.id}/status"
    assert (await post_form(client, url, {"action": "reject"})).status_code == 303
    again = await post_form(client, url, {"action": "approve"})
    assert again.status_code == 409
    assert "ne peut pas passer à cet état" in again.text
    assert (await Venue.select(Venue.status).where(Venue.id == world.applied.id).first()) == {
        "status": "closed"
    }


async def test_status_change_refuses_a_bad_action_and_an_unknown_venue(
    client: httpx.AsyncClient, world: World, network_admin: User
) -> None:
    bad = await post_form(client, f"/network/venues/{world.applied.id}/status", {"action": "x"})
    assert bad.status_code == 422
    assert "Valeur incorrecte" in bad.text
    unknown = await post_form(
        client, f"/network/venues/{uuid.uuid4()}/status", {"action": "approve"}
    )
    assert unknown.status_code == 404


# Rates


async def test_rates_page_shows_the_card_in_force_and_adds_a_rate(
    client: httpx.AsyncClient, world: World, network_admin: User
) -> None:
    owner = f"venue:{world.venue.id}"
    page = await client.get(f"/network/rates?owner={owner}")
    assert page.status_code == 200
    assert "En vigueur" in page.text
    assert "12,00\u00a0€" in page.text
    day = paris_today() + timedelta(days=30)
    response = await post_form(
        client,
        "/network/rates",
        {
            "owner": owner,
            "workspace_kind": "desk",
            "unit": "half_day",
            "amount": "13,50",
            "vat": "20",
            "effective_from": day.isoformat(),
        },
    )
    assert response.status_code == 303, response.text
    rate = (
        await VenueRate.select()
        .where((VenueRate.venue == world.venue.id) & (VenueRate.effective_from == day))
        .first()
    )
    assert rate is not None
    assert rate["amount_cents"] == 1350
    assert str(rate["vat_rate"]) == "0.2000"
    after = await client.get(response.headers["location"])
    assert "Tarif ajouté" in after.text
    assert "À venir" in after.text


async def test_a_rate_with_bad_values_shows_each_error_next_to_its_field(
    client: httpx.AsyncClient, world: World, network_admin: User
) -> None:
    response = await post_form(
        client,
        "/network/rates",
        {
            "owner": "default",
            "workspace_kind": "desk",
            "unit": "half_day",
            "amount": "12,345",
            "vat": "vingt",
            "effective_from": "demain",
        },
    )
    assert response.status_code == 422
    assert 'id="amount-error"' in response.text
    assert 'id="vat-error"' in response.text
    assert 'id="effective_from-error"' in response.text
    assert 'value="12,345"' in response.text  # nothing typed is lost


async def test_a_rate_the_service_refuses_is_explained_at_its_field(
    client: httpx.AsyncClient, world: World, network_admin: User
) -> None:
    # A desk is not priced by the hour (catalogue.check_rate, as for the API).
    response = await post_form(
        client,
        "/network/rates",
        {
            "owner": "default",
            "workspace_kind": "desk",
            "unit": "hour",
            "amount": "5",
            "vat": "20",
            "effective_from": "2030-01-01",
        },
    )
    assert response.status_code == 422
    assert 'id="unit-error"' in response.text
    # A VAT rate of 100 % or more is refused by the same check as the API.
    response = await post_form(
        client,
        "/network/rates",
        {
            "owner": "default",
            "workspace_kind": "desk",
            "unit": "day",
            "amount": "5",
            "vat": "150",
            "effective_from": "2030-01-01",
        },
    )
    assert response.status_code == 422
    assert 'id="vat-error"' in response.text
    assert not await OrganisationRate.exists().where(
        OrganisationRate.effective_from == paris_today().replace(year=2030, month=1, day=1)
    )


async def test_a_duplicate_rate_is_a_conflict_shown_on_the_page(
    client: httpx.AsyncClient, world: World, network_admin: User
) -> None:
    form = {
        "owner": "default",
        "workspace_kind": "desk",
        "unit": "half_day",
        "amount": "18",
        "vat": "20",
        "effective_from": last_month_day(1).isoformat(),
    }
    response = await post_form(client, "/network/rates", form)
    assert response.status_code == 409
    assert "Un tarif existe déjà" in response.text
    assert 'id="effective_from-error"' in response.text


async def test_rates_of_an_unknown_owner(
    client: httpx.AsyncClient, world: World, network_admin: User
) -> None:
    assert (await client.get(f"/network/rates?owner=venue:{uuid.uuid4()}")).status_code == 404
    bad = await client.get("/network/rates?owner=planet:mars")
    assert bad.status_code == 422
    assert "Choisissez une grille" in bad.text
    form = {
        "owner": f"organisation:{uuid.uuid4()}",
        "workspace_kind": "desk",
        "unit": "day",
        "amount": "5",
        "vat": "20",
        "effective_from": "2030-01-01",
    }
    assert (await post_form(client, "/network/rates", form)).status_code == 404


# Anomalies


async def test_accepting_the_anomaly_makes_the_visit_billable(
    client: httpx.AsyncClient, world: World, network_admin: User
) -> None:
    page = await client.get("/network/anomalies")
    assert "Lieu complet" in page.text
    assert "Salle pleine." in page.text
    response = await post_form(
        client,
        f"/network/anomalies/{world.anomaly.id}/decision",
        {"decision": "accept", "comment": "Salle pleine mais accueil assuré."},
    )
    assert response.status_code == 303, response.text
    row = await Anomaly.select().where(Anomaly.id == world.anomaly.id).first()
    assert row is not None
    assert row["status"] == "accepted"
    assert row["decided_by"] == network_admin.id
    assert await Visit.exists().where((Visit.id == row["visit"]) & (Visit.billable == True))  # noqa: E712
    after = await client.get(response.headers["location"])
    assert "la visite sera facturée" in after.text


async def test_anomaly_decisions_refused_are_shown_next_to_the_anomaly(
    client: httpx.AsyncClient, world: World, network_admin: User
) -> None:
    url = f"/network/anomalies/{world.anomaly.id}/decision"
    empty = await post_form(client, url, {"decision": "reject", "comment": "  "})
    assert empty.status_code == 422
    assert "Écrivez le motif" in empty.text
    bad = await post_form(client, url, {"decision": "maybe", "comment": "?"})
    assert bad.status_code == 422
    assert (
        await post_form(client, url, {"decision": "reject", "comment": "Non."})
    ).status_code == 303
    twice = await post_form(client, url, {"decision": "accept", "comment": "Finalement oui."})
    assert twice.status_code == 409
    assert "déjà été tranchée" in twice.text
    unknown = await post_form(
        client,
        f"/network/anomalies/{uuid.uuid4()}/decision",
        {"decision": "accept", "comment": "x"},
    )
    assert unknown.status_code == 404
    assert (await client.get("/network/anomalies?status=whatever")).status_code == 422


async def test_accepting_a_missing_rate_anomaly_without_rate_says_rate_still_missing(
    client: httpx.AsyncClient, world: World, network_admin: User
) -> None:
    other = await make_venue(name="Sans Tarif")
    desk = await make_workspace(other)
    visit = await make_visit(world.agent, other, desk, last_month_day(12), billable=False)
    anomaly = Anomaly(kind="missing_rate", visit=visit.id, venue=other.id, detail="Pas de tarif.")
    await anomaly.save()
    response = await post_form(
        client,
        f"/network/anomalies/{anomaly.id}/decision",
        {"decision": "accept", "comment": "À facturer."},
    )
    assert response.status_code == 409
    assert "Aucun tarif n'est encore en vigueur" in html.unescape(response.text)
    row = await Anomaly.select(Anomaly.status).where(Anomaly.id == anomaly.id).first()
    assert row == {"status": "open"}


# Month close


async def test_dry_run_shows_totals_and_issues_nothing(
    client: httpx.AsyncClient, world: World, network_admin: User
) -> None:
    month = last_month_day(1)
    response = await post_form(
        client,
        "/network/close",
        {"month": f"{month:%Y-%m}", "mode": "dry_run"},
    )
    assert response.status_code == 200, response.text
    assert "Simulation" in response.text
    # One billable visit: 15,00 € invoiced, 10,00 € owed, 5,00 € kept.
    assert re.search(r'id="dry-invoiced">15,00\xa0€', response.text)
    assert re.search(r'id="dry-share">5,00\xa0€', response.text)
    assert await Document.count() == 0


async def test_close_is_queued_and_the_page_refreshes_until_the_result(
    client: httpx.AsyncClient, world: World, network_admin: User, redis: Redis
) -> None:
    month = last_month_day(1)
    period = f"{month:%Y-%m}"
    response = await post_form(client, "/network/close", {"month": period, "mode": "close"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/network/close?month={period}&queued=1"
    assert await redis.exists(f"arq:job:close:{period}")
    waiting = await client.get(response.headers["location"])
    assert '<meta http-equiv="refresh"' in waiting.text
    assert "Clôture en cours" in waiting.text
    # The worker's job, run here as the worker would.
    await close_period(month, NETWORK)
    done = await client.get(f"/network/close?month={period}")
    assert '<meta http-equiv="refresh"' not in done.text
    assert "Mois clôturé" in done.text
    assert re.search(r'id="total-invoiced">15,00\xa0€', done.text)
    assert re.search(r'id="total-share">5,00\xa0€', done.text)
    csv = await client.get(f"/network/close/{period}/summary.csv?by=organisation")
    assert csv.status_code == 200
    assert "Métropole Test" in csv.content.decode("utf-8-sig")
    assert (await client.get(f"/network/close/{period}/summary.csv?by=planet")).status_code == 404


async def test_the_close_page_says_since_when_a_close_waits_for_a_worker(
    client: httpx.AsyncClient, world: World, network_admin: User
) -> None:
    month = last_month_day(1)
    period = f"{month:%Y-%m}"
    response = await post_form(client, "/network/close", {"month": period, "mode": "close"})
    assert response.status_code == 303
    # No worker runs in this test: the close stays queued.
    fresh = html.unescape((await client.get(f"/network/close?month={period}")).text)
    assert "Clôture en cours : demandée" in fresh
    assert "En attente d'un worker" not in fresh  # asked for less than a minute ago

    queued_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)
    await BillingPeriod.update({BillingPeriod.queued_at: queued_at}).where(
        BillingPeriod.month == month
    )
    clock = queued_at.astimezone(ZoneInfo("Europe/Paris")).strftime("%H:%M")
    french = html.unescape((await client.get(f"/network/close?month={period}")).text)
    english = html.unescape((await client.get(f"/network/close?month={period}&lang=en")).text)

    assert f"En attente d'un worker depuis {clock} : aucun processus" in french
    assert f"Waiting for a worker since {clock}: no background worker" in english
    assert '<meta http-equiv="refresh"' in english  # and the page keeps watching


async def test_close_refusals(client: httpx.AsyncClient, world: World, network_admin: User) -> None:
    this_month = f"{paris_today():%Y-%m}"
    early = await post_form(client, "/network/close", {"month": this_month, "mode": "close"})
    assert early.status_code == 422
    assert "Ce mois n'est pas terminé" in html.unescape(early.text)
    bad = await post_form(client, "/network/close", {"month": "juin", "mode": "close"})
    assert bad.status_code == 422
    assert "Choisissez un mois" in bad.text
    assert not await BillingPeriod.exists().where(BillingPeriod.status == "closing")


async def test_a_document_not_rendered_yet_gets_a_waiting_page(
    client: httpx.AsyncClient, world: World, network_admin: User
) -> None:
    await close_period(last_month_day(1), NETWORK)
    invoice = await Document.select(Document.id).where(Document.kind == "invoice").first()
    assert invoice is not None
    response = await client.get(f"/network/documents/{invoice['id']}/pdf")
    assert response.status_code == 503
    assert "en cours de fabrication" in response.text
    assert (await client.get(f"/network/documents/{uuid.uuid4()}/pdf")).status_code == 404


# Invoices, bank, payouts


async def test_bank_import_matches_an_invoice_and_lists_the_rest(
    client: httpx.AsyncClient, world: World, network_admin: User
) -> None:
    await close_period(last_month_day(1), NETWORK)
    invoice = await Document.select().where(Document.kind == "invoice").first()
    assert invoice is not None
    amount = invoice["total_incl_cents"]
    csv = (
        "date;amount;reference;label\n"
        f"{paris_today()};{amount // 100},{amount % 100:02d};REF-1;Paiement {invoice['number']}\n"
        f"{paris_today()};42,00;REF-2;Virement inconnu\n"
    )
    response = await client.post(
        "/network/bank-statements",
        files={"file": ("releve.csv", csv.encode(), "text/csv")},
        data={"_csrf_token": client.cookies["csrftoken"]},
    )
    assert response.status_code == 200, response.text
    assert "1 rapproché(s), 0 partiel(s), 1 non rapproché(s)" in response.text
    assert "Virement inconnu" in response.text
    listing = await client.get("/network/invoices")
    assert "Payée" in listing.text


async def test_bank_import_refusals_are_shown_at_the_file_field(
    client: httpx.AsyncClient, world: World, network_admin: User
) -> None:
    token = {"_csrf_token": client.cookies["csrftoken"]}
    missing = await client.post("/network/bank-statements", data=token, files={})
    assert missing.status_code in (400, 422)
    wrong = await client.post(
        "/network/bank-statements",
        files={"file": ("releve.csv", b"when;how much\n1;2\n", "text/csv")},
        data=token,
    )
    assert wrong.status_code == 422
    assert 'id="file-error"' in wrong.text
    assert "date;amount;reference;label" in wrong.text
    empty = await client.post(
        "/network/bank-statements", files={"file": ("vide.csv", b"", "text/csv")}, data=token
    )
    assert empty.status_code == 422


async def test_payouts_prepare_download_the_sepa_file_and_mark_paid(
    client: httpx.AsyncClient, world: World, network_admin: User
) -> None:
    month = last_month_day(1)
    period = f"{month:%Y-%m}"
    nothing = await post_form(client, "/network/payouts/sepa", {"month": period})
    assert nothing.status_code == 409
    assert "Aucun virement de ce mois" in nothing.text
    await close_period(month, NETWORK)
    prepared = await post_form(client, "/network/payouts/prepare", {"month": period})
    assert prepared.status_code == 303
    page = await client.get(prepared.headers["location"])
    assert "La Ruche Test" in page.text
    sepa = await post_form(client, "/network/payouts/sepa", {"month": period})
    assert sepa.status_code == 200
    assert sepa.headers["content-type"].startswith("application/xml")
    assert b"pain.001.001.03" in sepa.content
    payout = await Payout.select().first()
    assert payout is not None
    assert payout["status"] == "in_file"
    marked = await post_form(
        client, f"/network/payouts/{payout['id']}/status", {"status": "paid", "month": period}
    )
    assert marked.status_code == 303
    assert (await Payout.select(Payout.status).first()) == {"status": "paid"}
    bad = await post_form(
        client, f"/network/payouts/{payout['id']}/status", {"status": "lost", "month": period}
    )
    assert bad.status_code == 422
    unknown = await post_form(
        client, f"/network/payouts/{uuid.uuid4()}/status", {"status": "paid", "month": period}
    )
    assert unknown.status_code == 404
    assert (await post_form(client, "/network/payouts/prepare", {"month": "x"})).status_code == 422


async def test_pages_with_a_bad_month_say_so(
    client: httpx.AsyncClient, world: World, network_admin: User
) -> None:
    for path in ("/network/close", "/network/invoices", "/network/payouts"):
        response = await client.get(f"{path}?month=2026-00")
        assert response.status_code == 422, path
        assert "Choisissez un mois" in response.text, path


# piccolo-admin


async def test_piccolo_admin_opens_for_a_network_admin_through_a_mirrored_user(
    client: httpx.AsyncClient, world: World, network_admin: User
) -> None:
    bare = await client.get("/network/admin")
    assert bare.status_code == 308
    assert bare.headers["location"] == "/network/admin/"
    home = await client.get("/network/admin/")
    assert home.status_code == 200, home.text
    assert "./assets/" in home.text
    tables = await client.get("/network/admin/api/tables/")
    assert tables.status_code == 200, (tables.headers, tables.text)
    assert "venue" in tables.json()
    assert "piccolo_user" not in tables.json()
    mirror = (
        await BaseUser.select().where(BaseUser.username == f"tierslieux-{network_admin.id}").first()
    )
    assert mirror is not None
    assert mirror["admin"] is True
    assert mirror["email"] == network_admin.email
    # The piccolo session stays server-side and is reused.
    assert "id" not in client.cookies
    assert (await client.get("/network/admin/api/user/")).json()["username"] == mirror["username"]
    assert await SessionsBase.count() == 1


async def test_piccolo_admin_keeps_its_own_csrf_check(
    client: httpx.AsyncClient, world: World, network_admin: User
) -> None:
    await client.get("/network/admin/")
    token = next(c for c in client.cookies.jar if c.name == "csrftoken" and "-" in c.value)
    assert token.path == "/network/admin/"
    url = "/network/admin/api/tables/venue/"
    body = {"name": "x"}
    refused = await client.post(url, json=body)
    assert refused.status_code == 403
    assert "CSRF" in refused.text
    # With its token the request passes the CSRF check (and piccolo validates the row).
    accepted = await client.post(url, json=body, headers={"X-CSRFToken": token.value})
    assert accepted.status_code != 403, accepted.text


async def test_a_piccolo_session_cookie_opens_nothing_without_our_session(
    client: httpx.AsyncClient, world: World
) -> None:
    agent = await make_user(Role.AGENT, organisation=await make_organisation())
    piccolo_user = await BaseUser.create_user(
        username="old-admin", password="a-long-password", admin=True, active=True
    )
    session = await SessionsBase.create_session(user_id=piccolo_user.id)
    client.cookies.set("id", session.token)
    assert (await client.get("/network/admin/api/tables/")).status_code == 303
    await sign_in(client, agent)
    assert (await client.get("/network/admin/api/tables/")).status_code == 403


def test_piccolo_admin_lists_our_tables_without_password_or_token_hashes() -> None:
    configs = {c.table_class._meta.tablename: c for c in admin_tables()}
    assert {"venue", "visit", "document", "app_user"} <= configs.keys()
    assert "piccolo_user" not in configs
    assert "sessions" not in configs
    users = [c._meta.name for c in configs["app_user"].get_visible_columns()]
    assert "email" in users
    assert "password_hash" not in users
    assert "invitation_token_hash" not in users
    devices = [c._meta.name for c in configs["door_device"].get_visible_columns()]
    assert "token_hash" not in devices
