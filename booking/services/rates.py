"""Rates: what the venue is paid and the organisation charged, per workspace kind and unit, over time.

Append-only (a trigger refuses UPDATE and DELETE); a new price is a new row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from booking.errors import RateAlreadyDefined
from booking.services.workspaces import UNITS_BY_KIND, WORKSPACE_KINDS
from booking.tables import (
    Organisation,
    OrganisationRate,
    Venue,
    VenueRate,
)
from service.kernel import audit
from service.kernel.dates import within_range
from service.kernel.errors import InvalidValue, NotFound
from service.kernel.i18n import N_


def check_rate(
    workspace_kind: str, unit: str, amount_cents: int, vat_rate: Decimal, effective_from: date
) -> None:
    within_range(effective_from, "effective_from")
    if workspace_kind not in WORKSPACE_KINDS:
        raise InvalidValue(N_("Unknown workspace kind."), field="workspace_kind")
    if unit not in UNITS_BY_KIND[workspace_kind]:
        raise InvalidValue(
            N_("A %(kind)s is priced by %(units)s."),
            kind=workspace_kind,
            units=" or ".join(UNITS_BY_KIND[workspace_kind]),
            field="unit",
        )
    if amount_cents < 0:
        raise InvalidValue(N_("An amount is zero or more cents."), field="amount_cents")
    if not Decimal(0) <= vat_rate < Decimal(1) or vat_rate.as_tuple().exponent < -4:  # type: ignore[operator]
        raise InvalidValue(
            N_("A VAT rate is a decimal between 0 and 1 (e.g. 0.20)."), field="vat_rate"
        )


async def add_venue_rate(venue_id: uuid.UUID, fields: dict[str, Any]) -> uuid.UUID:
    if not await Venue.exists().where(Venue.id == venue_id):
        raise NotFound(N_("No such venue."))
    check_rate(
        fields["workspace_kind"],
        fields["unit"],
        fields["amount_cents"],
        fields["vat_rate"],
        fields["effective_from"],
    )
    if await VenueRate.exists().where(
        (VenueRate.venue == venue_id)
        & (VenueRate.workspace_kind == fields["workspace_kind"])
        & (VenueRate.unit == fields["unit"])
        & (VenueRate.effective_from == fields["effective_from"])
    ):
        raise RateAlreadyDefined(field="effective_from")
    rate = VenueRate(venue=venue_id, **fields)
    async with VenueRate._meta.db.transaction():
        await rate.save()
        await audit.act("rate.create", "venue_rate", rate.id, after={"venue": venue_id, **fields})
    return rate.id


async def add_organisation_rate(
    organisation_id: uuid.UUID | None, fields: dict[str, Any]
) -> uuid.UUID:
    if organisation_id is not None and not await Organisation.exists().where(
        Organisation.id == organisation_id
    ):
        raise NotFound(N_("No such organisation."))
    check_rate(
        fields["workspace_kind"],
        fields["unit"],
        fields["amount_cents"],
        fields["vat_rate"],
        fields["effective_from"],
    )
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
    async with OrganisationRate._meta.db.transaction():
        await rate.save()
        await audit.act(
            "rate.create",
            "organisation_rate",
            rate.id,
            after={"organisation": organisation_id, **fields},
        )
    return rate.id


@dataclass(frozen=True)
class Rate:
    """A price per unit of a workspace kind from a date on: a venue's, an organisation's or the
    network's default card (neither owner)."""

    id: uuid.UUID
    workspace_kind: str
    unit: str
    amount_cents: int
    vat_rate: Decimal
    effective_from: date
    venue_id: uuid.UUID | None = None
    organisation_id: uuid.UUID | None = None


def _rate(row: dict[str, Any]) -> Rate:
    return Rate(
        id=row["id"],
        workspace_kind=row["workspace_kind"],
        unit=row["unit"],
        amount_cents=row["amount_cents"],
        vat_rate=row["vat_rate"],
        effective_from=row["effective_from"],
        venue_id=row.get("venue"),
        organisation_id=row.get("organisation"),
    )


async def venue_rates(venue_id: uuid.UUID) -> list[Rate]:
    rows = (
        await VenueRate.select()
        .where(VenueRate.venue == venue_id)
        .order_by(VenueRate.workspace_kind)
        .order_by(VenueRate.unit)
        .order_by(VenueRate.effective_from)
    )
    return [_rate(r) for r in rows]


async def organisation_rates(organisation_id: uuid.UUID | None) -> list[Rate]:
    owner = (
        OrganisationRate.organisation.is_null()
        if organisation_id is None
        else OrganisationRate.organisation == organisation_id
    )
    rows = (
        await OrganisationRate.select()
        .where(owner)
        .order_by(OrganisationRate.workspace_kind)
        .order_by(OrganisationRate.unit)
        .order_by(OrganisationRate.effective_from)
    )
    return [_rate(r) for r in rows]


# The rule, in SQL, so that a statement can price what it writes in the same round trip
# (passes.visits): the latest start on or before the date; for the organisation, its own card
# before the network's default. Placeholders: owner, workspace kind, unit, date.
VENUE_RATE_IN_FORCE = """
SELECT * FROM venue_rate
 WHERE venue = {} AND workspace_kind = {} AND unit = {} AND effective_from <= {}
 ORDER BY effective_from DESC LIMIT 1
"""
ORGANISATION_RATE_IN_FORCE = """
SELECT * FROM organisation_rate
 WHERE (organisation = {} OR organisation IS NULL)
   AND workspace_kind = {} AND unit = {} AND effective_from <= {}
 ORDER BY (organisation IS NULL), effective_from DESC LIMIT 1
"""


async def venue_rate_in_force(
    venue_id: uuid.UUID, workspace_kind: str, unit: str, on: date
) -> Rate | None:
    rows = await VenueRate.raw(VENUE_RATE_IN_FORCE, venue_id, workspace_kind, unit, on)
    return _rate(rows[0]) if rows else None


async def organisation_rate_in_force(
    organisation_id: uuid.UUID, workspace_kind: str, unit: str, on: date
) -> Rate | None:
    """The organisation's own card wins over the network default; latest start on or before `on`."""
    rows = await OrganisationRate.raw(
        ORGANISATION_RATE_IN_FORCE, organisation_id, workspace_kind, unit, on
    )
    return _rate(rows[0]) if rows else None
