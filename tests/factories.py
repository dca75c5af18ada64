"""Small factories that build valid rows; every argument has a sensible default."""

from __future__ import annotations

import itertools
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from booking.services import accounts
from booking.tables import OpeningHours, Organisation, User, Venue, Workspace
from service.kernel.identity import Role
from service.kernel.settings import Settings
from service.kernel.tokens import issue_access_token

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)

# Valid identifiers (Luhn-checked SIRET/SIREN, a checksummed French IBAN).
VALID_SIRET = "73282932000074"
VALID_SIREN = "732829320"
VALID_IBAN = "FR7630006000011234567890189"


async def make_organisation(**fields: Any) -> Organisation:
    n = next(_seq)
    values: dict[str, Any] = {
        "name": f"Organisation {n}",
        "siren": VALID_SIREN,
        "kind": "public_body",
        "billing_address": "1 rue du Test, 59000 Lille",
        "billing_email": f"billing{n}@example.org",
    }
    values.update(fields)
    organisation = Organisation(**values)
    await organisation.save()
    return organisation


async def make_venue(*, hours: bool = True, **fields: Any) -> Venue:
    n = next(_seq)
    values: dict[str, Any] = {
        "name": f"Tiers-lieu {n}",
        "legal_name": f"Association Tiers-lieu {n}",
        "siret": VALID_SIRET,
        "iban": VALID_IBAN,
        "address": f"{n} rue Nationale",
        "postcode": "59000",
        "commune": "Lille",
        "insee_code": "59350",
        "latitude": Decimal("50.637200"),
        "longitude": Decimal("3.063300"),
        "contact_email": f"contact{n}@example.org",
        "services": ["wifi", "cafe"],
        "status": "approved",
    }
    values.update(fields)
    venue = Venue(**values)
    await venue.save()
    if hours:
        await OpeningHours.insert(
            *[
                OpeningHours(venue=venue.id, weekday=d, opens=time(8), closes=time(19))
                for d in range(5)
            ]
        )
    return venue


async def make_workspace(venue: Venue, **fields: Any) -> Workspace:
    values: dict[str, Any] = {
        "venue": venue.id,
        "kind": "desk",
        "name": "Open space",
        "capacity": 10,
        "booking_unit": "half_day",
        "equipment": ["screen"],
    }
    values.update(fields)
    workspace = Workspace(**values)
    await workspace.save()
    return workspace


async def make_user(
    role: Role,
    *,
    venue: Venue | None = None,
    organisation: Organisation | None = None,
    password: str = PASSWORD,
    **fields: Any,
) -> User:
    if role in (Role.VENUE_STAFF, Role.VENUE_ADMIN) and venue is None:
        venue = await make_venue()
    if role in (Role.AGENT, Role.ORG_ADMIN) and organisation is None:
        organisation = await make_organisation()
    n = next(_seq)
    return await accounts.create_user(
        email=fields.pop("email", f"{role.value}{n}-{uuid.uuid4().hex[:6]}@example.org"),
        display_name=fields.pop("display_name", f"{role.value.title()} {n}"),
        role=role,
        password=password,
        venue_id=venue.id if venue else None,
        organisation_id=organisation.id if organisation else None,
        **fields,
    )


def auth(settings: Settings, user: User) -> dict[str, str]:
    token, _ = issue_access_token(settings, user.id, user.role, generation=user.session_generation)
    return {"Authorization": f"Bearer {token}"}


def next_weekday(days_ahead: int = 1, weekday: int | None = None) -> date:
    """A working day at least `days_ahead` days from today (Paris), optionally a given weekday."""
    day = datetime.now(ZoneInfo("Europe/Paris")).date() + timedelta(days=days_ahead)
    while day.weekday() >= 5 or (weekday is not None and day.weekday() != weekday):
        day += timedelta(days=1)
    return day


def working_days(count: int, days_ahead: int = 1) -> list[date]:
    """`count` distinct working days in a row, the first at least `days_ahead` days away.

    Two calls of next_weekday with different distances can give the same day (from a
    Friday, one and two days ahead are both Monday): tests that need two days use this."""
    days = [next_weekday(days_ahead)]
    while len(days) < count:
        day = days[-1] + timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        days.append(day)
    return days


async def make_door_device(venue: Venue, *, name: str = "Porte") -> tuple[Any, dict[str, str]]:
    """A door device of the venue and its Authorization header."""
    from passes.tables import DoorDevice

    admin = await make_user(Role.VENUE_ADMIN, venue=venue)
    token = "tldev_" + uuid.uuid4().hex
    device = DoorDevice(
        venue=venue.id,
        name=name,
        token_hash=accounts.hash_token(token),
        token_prefix=token[:10],
        created_by=admin.id,
    )
    await device.save()
    return device, {"Authorization": f"Bearer {token}"}


async def make_rates(
    venue: Venue,
    *,
    kind: str = "desk",
    unit: str = "half_day",
    venue_cents: int = 1200,
    organisation_cents: int = 1800,
    organisation: Organisation | None = None,
    effective_from: date = date(2026, 1, 1),
) -> None:
    """A venue rate and an organisation rate (the network's default card when no organisation)."""
    from booking.tables import OrganisationRate, VenueRate

    await VenueRate(
        venue=venue.id,
        workspace_kind=kind,
        unit=unit,
        amount_cents=venue_cents,
        vat_rate=Decimal("0.2000"),
        effective_from=effective_from,
    ).save()
    card = OrganisationRate.organisation.is_null()
    if organisation is not None:
        card = OrganisationRate.organisation == organisation.id
    if await OrganisationRate.exists().where(
        card
        & (OrganisationRate.workspace_kind == kind)
        & (OrganisationRate.unit == unit)
        & (OrganisationRate.effective_from == effective_from)
    ):
        return  # the network's default card is shared by every venue
    await OrganisationRate(
        organisation=organisation.id if organisation else None,
        workspace_kind=kind,
        unit=unit,
        amount_cents=organisation_cents,
        vat_rate=Decimal("0.2000"),
        effective_from=effective_from,
    ).save()


async def make_booking(
    agent: User,
    workspace: Workspace,
    day: date,
    *,
    slot: str = "day",
    status: str = "confirmed",
) -> Any:
    """A desk booking written directly (also for today or the past), its seats counted."""
    from booking.services.placement import BookingRequest, place
    from booking.services.seats import take_seat
    from booking.tables import Booking

    venue = await Venue.select().where(Venue.id == workspace.venue).first()
    placement = place(
        venue,
        {"booking_unit": workspace.booking_unit},
        BookingRequest(workspace_id=workspace.id, date=day, slot=slot),
    )
    booking = Booking(
        agent=agent.id,
        organisation=agent.organisation,
        venue=workspace.venue,
        workspace=workspace.id,
        starts_at=placement.starts_at,
        ends_at=placement.ends_at,
        local_date=day,
        slot=placement.slot,
        unit=placement.unit,
        quantity=placement.quantity,
        allowance_units=placement.allowance_units,
        status=status,
    )
    await booking.save()
    for half in placement.halves:
        await take_seat(workspace.id, day, half, workspace.capacity)
    return booking


async def make_pass(settings: Settings, agent: User, *, now: datetime | None = None) -> Any:
    """An issued pass for the agent, signed with the key of the app's DATA_DIR (published)."""
    from passes import keys as pass_keys
    from passes import services as pass_services

    keyring = pass_keys.Keyring.from_settings(None, settings.data_dir, generate=True)
    await pass_keys.publish(keyring)
    return await pass_services.issue(agent.id, keyring, now=now)
