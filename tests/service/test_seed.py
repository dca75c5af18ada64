"""The demo data: realistic for the Lille metropole, valid identifiers, seeded once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from schwifty import BIC, IBAN
from stdnum.fr import siren as siren_number
from stdnum.fr import siret as siret_number
from stdnum.fr import tva

from billing.close import close_period
from billing.jobs import network_identity
from booking.services import accounts, placement
from booking.services.venues import check_services
from booking.services.workspaces import check_equipment
from booking.tables import (
    Booking,
    Closure,
    OpeningHours,
    Organisation,
    OrganisationRate,
    SeatOccupancy,
    User,
    Venue,
    VenueRate,
    Workspace,
)
from passes.pricing import prices_in_force
from passes.tables import Visit
from service.app import seed
from service.app.demo_network import COMMUNES
from service.kernel.database import DB
from service.kernel.errors import InvalidCredentials
from service.kernel.identity import Principal, Role
from service.kernel.settings import Settings
from service.kernel.tables import AuditEntry

TODAY = date(2026, 11, 24)


async def _count_all() -> dict[str, int]:
    tables = (Organisation, Venue, OpeningHours, Closure, Workspace, VenueRate, User)
    return {t._meta.tablename: await t.count() for t in (*tables, OrganisationRate)}


def test_building_twice_gives_the_same_rows() -> None:
    first = seed.build(TODAY, "hash")
    second = seed.build(TODAY, "hash")

    for (table, rows), (_, again) in zip(first.tables(), second.tables(), strict=True):
        assert [r.to_dict() for r in rows] == [r.to_dict() for r in again], table


async def test_seeding_creates_a_network_of_the_lille_metropole(database_url: str) -> None:
    result = await seed.seed(TODAY)

    assert result.created
    venues = await Venue.select()
    statuses = Counter(v["status"] for v in venues)
    assert statuses["approved"] >= 12
    assert 1 <= statuses["applied"] <= 2
    assert statuses["suspended"] == 1
    communes = {v["commune"] for v in venues if v["status"] == "approved"}
    assert {"Lille", "Roubaix", "Tourcoing", "Villeneuve-d'Ascq", "Armentières", "Seclin"} <= (
        communes
    )
    assert len(communes) >= 12
    for venue in venues:
        commune = COMMUNES[venue["commune"]]
        assert venue["insee_code"] == commune.insee_code, venue["name"]
        assert venue["postcode"].startswith("59"), venue["name"]
        # A few hundred metres from the town centre, well inside the metropole.
        assert abs(float(venue["latitude"]) - commune.latitude) < 0.01, venue["name"]
        assert abs(float(venue["longitude"]) - commune.longitude) < 0.01, venue["name"]
        assert siret_number.is_valid(venue["siret"]), venue["siret"]
        assert IBAN(venue["iban"], validate_bban=True).country_code == "FR"
        assert BIC(venue["bic"]).country_code == "FR"
        assert venue["vat_number"] is None or tva.is_valid(venue["vat_number"]), venue["name"]
        assert venue["vat_number"] is None or venue["vat_number"].endswith(venue["siret"][:9])
        assert venue["address"][0].isdigit(), venue["name"]
        assert venue["services"], venue["name"]
    assert len({v["siret"] for v in venues}) == len(venues)
    assert len({v["iban"] for v in venues}) == len(venues)


async def test_venues_have_varied_hours_workspaces_and_closures(database_url: str) -> None:
    await seed.seed(TODAY)

    hours = await OpeningHours.select()
    by_venue: dict[object, list[dict[str, object]]] = {}
    for row in hours:
        by_venue.setdefault(row["venue"], []).append(row)
    venues = await Venue.select(Venue.id, Venue.name, Venue.status)
    assert set(by_venue) == {v["id"] for v in venues}, "every venue has opening hours"
    open_saturday = {v for v, rows in by_venue.items() if any(r["weekday"] == 5 for r in rows)}
    assert 0 < len(open_saturday) < len(by_venue), "some venues close on Saturday, some not"
    with_lunch_break = {
        v for v, rows in by_venue.items() if Counter(r["weekday"] for r in rows)[0] == 2
    }
    assert with_lunch_break, "some venues close for lunch"
    assert all(r["opens"] >= time(8) and r["closes"] <= time(19) for r in hours)

    workspaces = await Workspace.select()
    kinds = Counter((w["kind"], w["booking_unit"]) for w in workspaces)
    assert kinds[("desk", "half_day")] >= 12
    assert kinds[("desk", "day")] >= 1
    assert kinds[("meeting_room", "hour")] >= 12
    assert kinds[("private_office", "half_day")] >= 2
    assert kinds[("lab", "half_day")] >= 2
    approved = {v["id"] for v in venues if v["status"] == "approved"}
    assert approved <= {w["venue"] for w in workspaces}

    closures = await Closure.select()
    assert len(closures) >= 2
    assert all(c["starts_on"] <= c["ends_on"] and c["ends_on"] >= TODAY for c in closures)


async def test_every_bookable_unit_has_a_venue_rate_and_an_organisation_rate(
    database_url: str,
) -> None:
    await seed.seed(TODAY)
    units = {"desk": ("half_day", "day"), "private_office": ("half_day", "day")}
    units |= {"lab": ("half_day", "day"), "meeting_room": ("hour",)}

    rates = {
        (r["venue"], r["workspace_kind"], r["unit"]): r
        for r in await VenueRate.select().where(VenueRate.effective_from <= TODAY)
    }
    for workspace in await Workspace.select():
        for unit in units[workspace["kind"]]:
            rate = rates.get((workspace["venue"], workspace["kind"], unit))
            assert rate is not None, (workspace["name"], unit)
            assert rate["amount_cents"] > 0
            assert rate["vat_rate"] in (Decimal("0.2"), Decimal(0))

    card = await OrganisationRate.select().where(OrganisationRate.organisation.is_null())
    in_force = {
        (r["workspace_kind"], r["unit"]): r["amount_cents"]
        for r in sorted(card, key=lambda r: r["effective_from"])
        if r["effective_from"] <= TODAY
    }
    assert in_force[("desk", "half_day")] == 1200
    assert in_force[("desk", "day")] == 2000
    assert in_force[("meeting_room", "hour")] == 1500
    for kind, kind_units in units.items():
        assert all((kind, unit) in in_force for unit in kind_units)
    assert all(r["vat_rate"] == Decimal("0.2") for r in card)
    # The previous card is kept: prices are history.
    assert len({r["effective_from"] for r in card}) == 2
    overrides = await OrganisationRate.select().where(OrganisationRate.organisation.is_not_null())
    assert len({r["organisation"] for r in overrides}) == 1


async def test_organisations_agents_and_admins(database_url: str) -> None:
    await seed.seed(TODAY)

    organisations = {o["name"]: o for o in await Organisation.select()}
    assert len(organisations) == 3
    metropole = organisations["Métropole Européenne de Lille"]
    assert metropole["kind"] == "public_body"
    assert metropole["chorus_service_code"]
    assert organisations["Ville de Roubaix"]["kind"] == "public_body"
    assert Counter(o["kind"] for o in organisations.values()) == {"public_body": 2, "company": 1}
    for organisation in organisations.values():
        assert siren_number.is_valid(organisation["siren"])
        assert siret_number.is_valid(organisation["siret"])
        assert organisation["siret"].startswith(organisation["siren"])

    users = await User.select()
    agents = [u for u in users if u["role"] == "agent"]
    assert len(agents) == 30
    assert len({a["organisation"] for a in agents}) == 3
    assert all(" " in a["display_name"] for a in agents)
    assert {u["organisation"] for u in users if u["role"] == "org_admin"} == {
        o["id"] for o in organisations.values()
    }
    assert all(accounts.is_demo_account(u["email"]) for u in users)
    assert len({u["email"] for u in users}) == len(users)
    assert len({u["pseudonym"] for u in users}) == len(users)


async def test_the_fixed_demo_accounts_have_their_roles_and_sign_in_in_demo_mode_only(
    database_url: str,
) -> None:
    await seed.seed(TODAY)
    first_venue = await Venue.select(Venue.id).where(Venue.name == "La Fabrique Solférino").first()
    metropole = (
        await Organisation.select(Organisation.id)
        .where(Organisation.name == "Métropole Européenne de Lille")
        .first()
    )
    assert first_venue is not None
    assert metropole is not None
    expected = {
        "reseau@demo.test": ("network_admin", None, None),
        "lieu@demo.test": ("venue_admin", first_venue["id"], None),
        "accueil@demo.test": ("venue_staff", first_venue["id"], None),
        "orga@demo.test": ("org_admin", None, metropole["id"]),
        "agent@demo.test": ("agent", None, metropole["id"]),
    }

    for email, (role, venue, organisation) in expected.items():
        user = await accounts.authenticate(email, "demo-password", allow_demo_accounts=True)
        assert (user.role, user.venue, user.organisation) == (role, venue, organisation), email
        with pytest.raises(InvalidCredentials):
            await accounts.authenticate(email, "demo-password")
    assert [a.email for a in seed.DEMO_ACCOUNTS] == list(expected)
    assert {a.role for a in seed.DEMO_ACCOUNTS} == set(Role)


async def test_seeding_again_inserts_nothing(database_url: str) -> None:
    await seed.seed(TODAY)
    before = await _count_all()

    again = await seed.seed(TODAY)

    assert not again.created
    assert await _count_all() == before


async def test_two_demos_starting_together_seed_once(database_url: str) -> None:
    results = await asyncio.gather(seed.seed(TODAY), seed.seed(TODAY))

    assert sorted(r.created for r in results) == [False, True]
    assert await User.count().where(User.email == "reseau@demo.test") == 1


async def test_a_failed_seed_leaves_nothing(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_build = seed.build

    def broken_build(today: date, password_hash: str) -> seed.DemoData:
        data = real_build(today, password_hash)
        # The same user twice: the last INSERT fails, after every other table's.
        data.users.append(data.users[0])
        return data

    monkeypatch.setattr(seed, "build", broken_build)

    with pytest.raises(Exception, match="duplicate key"):
        await seed.seed(TODAY)

    assert await Venue.count() == 0
    assert await Organisation.count() == 0
    assert not await seed.is_seeded()


async def test_a_month_of_bookings_keeps_the_promises_of_the_booking_rules(
    database_url: str,
) -> None:
    await seed.seed(TODAY)

    bookings = await Booking.select()
    statuses = Counter(b["status"] for b in bookings)
    assert len(bookings) >= 150, statuses
    assert statuses["completed"] > statuses["no_show"] > 0, statuses
    assert statuses["late_cancelled"] > 0, statuses
    assert statuses["cancelled"] > 0, statuses
    assert statuses["confirmed"] > 0, statuses
    assert {b["status"] for b in bookings if b["local_date"] >= TODAY} == {"confirmed"}
    assert min(b["local_date"] for b in bookings) >= TODAY - timedelta(days=31)
    assert all(b["created_at"] < b["starts_at"] or b["local_date"] >= TODAY for b in bookings)

    venues = {v["id"]: v for v in await Venue.select()}
    open_days: dict[object, set[int]] = {}
    for row in await OpeningHours.select():
        open_days.setdefault(row["venue"], set()).add(row["weekday"])
    closures = await Closure.select()
    for b in bookings:
        assert venues[b["venue"]]["status"] == "approved"
        assert b["local_date"].weekday() in open_days[b["venue"]], b
        assert not any(
            c["venue"] == b["venue"] and c["starts_on"] <= b["local_date"] <= c["ends_on"]
            for c in closures
        )

    # The seat counters are exactly the seats that bookings hold.
    held: Counter[tuple[object, date, str]] = Counter()
    halves = {"morning": ("am",), "afternoon": ("pm",), "day": ("am", "pm")}
    for b in bookings:
        if not b["exclusive"] and b["status"] in ("confirmed", "completed", "no_show"):
            for half in halves[b["slot"]]:
                held[(b["workspace"], b["local_date"], half)] += 1
    counters = {
        (r["workspace"], r["local_date"], r["half"]): r["seats_taken"]
        for r in await SeatOccupancy.select()
    }
    assert counters == dict(held)
    capacity = {w["id"]: w["capacity"] for w in await Workspace.select()}
    assert all(taken <= capacity[key[0]] for key, taken in counters.items())

    # Nobody goes over their organisation's monthly allowance.
    allowance = {o["id"]: o["monthly_allowance_units"] for o in await Organisation.select()}
    used: Counter[tuple[object, object, int]] = Counter()
    for b in bookings:
        if b["status"] != "cancelled":
            used[(b["agent"], b["organisation"], b["local_date"].month)] += b["allowance_units"]
    assert all(units <= allowance[key[1]] for key, units in used.items())


async def test_completed_bookings_have_their_visit_priced_with_the_rates_in_force(
    database_url: str,
) -> None:
    await seed.seed(TODAY)

    completed = await Booking.select().where(Booking.status == "completed")
    visits = {v["booking"]: v for v in await Visit.select()}
    assert set(visits) == {b["id"] for b in completed}
    kinds = {w["id"]: w["kind"] for w in await Workspace.select()}
    for booking in completed[:40]:
        visit = visits[booking["id"]]
        prices = await prices_in_force(
            booking["venue"],
            booking["organisation"],
            kinds[booking["workspace"]],
            booking["unit"],
            booking["local_date"],
        )
        assert prices.venue is not None
        assert prices.organisation is not None
        assert (visit["venue_rate_cents"], visit["venue_vat_rate"]) == (
            prices.venue.amount_cents,
            prices.venue.vat_rate,
        )
        assert (visit["organisation_rate_cents"], visit["organisation_vat_rate"]) == (
            prices.organisation.amount_cents,
            prices.organisation.vat_rate,
        )
        assert visit["checked_in_at"] == booking["checked_in_at"]
        assert booking["checked_in_at"] < booking["checked_out_at"] <= booking["ends_at"]


async def test_the_demo_agent_has_bookings_to_show_and_can_book_more(database_url: str) -> None:
    await seed.seed(TODAY)
    agent = await User.select().where(User.email == "agent@demo.test").first()
    assert agent is not None

    upcoming = await Booking.select().where(
        (Booking.agent == agent["id"]) & (Booking.local_date >= TODAY)
    )
    assert upcoming
    assert {b["status"] for b in upcoming} == {"confirmed"}

    room = (
        await Workspace.select()
        .where((Workspace.kind == "meeting_room") & (Workspace.name == "Salle Vauban"))
        .first()
    )
    assert room is not None
    day = TODAY + timedelta(days=7 - TODAY.weekday() + 3)  # Thursday of next week
    booking_id = await placement.book(
        Principal(role=Role.AGENT, user_id=agent["id"], organisation_id=agent["organisation"]),
        placement.BookingRequest(
            workspace_id=room["id"],
            start=datetime.combine(day, time(16)),
            end=datetime.combine(day, time(17)),
        ),
        base_url="http://demo.local",
        now=datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=UTC),
    )
    assert await Booking.exists().where(Booking.id == booking_id)


async def test_last_month_of_the_demo_can_be_closed(database_url: str) -> None:
    await seed.seed(TODAY)
    month = (TODAY - timedelta(days=30)).replace(day=1)
    await DB.start_connection_pool(min_size=1, max_size=4)
    try:
        result = await close_period(
            month,
            network_identity(Settings()),
            dry_run=True,
            now=datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=UTC),
        )
    finally:
        await DB.close_connection_pool()

    assert result.collected is not None
    assert result.collected.visits > 0
    assert len(result.invoices) >= 2
    assert len(result.statements) >= 5
    assert result.network_share_cents > 0


async def test_the_demo_has_walk_ins_and_one_anomaly_to_review(database_url: str) -> None:
    from datetime import date

    from passes.tables import Anomaly, Visit
    from service.app.seed import seed

    await seed(date(2026, 11, 24))

    anomalies = await Anomaly.select(Anomaly.kind, Anomaly.status, Anomaly.visit)
    assert [(a["kind"], a["status"]) for a in anomalies] == [("over_capacity", "open")]
    flagged = await Visit.select(Visit.billable).where(Visit.id == anomalies[0]["visit"]).first()
    assert flagged == {"billable": False}
    assert await Visit.count().where(Visit.walk_in == True) == 2  # noqa: E712


async def test_the_demo_agent_has_today_booked_and_tomorrow_free(database_url: str) -> None:
    from datetime import date, timedelta

    from booking.tables import Booking, User
    from service.app.seed import seed

    today = date(2026, 11, 24)  # a Tuesday
    await seed(today)

    agent = await User.select(User.id).where(User.email == "agent@demo.test").first()
    assert agent is not None
    days = [
        b["local_date"]
        for b in await Booking.select(Booking.local_date)
        .where((Booking.agent == agent["id"]) & (Booking.local_date >= today))
        .order_by(Booking.local_date)
    ]
    assert days[0] == today
    assert today + timedelta(days=1) not in days


def test_the_demo_catalogue_uses_only_the_words_the_api_accepts() -> None:
    """A venue admin editing a demo workspace must not be refused for the demo's own words."""
    data = seed.build(TODAY, "hash")
    for venue in data.venues:
        check_services(list(venue.services))
    for workspace in data.workspaces:
        check_equipment(list(workspace.equipment))
    assert data.venues
    assert data.workspaces


async def test_the_demo_shows_the_audit_trail_of_its_seeded_acts(database_url: str) -> None:
    result = await seed.seed(TODAY)
    network_admin = await User.select(User.id).where(User.role == "network_admin").first()
    assert network_admin is not None

    trail = await AuditEntry.select()
    by_action = Counter(row["action"] for row in trail)

    assert result.counts["audit_entry"] == len(trail) > 0
    assert by_action["venue.approve"] == await Venue.count().where(Venue.status == "approved")
    assert by_action["rate.create"] == await VenueRate.count() + await OrganisationRate.count()
    assert by_action["agent.invite"] == await User.count().where(User.role == "agent")
    assert by_action["closure.create"] == await Closure.count()
    approvals = [row for row in trail if row["action"] == "venue.approve"]
    assert {(r["actor_kind"], r["actor"], r["actor_role"]) for r in approvals} == {
        ("person", network_admin["id"], "network_admin")
    }
    invites = [row for row in trail if row["action"] == "agent.invite"]
    assert {r["actor_role"] for r in invites} == {"org_admin"}
    # Seeding again adds no act.
    await seed.seed(TODAY)
    assert await AuditEntry.count() == len(trail)
