"""The catalogue: venues (apply, approve, edit), opening hours, closures, workspaces and rates.

Identifiers are checked with python-stdnum (SIRET, VAT number) and schwifty (IBAN, BIC)
and stored normalised; the database constraints are the backstop.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.eu import vat
from stdnum.exceptions import ValidationError
from stdnum.fr import siret

from booking.errors import (
    Forbidden,
    InvalidStatusChange,
    InvalidValue,
    NotFound,
    OverlappingHours,
    RateAlreadyDefined,
)
from booking.identity import VENUE_ROLES, Principal
from booking.services import bookings
from booking.tables import (
    Closure,
    OpeningHours,
    Organisation,
    OrganisationRate,
    Venue,
    VenueRate,
    Workspace,
)
from service.i18n import N_

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
EQUIPMENT = frozenset(
    {
        "screen",
        "video_conference",
        "whiteboard",
        "projector",
        "3d_printer",
        "laser_cutter",
        "sewing_machine",
        "computer",
        "standing_desk",
        "docking_station",
        "sound_system",
    }
)
WORKSPACE_KINDS = ("desk", "meeting_room", "private_office", "lab")
UNITS_BY_KIND = {
    "desk": ("half_day", "day"),
    "meeting_room": ("hour", "half_day"),
    "private_office": ("hour", "half_day"),
    "lab": ("hour", "half_day"),
}
# Who moves a venue from one status to another: the network admin only.
TRANSITIONS = {
    "applied": {"approved", "closed"},
    "approved": {"suspended", "closed"},
    "suspended": {"approved", "closed"},
    "closed": set(),
}


def check_siret(value: str) -> str:
    try:
        return str(siret.validate(value))
    except ValidationError:
        raise InvalidValue(
            "Ce SIRET n'est pas valide (14 chiffres et clé de contrôle).", field="siret"
        ) from None


def check_vat_number(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(vat.validate(value))
    except ValidationError:
        raise InvalidValue(
            "Ce numéro de TVA intracommunautaire n'est pas valide.", field="vat_number"
        ) from None


def check_iban(value: str) -> str:
    try:
        return str(IBAN(value).compact)
    except SchwiftyException:
        raise InvalidValue("Cet IBAN n'est pas valide.", field="iban") from None


def check_bic(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(BIC(value).compact)
    except SchwiftyException:
        raise InvalidValue("Ce BIC n'est pas valide.", field="bic") from None


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
        raise InvalidValue("The latitude is between -90 and 90.", field="latitude")
    if not Decimal(-180) <= longitude <= Decimal(180):
        raise InvalidValue("The longitude is between -180 and 180.", field="longitude")


def check_insee(code: str) -> str:
    code = code.strip().upper()
    if (
        len(code) != 5
        or not (code[:2].isdigit() or code[:2] in ("2A", "2B"))
        or not code[2:].isdigit()
    ):
        raise InvalidValue(
            "An INSEE commune code has 5 characters (e.g. 59350).", field="insee_code"
        )
    return code


def check_services(values: list[str]) -> list[str]:
    unknown = sorted(set(values) - SERVICES)
    if unknown:
        raise InvalidValue(
            N_("Unknown services: %(names)s."), field="services", names=", ".join(unknown)
        )
    return sorted(set(values))


def check_equipment(values: list[str]) -> list[str]:
    unknown = sorted(set(values) - EQUIPMENT)
    if unknown:
        raise InvalidValue(
            N_("Unknown equipment: %(names)s."), field="equipment", names=", ".join(unknown)
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


def may_see_venue(principal: Principal | None, venue: dict[str, Any]) -> bool:
    if venue["status"] == "approved":
        return True
    if principal is None:
        return False
    return principal.is_network_admin or principal.venue_id == venue["id"]


async def visible_venue(principal: Principal | None, venue_id: uuid.UUID) -> dict[str, Any]:
    venue = await Venue.select().where(Venue.id == venue_id).first()
    if venue is None or not may_see_venue(principal, venue):
        raise NotFound("No such venue.")
    return venue


async def list_venues(
    principal: Principal | None,
    *,
    status: str | None,
    commune: str | None,
    service: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
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
    rows = await Venue.raw(
        f"SELECT * FROM venue WHERE {where} ORDER BY name LIMIT {{}} OFFSET {{}}",
        *args,
        limit,
        offset,
    )
    return rows, int(total[0]["n"])


async def update(venue_id: uuid.UUID, fields: dict[str, Any]) -> None:
    if "status" in fields:
        raise InvalidValue("The status changes through /status.", field="status")
    if not await Venue.exists().where(Venue.id == venue_id):
        raise NotFound("No such venue.")
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
    if cleaned:
        await Venue.update({getattr(Venue, k): v for k, v in cleaned.items()}).where(
            Venue.id == venue_id
        )


async def change_status(venue_id: uuid.UUID, status: str) -> None:
    async with Venue._meta.db.transaction():
        rows = await Venue.raw("SELECT status FROM venue WHERE id = {} FOR UPDATE", venue_id)
        if not rows:
            raise NotFound("No such venue.")
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


# Opening hours


@dataclass(frozen=True)
class Range:
    weekday: int
    opens: time
    closes: time


def check_week(ranges: list[Range]) -> None:
    for index, item in enumerate(ranges):
        if not 0 <= item.weekday <= 6:
            raise InvalidValue(
                "Weekdays go from 0 (Monday) to 6 (Sunday).", field=f"hours[{index}].weekday"
            )
        if item.opens >= item.closes:
            raise InvalidValue("A range closes after it opens.", field=f"hours[{index}].closes")
    by_day: dict[int, list[tuple[int, Range]]] = {}
    for index, item in enumerate(ranges):
        by_day.setdefault(item.weekday, []).append((index, item))
    for day in by_day.values():
        ordered = sorted(day, key=lambda pair: pair[1].opens)
        for (_, before), (index, after) in itertools.pairwise(ordered):
            if after.opens < before.closes:
                raise OverlappingHours(field=f"hours[{index}]")


async def replace_hours(venue_id: uuid.UUID, ranges: list[Range]) -> None:
    check_week(ranges)
    async with OpeningHours._meta.db.transaction():
        if not await Venue.exists().where(Venue.id == venue_id):
            raise NotFound("No such venue.")
        await OpeningHours.delete().where(OpeningHours.venue == venue_id)
        if ranges:
            await OpeningHours.insert(
                *[
                    OpeningHours(venue=venue_id, weekday=r.weekday, opens=r.opens, closes=r.closes)
                    for r in ranges
                ]
            )


async def hours_of(venue_id: uuid.UUID) -> list[dict[str, Any]]:
    return (
        await OpeningHours.select(OpeningHours.weekday, OpeningHours.opens, OpeningHours.closes)
        .where(OpeningHours.venue == venue_id)
        .order_by(OpeningHours.weekday)
        .order_by(OpeningHours.opens)
    )


# Closures


async def add_closure(
    venue_id: uuid.UUID, starts_on: date, ends_on: date, reason: str, *, base_url: str
) -> tuple[uuid.UUID, int]:
    """Record a closure and cancel the confirmed bookings it covers; returns how many."""
    if ends_on < starts_on:
        raise InvalidValue("A closure ends on or after its first day.", field="ends_on")
    if not reason.strip():
        raise InvalidValue("Say why the venue closes.", field="reason")
    async with Closure._meta.db.transaction():
        if not await Venue.exists().where(Venue.id == venue_id):
            raise NotFound("No such venue.")
        closure = Closure(
            venue=venue_id, starts_on=starts_on, ends_on=ends_on, reason=reason.strip()
        )
        await closure.save()
        cancelled = await bookings.cancel_for_closure(
            venue_id, starts_on, ends_on, reason.strip(), base_url=base_url
        )
    return closure.id, cancelled


async def closures_of(venue_id: uuid.UUID) -> list[dict[str, Any]]:
    return await Closure.select().where(Closure.venue == venue_id).order_by(Closure.starts_on)


async def remove_closure(venue_id: uuid.UUID, closure_id: uuid.UUID) -> None:
    if not await Closure.exists().where((Closure.id == closure_id) & (Closure.venue == venue_id)):
        raise NotFound("No such closure.")
    await Closure.delete().where(Closure.id == closure_id)


# Workspaces


def check_workspace(kind: str, booking_unit: str, capacity: int) -> None:
    if kind not in WORKSPACE_KINDS:
        raise InvalidValue(
            N_("A workspace is one of %(kinds)s."),
            field="kind",
            kinds=", ".join(WORKSPACE_KINDS),
        )
    if booking_unit not in UNITS_BY_KIND[kind]:
        raise InvalidValue(
            f"A {kind} is booked by {' or '.join(UNITS_BY_KIND[kind])}.", field="booking_unit"
        )
    if not 1 <= capacity <= 1000:
        raise InvalidValue("The capacity is between 1 and 1000 seats.", field="capacity")


async def add_workspace(venue_id: uuid.UUID, fields: dict[str, Any]) -> uuid.UUID:
    if not await Venue.exists().where(Venue.id == venue_id):
        raise NotFound("No such venue.")
    check_workspace(fields["kind"], fields["booking_unit"], fields["capacity"])
    workspace = Workspace(
        venue=venue_id,
        kind=fields["kind"],
        name=fields["name"],
        capacity=fields["capacity"],
        booking_unit=fields["booking_unit"],
        equipment=check_equipment(fields.get("equipment", [])),
        active=fields.get("active", True),
    )
    await workspace.save()
    return workspace.id


async def workspace_of(venue_id: uuid.UUID, workspace_id: uuid.UUID) -> dict[str, Any]:
    workspace = (
        await Workspace.select()
        .where((Workspace.id == workspace_id) & (Workspace.venue == venue_id))
        .first()
    )
    if workspace is None:
        raise NotFound("No such workspace.")
    return workspace


async def workspaces_of(venue_id: uuid.UUID, *, include_inactive: bool) -> list[dict[str, Any]]:
    query = Workspace.select().where(Workspace.venue == venue_id)
    if not include_inactive:
        query = query.where(Workspace.active == True)  # noqa: E712
    return await query.order_by(Workspace.kind).order_by(Workspace.name)


async def update_workspace(
    venue_id: uuid.UUID, workspace_id: uuid.UUID, fields: dict[str, Any]
) -> None:
    current = await workspace_of(venue_id, workspace_id)
    merged = {**current, **fields}
    check_workspace(merged["kind"], merged["booking_unit"], merged["capacity"])
    if "equipment" in fields:
        fields["equipment"] = check_equipment(fields["equipment"])
    if fields:
        await Workspace.update({getattr(Workspace, k): v for k, v in fields.items()}).where(
            Workspace.id == workspace_id
        )


# Rates: append-only (a trigger refuses UPDATE and DELETE); a new price is a new row.


def check_rate(workspace_kind: str, unit: str, amount_cents: int, vat_rate: Decimal) -> None:
    if workspace_kind not in WORKSPACE_KINDS:
        raise InvalidValue("Unknown workspace kind.", field="workspace_kind")
    if unit not in UNITS_BY_KIND[workspace_kind]:
        raise InvalidValue(
            f"A {workspace_kind} is priced by {' or '.join(UNITS_BY_KIND[workspace_kind])}.",
            field="unit",
        )
    if amount_cents < 0:
        raise InvalidValue("An amount is zero or more cents.", field="amount_cents")
    if not Decimal(0) <= vat_rate < Decimal(1) or vat_rate.as_tuple().exponent < -4:  # type: ignore[operator]
        raise InvalidValue("A VAT rate is a decimal between 0 and 1 (e.g. 0.20).", field="vat_rate")


async def add_venue_rate(venue_id: uuid.UUID, fields: dict[str, Any]) -> uuid.UUID:
    if not await Venue.exists().where(Venue.id == venue_id):
        raise NotFound("No such venue.")
    check_rate(fields["workspace_kind"], fields["unit"], fields["amount_cents"], fields["vat_rate"])
    if await VenueRate.exists().where(
        (VenueRate.venue == venue_id)
        & (VenueRate.workspace_kind == fields["workspace_kind"])
        & (VenueRate.unit == fields["unit"])
        & (VenueRate.effective_from == fields["effective_from"])
    ):
        raise RateAlreadyDefined(field="effective_from")
    rate = VenueRate(venue=venue_id, **fields)
    await rate.save()
    return rate.id


async def add_organisation_rate(
    organisation_id: uuid.UUID | None, fields: dict[str, Any]
) -> uuid.UUID:
    if organisation_id is not None and not await Organisation.exists().where(
        Organisation.id == organisation_id
    ):
        raise NotFound("No such organisation.")
    check_rate(fields["workspace_kind"], fields["unit"], fields["amount_cents"], fields["vat_rate"])
    same = (
        (OrganisationRate.workspace_kind == fields["workspace_kind"])
        & (OrganisationRate.unit == fields["unit"])
        & (OrganisationRate.effective_from == fields["effective_from"])
    )
    owner = (
        OrganisationRate.organisation.is_null()
        if organisation_id is None
        else OrganisationRate.organisation == organisation_id
    )
    if await OrganisationRate.exists().where(same & owner):
        raise RateAlreadyDefined(field="effective_from")
    rate = OrganisationRate(organisation=organisation_id, **fields)
    await rate.save()
    return rate.id


async def venue_rates(venue_id: uuid.UUID) -> list[dict[str, Any]]:
    return (
        await VenueRate.select()
        .where(VenueRate.venue == venue_id)
        .order_by(VenueRate.workspace_kind)
        .order_by(VenueRate.unit)
        .order_by(VenueRate.effective_from)
    )


async def organisation_rates(organisation_id: uuid.UUID | None) -> list[dict[str, Any]]:
    owner = (
        OrganisationRate.organisation.is_null()
        if organisation_id is None
        else OrganisationRate.organisation == organisation_id
    )
    return (
        await OrganisationRate.select()
        .where(owner)
        .order_by(OrganisationRate.workspace_kind)
        .order_by(OrganisationRate.unit)
        .order_by(OrganisationRate.effective_from)
    )


async def venue_rate_in_force(
    venue_id: uuid.UUID, workspace_kind: str, unit: str, on: date
) -> dict[str, Any] | None:
    return (
        await VenueRate.select()
        .where(
            (VenueRate.venue == venue_id)
            & (VenueRate.workspace_kind == workspace_kind)
            & (VenueRate.unit == unit)
            & (VenueRate.effective_from <= on)
        )
        .order_by(VenueRate.effective_from, ascending=False)
        .first()
    )


async def organisation_rate_in_force(
    organisation_id: uuid.UUID, workspace_kind: str, unit: str, on: date
) -> dict[str, Any] | None:
    """The organisation's own card wins over the network default; latest start on or before `on`."""
    rows = await OrganisationRate.raw(
        """
        SELECT * FROM organisation_rate
         WHERE (organisation = {} OR organisation IS NULL)
           AND workspace_kind = {} AND unit = {} AND effective_from <= {}
         ORDER BY (organisation IS NULL), effective_from DESC LIMIT 1
        """,
        organisation_id,
        workspace_kind,
        unit,
        on,
    )
    return rows[0] if rows else None


def require_venue_member(principal: Principal, venue_id: uuid.UUID) -> None:
    if not principal.may_act_for_venue(venue_id):
        raise Forbidden("You may only act for your own venue.")
