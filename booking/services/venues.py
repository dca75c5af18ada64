"""Venues: applying, approval and status changes, editing, and who may see which venue."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from dataclasses import fields as record_fields
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from booking.services.identifiers import check_bic, check_iban, check_siret, check_vat_number
from booking.tables import (
    Venue,
)
from service.kernel import audit
from service.kernel.errors import InvalidStatusChange, InvalidValue, NotFound
from service.kernel.i18n import N_
from service.kernel.identity import VENUE_ROLES, Principal

SERVICES = frozenset(
    {
        "wifi",
        "printer",
        "cafe",
        "kitchen",
        "accessibility",
        "parking",
        "bike_parking",
        "phone_booth",
        "showers",
        "fablab",
        "digital_mediation",
        "childcare",
        "meeting_rooms",
        "quiet_area",
        "lockers",
        "garden",
        "public_transport",
    }
)


# Who moves a venue from one status to another: the network admin only.
TRANSITIONS = {
    "applied": {"approved", "closed"},
    "approved": {"suspended", "closed"},
    "suspended": {"approved", "closed"},
    "closed": set(),
}
# The audit trail's verb for each status a venue is given.
VERBS = {"approved": "approve", "suspended": "suspend", "closed": "close"}


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidValue(
            N_("Unknown IANA time zone %(zone)r."), field="timezone", zone=value
        ) from None
    return value


def check_coordinates(latitude: Decimal, longitude: Decimal) -> None:
    if not Decimal(-90) <= latitude <= Decimal(90):
        raise InvalidValue(N_("The latitude is between -90 and 90."), field="latitude")
    if not Decimal(-180) <= longitude <= Decimal(180):
        raise InvalidValue(N_("The longitude is between -180 and 180."), field="longitude")


def check_insee(code: str) -> str:
    code = code.strip().upper()
    if (
        len(code) != 5
        or not (code[:2].isdigit() or code[:2] in ("2A", "2B"))
        or not code[2:].isdigit()
    ):
        raise InvalidValue(
            N_("An INSEE commune code has 5 characters (e.g. 59350)."), field="insee_code"
        )
    return code


def check_services(values: list[str]) -> list[str]:
    unknown = sorted(set(values) - SERVICES)
    if unknown:
        raise InvalidValue(
            N_("Unknown services: %(unknown)s."), field="services", unknown=", ".join(unknown)
        )
    return sorted(set(values))


def _clean_venue_fields(fields: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(fields)
    if "siret" in cleaned:
        cleaned["siret"] = check_siret(cleaned["siret"])
    if "vat_number" in cleaned:
        cleaned["vat_number"] = check_vat_number(cleaned["vat_number"])
    if "iban" in cleaned:
        cleaned["iban"] = check_iban(cleaned["iban"])
    if "bic" in cleaned:
        cleaned["bic"] = check_bic(cleaned["bic"])
    if "timezone" in cleaned:
        cleaned["timezone"] = check_timezone(cleaned["timezone"])
    if "insee_code" in cleaned:
        cleaned["insee_code"] = check_insee(cleaned["insee_code"])
    if "services" in cleaned:
        cleaned["services"] = check_services(cleaned["services"])
    if "latitude" in cleaned or "longitude" in cleaned:
        check_coordinates(Decimal(cleaned.get("latitude", 0)), Decimal(cleaned.get("longitude", 0)))
    return cleaned


async def apply(fields: dict[str, Any]) -> uuid.UUID:
    """Anyone may apply: the venue waits, `applied`, for the network's approval."""
    venue = Venue(**{**_clean_venue_fields(fields), "status": "applied"})
    await venue.save()
    return venue.id


@dataclass(frozen=True)
class VenueRecord:
    """A venue as the catalogue stores it, payout details included: callers decide who sees them."""

    id: uuid.UUID
    name: str
    legal_name: str
    siret: str | None
    vat_number: str | None
    charges_vat: bool
    iban: str | None
    bic: str | None
    address: str
    postcode: str
    commune: str
    insee_code: str
    latitude: Decimal
    longitude: Decimal
    timezone: str
    contact_email: str
    contact_phone: str | None
    website: str | None
    description: str
    services: list[str]
    status: str
    morning_start: time
    morning_end: time
    afternoon_start: time
    afternoon_end: time
    created_at: datetime
    status_changed_at: datetime
    reference: str | None
    slug: str


_VENUE_COLUMNS = ", ".join(f'"{column.name}"' for column in record_fields(VenueRecord))


def may_see_venue(principal: Principal | None, venue: VenueRecord) -> bool:
    if venue.status == "approved":
        return True
    if principal is None:
        return False
    return principal.is_network_admin or principal.venue_id == venue.id


async def visible_venue(principal: Principal | None, venue_id: uuid.UUID) -> VenueRecord:
    row = await Venue.select().where(Venue.id == venue_id).first()
    venue = None if row is None else VenueRecord(**row)
    if venue is None or not may_see_venue(principal, venue):
        raise NotFound(N_("No such venue."))
    return venue


async def list_venues(
    principal: Principal | None,
    *,
    status: str | None,
    commune: str | None,
    service: str | None,
    limit: int,
    offset: int,
) -> tuple[list[VenueRecord], int]:
    conditions = ["TRUE"]
    args: list[Any] = []
    if principal is not None and principal.is_network_admin:
        if status:
            conditions.append("status = {}")
            args.append(status)
    elif principal is not None and principal.role in VENUE_ROLES:
        conditions.append("(status = 'approved' OR id = {})")
        args.append(principal.venue_id)
    else:
        conditions.append("status = 'approved'")
    if commune:
        conditions.append("lower(commune) = lower({})")
        args.append(commune)
    if service:
        conditions.append("{} = ANY(services)")
        args.append(service)
    where = " AND ".join(conditions)
    total = await Venue.raw(f"SELECT count(*) AS n FROM venue WHERE {where}", *args)
    # The record's columns by name, not `*`: a column the next release adds (expand before
    # deploy, docs/deployment.md) must not break the code still serving.
    rows = await Venue.raw(
        f"SELECT {_VENUE_COLUMNS} FROM venue WHERE {where} ORDER BY name LIMIT {{}} OFFSET {{}}",
        *args,
        limit,
        offset,
    )
    return [VenueRecord(**r) for r in rows], int(total[0]["n"])


async def update(venue_id: uuid.UUID, fields: dict[str, Any]) -> None:
    if "status" in fields:
        raise InvalidValue(N_("The status changes through /status."), field="status")
    if not await Venue.exists().where(Venue.id == venue_id):
        raise NotFound(N_("No such venue."))
    cleaned = _clean_venue_fields(fields)
    if "latitude" in fields or "longitude" in fields:
        current = (
            await Venue.select(Venue.latitude, Venue.longitude).where(Venue.id == venue_id).first()
        )
        assert current is not None
        check_coordinates(
            Decimal(str(cleaned.get("latitude", current["latitude"]))),
            Decimal(str(cleaned.get("longitude", current["longitude"]))),
        )
    async with Venue._meta.db.transaction():
        before = (
            await Venue.select(*(getattr(Venue, k) for k in cleaned))
            .where(Venue.id == venue_id)
            .first()
            if cleaned
            else {}
        )
        if cleaned:
            await Venue.update({getattr(Venue, k): v for k, v in cleaned.items()}).where(
                Venue.id == venue_id
            )
        await audit.act("venue.update", "venue", venue_id, before=before, after=cleaned)


async def change_status(venue_id: uuid.UUID, status: str) -> None:
    async with Venue._meta.db.transaction():
        rows = await Venue.raw("SELECT status FROM venue WHERE id = {} FOR UPDATE", venue_id)
        if not rows:
            raise NotFound(N_("No such venue."))
        current = rows[0]["status"]
        if status not in TRANSITIONS.get(current, set()):
            raise InvalidStatusChange(
                N_("A venue %(current)s cannot become %(status)s."),
                field="status",
                current=current,
                status=status,
            )
        await Venue.update(
            {Venue.status: status, Venue.status_changed_at: datetime.now(UTC)}
        ).where(Venue.id == venue_id)
        await audit.act(
            f"venue.{VERBS.get(status, 'set_status')}",
            "venue",
            venue_id,
            before={"status": current},
            after={"status": status},
        )


async def venue_today(venue_id: uuid.UUID, now: datetime | None = None) -> date:
    """Today's date in the venue's own time zone."""
    venue = await Venue.select(Venue.timezone).where(Venue.id == venue_id).first()
    if venue is None:
        raise NotFound(N_("No such venue."))
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(venue["timezone"])).date()


async def approved_communes() -> list[dict[str, Any]]:
    """Each commune with an approved venue, placed at the mean position of those venues."""
    return await Venue.raw(
        "SELECT commune, avg(latitude) AS latitude, avg(longitude) AS longitude FROM venue"
        " WHERE status = 'approved' GROUP BY commune ORDER BY commune"
    )


async def any_venue_open(weekday: int, start: time | None, end: time | None) -> bool:
    """Whether some approved venue opens for the whole range on that weekday (closures aside)."""
    rows = await Venue.raw(
        "SELECT 1 FROM opening_hours h JOIN venue v ON v.id = h.venue"
        " WHERE v.status = 'approved' AND h.weekday = {} AND h.opens <= {} AND {} <= h.closes"
        " LIMIT 1",
        weekday,
        start,
        end,
    )
    return bool(rows)
