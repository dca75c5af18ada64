"""Demo data: a network of tiers-lieux in the Lille metropole, seeded once into an empty database.

Everything comes from one `random.Random(SEED)`, so every machine gets the same venues,
identifiers and people (dates are relative to the day of seeding). Rows are built in
memory first (`build`), then inserted in one transaction with one INSERT per table
(`seed`). A second run finds the network admin's account and inserts nothing.

Every seeded account is under `demo.test` and signs in only on a demo instance
(see `booking.services.accounts.authenticate`).
"""

from __future__ import annotations

import random
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from stdnum import luhn

from booking.services import accounts
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
from passes.tables import Anomaly, Visit
from service.app.demo_bookings import build_bookings
from service.app.demo_catalogue import DemoData
from service.app.demo_network import (
    BANKS,
    COMMUNES,
    COMPANY_OVERRIDE,
    FIRST_NAMES,
    HOURS,
    LAST_NAMES,
    NO_VAT,
    ORGANISATION_CARD,
    ORGANISATIONS,
    PREVIOUS_ORGANISATION_CARD,
    PRICE_SPREAD,
    UNITS_BY_KIND,
    VAT,
    VENUE_SHARE,
    VENUES,
)
from service.app.piccolo_conf import DB
from service.kernel import audit
from service.kernel.identity import Role

SEED = 59350  # Lille's INSEE code: any constant would do, this one is easy to recognise
DEMO_PASSWORD = "demo-password"
# Names the advisory lock that keeps two demo starts from seeding at the same time.
SEED_LOCK = 7_202_612


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: Role
    label: str


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("reseau@demo.test", Role.NETWORK_ADMIN, "network admin (the régie)"),
    DemoAccount("lieu@demo.test", Role.VENUE_ADMIN, "venue admin of La Fabrique Solférino"),
    DemoAccount("accueil@demo.test", Role.VENUE_STAFF, "venue staff of La Fabrique Solférino"),
    DemoAccount("orga@demo.test", Role.ORG_ADMIN, "organisation admin of the Métropole"),
    DemoAccount("agent@demo.test", Role.AGENT, "agent of the Métropole"),
)
# Its existence says the demo data is there.
MARKER_EMAIL = DEMO_ACCOUNTS[0].email


# --- Building the rows ------------------------------------------------------------------------


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def make_siren(rng: random.Random, first_digit: str = "8") -> str:
    body = first_digit + "".join(rng.choice("0123456789") for _ in range(7))
    return body + luhn.calc_check_digit(body)


def make_siret(siren: str, establishment: int = 1) -> str:
    """The SIRET of an establishment: SIREN, a 4-digit number, then the Luhn check digit."""
    body = f"{siren}{establishment:04d}"
    return body + luhn.calc_check_digit(body)


def make_iban(bank_code: str, branch_code: str, account: str) -> str:
    """A French IBAN with its RIB key and its ISO 7064 check digits computed."""
    rib_key = 97 - (89 * int(bank_code) + 15 * int(branch_code) + 3 * int(account)) % 97
    bban = f"{bank_code}{branch_code}{account}{rib_key:02d}"
    # "FR00" moved to the end, letters as numbers (F = 15, R = 27).
    remainder = int(f"{bban}152700") % 97
    return f"FR{98 - remainder:02d}{bban}"


def ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "Oe"))
    plain = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    words = "".join(c if c.isalnum() else " " for c in plain).split()
    return "-".join(words)


def _phone(rng: random.Random) -> str:
    return "03 20 " + " ".join(f"{rng.randrange(100):02d}" for _ in range(3))


def _pseudonym(rng: random.Random) -> str:
    return f"{rng.getrandbits(40):010X}"


def build(today: date, password_hash: str) -> DemoData:
    """The demo network as rows, the same on every machine for a given day."""
    rng = random.Random(SEED)
    data = DemoData()
    network_since = date(today.year - 1, 1, 1)  # first rates and approvals
    this_year = date(today.year, 1, 1)
    created = datetime.combine(network_since, time(9, 0), tzinfo=UTC)

    organisation_ids: dict[str, uuid.UUID] = {}
    for organisation_spec in ORGANISATIONS:
        siren = organisation_spec.siren or make_siren(rng)
        organisation = Organisation(
            id=_uuid(rng),
            name=organisation_spec.name,
            siren=siren,
            siret=make_siret(siren),
            kind=organisation_spec.kind,
            billing_address=organisation_spec.billing_address,
            billing_email=organisation_spec.billing_email,
            chorus_service_code=organisation_spec.chorus_service_code,
            chorus_engagement_number=organisation_spec.chorus_engagement_number,
            monthly_allowance_units=organisation_spec.monthly_allowance_units,
            # Public bodies pay for what was booked; the company only for what was used.
            bill_no_shows=organisation_spec.kind == "public_body",
            created_at=created,
        )
        organisation_ids[organisation_spec.key] = organisation.id
        data.organisations.append(organisation)

    first_venue_id: uuid.UUID | None = None
    for index, spec in enumerate(VENUES):
        commune = COMMUNES[spec.commune]
        slug = ascii_slug(spec.name)
        siren = make_siren(rng, "7" if spec.legal_name.startswith("Association") else "8")
        bank_code, bic = BANKS[index % len(BANKS)]
        iban = make_iban(bank_code, f"{rng.randrange(100000):05d}", f"{rng.randrange(10**11):011d}")
        lunch = spec.hours == "lunch_break"
        venue = Venue(
            id=_uuid(rng),
            name=spec.name,
            legal_name=spec.legal_name,
            siret=make_siret(siren, rng.randrange(1, 60)),
            vat_number=f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"
            if spec.charges_vat
            else None,
            charges_vat=spec.charges_vat,
            iban=iban,
            bic=bic,
            address=spec.address,
            postcode=spec.postcode or commune.postcode,
            commune=commune.name,
            insee_code=commune.insee_code,
            latitude=Decimal(f"{commune.latitude + rng.uniform(-0.004, 0.004):.6f}"),
            longitude=Decimal(f"{commune.longitude + rng.uniform(-0.006, 0.006):.6f}"),
            contact_email=f"contact@{slug}.demo.test",
            contact_phone=_phone(rng),
            website=f"https://{slug}.demo.test",
            description=spec.description,
            services=list(spec.services),
            status=spec.status,
            morning_start=time(9, 0) if lunch else time(8, 30),
            morning_end=time(12, 30) if lunch else time(13, 0),
            afternoon_start=time(13, 30) if lunch else time(13, 0),
            afternoon_end=time(18, 0),
            created_at=created + timedelta(days=index * 7),
            status_changed_at=created + timedelta(days=index * 7 + 14),
        )
        first_venue_id = first_venue_id or venue.id
        data.venues.append(venue)
        for weekdays, ranges in HOURS[spec.hours]:
            for weekday in weekdays:
                for opens, closes in ranges:
                    data.opening_hours.append(
                        OpeningHours(venue=venue.id, weekday=weekday, opens=opens, closes=closes)
                    )
        kinds: set[str] = set()
        for workspace in spec.workspaces:
            kinds.add(workspace.kind)
            data.workspaces.append(
                Workspace(
                    id=_uuid(rng),
                    venue=venue.id,
                    kind=workspace.kind,
                    name=workspace.name,
                    capacity=workspace.capacity,
                    booking_unit=workspace.booking_unit,
                    equipment=list(workspace.equipment),
                    created_at=venue.created_at,
                )
            )
        for kind in sorted(kinds):
            for unit in UNITS_BY_KIND[kind]:
                price = ORGANISATION_CARD[(kind, unit)] * VENUE_SHARE
                amount = int(price * rng.choice(PRICE_SPREAD) / 10) * 10
                data.venue_rates.append(
                    VenueRate(
                        id=_uuid(rng),
                        venue=venue.id,
                        workspace_kind=kind,
                        unit=unit,
                        amount_cents=amount,
                        vat_rate=VAT if spec.charges_vat else NO_VAT,
                        effective_from=network_since,
                        created_at=created,
                    )
                )
        data.users.append(
            _user(
                rng,
                email=f"gestion@{slug}.demo.test",
                name=f"Gestion {spec.name}",
                role=Role.VENUE_ADMIN,
                venue=venue.id,
                password_hash=password_hash,
                created_at=venue.created_at,
            )
        )

    _closures(rng, data, today, created)
    for card, since in (
        (PREVIOUS_ORGANISATION_CARD, network_since),
        (ORGANISATION_CARD, this_year),
    ):
        for (kind, unit), amount in card.items():
            data.organisation_rates.append(
                OrganisationRate(
                    id=_uuid(rng),
                    organisation=None,
                    workspace_kind=kind,
                    unit=unit,
                    amount_cents=amount,
                    vat_rate=VAT,
                    effective_from=since,
                    created_at=created,
                )
            )
    for (kind, unit), amount in COMPANY_OVERRIDE.items():
        data.organisation_rates.append(
            OrganisationRate(
                id=_uuid(rng),
                organisation=organisation_ids["company"],
                workspace_kind=kind,
                unit=unit,
                amount_cents=amount,
                vat_rate=VAT,
                effective_from=this_year,
                created_at=created,
            )
        )

    assert first_venue_id is not None
    _people(rng, data, organisation_ids, first_venue_id, password_hash, created)
    return data


def _closures(rng: random.Random, data: DemoData, today: date, created: datetime) -> None:
    by_name = {v.name: v.id for v in data.venues}
    christmas = date(today.year, 12, 24)
    if christmas + timedelta(days=8) < today:  # already over this year
        christmas = date(today.year + 1, 12, 24)
    works = today + timedelta(days=(14 - today.weekday()))  # Monday in two weeks
    for name, starts_on, ends_on, reason in (
        (
            "Le Grenier de Fives",
            christmas,
            christmas + timedelta(days=8),
            "Fermeture de fin d'année",
        ),
        (
            "La Ruche de Wattrelos",
            christmas,
            christmas + timedelta(days=8),
            "Congés de fin d'année",
        ),
        ("Le Quai des Filatures", works, works + timedelta(days=1), "Travaux dans l'open space"),
        (
            "L'Atelier de l'Épeule",
            works + timedelta(days=3),
            works + timedelta(days=3),
            "Inventaire",
        ),
    ):
        data.closures.append(
            Closure(
                id=_uuid(rng),
                venue=by_name[name],
                starts_on=starts_on,
                ends_on=ends_on,
                reason=reason,
                created_at=created,
            )
        )


def _user(
    rng: random.Random,
    *,
    email: str,
    name: str,
    role: Role,
    password_hash: str,
    created_at: datetime,
    venue: uuid.UUID | None = None,
    organisation: uuid.UUID | None = None,
) -> User:
    return User(
        id=_uuid(rng),
        email=email,
        display_name=name,
        password_hash=password_hash,
        role=role.value,
        venue=venue,
        organisation=organisation,
        pseudonym=_pseudonym(rng),
        created_at=created_at,
    )


def _people(
    rng: random.Random,
    data: DemoData,
    organisation_ids: dict[str, uuid.UUID],
    first_venue_id: uuid.UUID,
    password_hash: str,
    created: datetime,
) -> None:
    mel = organisation_ids["mel"]
    fixed = {
        "reseau@demo.test": ("Régie du réseau", None, None),
        "lieu@demo.test": ("Sandrine Vermeersch", first_venue_id, None),
        "accueil@demo.test": ("Kevin Lallemand", first_venue_id, None),
        "orga@demo.test": ("Isabelle Dewailly", None, mel),
        "agent@demo.test": ("Camille Desrousseaux", None, mel),
    }
    for account in DEMO_ACCOUNTS:
        name, venue, organisation = fixed[account.email]
        data.users.append(
            _user(
                rng,
                email=account.email,
                name=name,
                role=account.role,
                venue=venue,
                organisation=organisation,
                password_hash=password_hash,
                created_at=created,
            )
        )
    names = rng.sample([(first, last) for first in FIRST_NAMES for last in LAST_NAMES], 40)
    for spec in ORGANISATIONS:
        organisation = organisation_ids[spec.key]
        # The Métropole's admin and one agent are the fixed demo accounts above.
        admins = 0 if spec.key == "mel" else 1
        agents = spec.agents - (1 if spec.key == "mel" else 0)
        for position in range(admins + agents):
            first, last = names.pop()
            role = Role.ORG_ADMIN if position < admins else Role.AGENT
            data.users.append(
                _user(
                    rng,
                    email=f"{ascii_slug(first)}.{ascii_slug(last)}@{spec.email_domain}",
                    name=f"{first} {last}",
                    role=role,
                    organisation=organisation,
                    password_hash=password_hash,
                    created_at=created + timedelta(days=rng.randrange(300)),
                )
            )


# --- Writing them -------------------------------------------------------------------------


@dataclass(frozen=True)
class SeedResult:
    created: bool
    counts: dict[str, int]


async def is_seeded() -> bool:
    return await User.exists().where(User.email == MARKER_EMAIL)


async def seed(today: date | None = None) -> SeedResult:
    """Insert the demo data unless it is already there; all or nothing."""
    today = today or datetime.now(UTC).date()
    async with DB.transaction():
        await User.raw("SELECT pg_advisory_xact_lock({})", SEED_LOCK)
        if await is_seeded():
            return SeedResult(created=False, counts={})
        # One hash for every demo account: hashing dozens of passwords would slow the start.
        data = build(today, accounts.hash_password(DEMO_PASSWORD))
        counts: dict[str, int] = {}
        for table, rows in data.tables():
            if rows:
                await table.insert(*rows)
            counts[table._meta.tablename] = len(rows)
        counts.update(await seed_bookings(data, today))
        counts["audit_entry"] = await audit_seeded_acts(data)
    return SeedResult(created=True, counts=counts)


# The verb of each status a seeded venue was given (an applied one awaits its decision).
_VENUE_VERBS = {"approved": "approve", "suspended": "suspend", "closed": "close"}


async def audit_seeded_acts(data: DemoData) -> int:
    """The trail of the acts the seed stands for, as if its admins had done them.

    The seed writes its rows directly (fast, all or nothing), so the acts it represents are
    recorded here, in its transaction: the network admin created the organisations,
    decided the venues and set the rates; each venue's admin added its workspaces and
    closures; each organisation's admin invited its agents.
    """

    def admin(role: Role, **owner: Any) -> audit.Actor:
        for user in data.users:
            if user.role == role.value and all(getattr(user, k) == v for k, v in owner.items()):
                return audit.Actor("person", user.id, role.value)
        return network

    network = audit.SYSTEM  # the fallback of `admin` while the network admin is looked up
    network = admin(Role.NETWORK_ADMIN)
    acts: list[tuple[audit.Actor, str, str, Any, dict[str, Any] | None, dict[str, Any]]] = []
    for organisation in data.organisations:
        acts.append(
            (
                network,
                "organisation.create",
                "organisation",
                organisation.id,
                None,
                {"name": organisation.name, "kind": organisation.kind},
            )
        )
    for venue in data.venues:
        if venue.status in _VENUE_VERBS:
            acts.append(
                (
                    network,
                    f"venue.{_VENUE_VERBS[venue.status]}",
                    "venue",
                    venue.id,
                    {"status": "applied"},
                    {"status": venue.status},
                )
            )
    for rate in data.venue_rates:
        acts.append(
            (
                network,
                "rate.create",
                "venue_rate",
                rate.id,
                None,
                {
                    "venue": rate.venue,
                    "workspace_kind": rate.workspace_kind,
                    "unit": rate.unit,
                    "amount_cents": rate.amount_cents,
                    "effective_from": rate.effective_from,
                },
            )
        )
    for rate in data.organisation_rates:
        acts.append(
            (
                network,
                "rate.create",
                "organisation_rate",
                rate.id,
                None,
                {
                    "organisation": rate.organisation,
                    "workspace_kind": rate.workspace_kind,
                    "unit": rate.unit,
                    "amount_cents": rate.amount_cents,
                    "effective_from": rate.effective_from,
                },
            )
        )
    for workspace in data.workspaces:
        acts.append(
            (
                admin(Role.VENUE_ADMIN, venue=workspace.venue),
                "workspace.create",
                "workspace",
                workspace.id,
                None,
                {
                    "venue": workspace.venue,
                    "kind": workspace.kind,
                    "name": workspace.name,
                    "capacity": workspace.capacity,
                },
            )
        )
    for closure in data.closures:
        acts.append(
            (
                admin(Role.VENUE_ADMIN, venue=closure.venue),
                "closure.create",
                "closure",
                closure.id,
                None,
                {
                    "venue": closure.venue,
                    "starts_on": closure.starts_on,
                    "ends_on": closure.ends_on,
                    "reason": closure.reason,
                },
            )
        )
    for user in data.users:
        if user.role == Role.NETWORK_ADMIN.value:
            continue
        by = network
        if user.role == Role.AGENT.value:
            by = admin(Role.ORG_ADMIN, organisation=user.organisation)
        acts.append(
            (
                by,
                "agent.invite" if user.role == Role.AGENT.value else "user.invite",
                "user",
                user.id,
                None,
                {"role": user.role, "organisation": user.organisation, "venue": user.venue},
            )
        )
    for actor, action, object_type, object_id, before, after in acts:
        await audit.record(actor, action, object_type, object_id, before=before, after=after)
    return len(acts)


async def seed_bookings(data: DemoData, today: date) -> dict[str, int]:
    """A month of past bookings (with their visits and seat counters) and the days ahead."""
    built = build_bookings(data, today)
    counts: dict[str, int] = {}
    for table, rows in (
        (Booking, built.bookings),
        (SeatOccupancy, built.occupancy),
        (Visit, built.visits),
    ):
        if rows:
            await table.insert(*rows)
        counts[table._meta.tablename] = len(rows)
    counts["anomaly"] = await _door_stories(today)
    return counts


async def _door_stories(today: date) -> int:
    """Give the scanner and the close real work: two walk-ins and one anomaly to review."""
    visits = await Visit.raw(
        "SELECT id, booking, venue FROM visit WHERE local_date < {} ORDER BY local_date, id LIMIT 3",
        today.replace(day=1),
    )
    if len(visits) < 3:
        return 0
    for visit in visits[:2]:
        await Visit.update({Visit.walk_in: True}).where(Visit.id == visit["id"])
        if visit["booking"] is not None:
            await Booking.update({Booking.walk_in: True}).where(Booking.id == visit["booking"])
    flagged = visits[2]
    # Trust first: the visit happened; it is billed once the network accepts the anomaly.
    await Visit.update({Visit.billable: False}).where(Visit.id == flagged["id"])
    await Anomaly(
        kind="over_capacity",
        visit=flagged["id"],
        venue=flagged["venue"],
        detail="Scan hors ligne synchronisé plus tard : la salle était pleine à cette heure-là.",
    ).save()
    return 1
