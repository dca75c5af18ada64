"""Small factories that build valid rows; every argument has a sensible default."""

from __future__ import annotations

import itertools
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from booking.identity import Role
from booking.services import accounts
from booking.tables import OpeningHours, Organisation, User, Venue, Workspace
from service.auth import issue_access_token
from service.settings import Settings

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
    token, _ = issue_access_token(settings, user.id, user.role)
    return {"Authorization": f"Bearer {token}"}


def next_weekday(days_ahead: int = 1, weekday: int | None = None) -> date:
    """A working day at least `days_ahead` days from today (Paris), optionally a given weekday."""
    day = datetime.now(ZoneInfo("Europe/Paris")).date() + timedelta(days=days_ahead)
    while day.weekday() >= 5 or (weekday is not None and day.weekday() != weekday):
        day += timedelta(days=1)
    return day
