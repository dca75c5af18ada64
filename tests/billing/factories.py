"""Factories for billing tests: visits and bookings with their prices, in a past month."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from billing.documents import NetworkIdentity
from billing.tables import Document
from booking.tables import Booking, Organisation, User, Venue, Workspace
from passes.tables import Visit

NETWORK = NetworkIdentity(
    name="Réseau des tiers-lieux de la Métropole",
    legal_form="Association loi 1901",
    siret="73282932000074",
    vat_number="FR44732829320",
    address="2 rue de Paris, 59000 Lille",
    email="facturation@reseau.example",
    iban="FR7630006000011234567890189",
    bic="AGRIFRPP",
)


async def make_visit(
    agent: User,
    venue: Venue,
    workspace: Workspace,
    day: date,
    *,
    org_cents: int = 1500,
    venue_cents: int = 1000,
    vat: str = "0.20",
    quantity: int = 1,
    billable: bool = True,
    unit: str = "half_day",
) -> Visit:
    visit = Visit(
        agent=agent.id,
        organisation=agent.organisation,
        venue=venue.id,
        workspace=workspace.id,
        local_date=day,
        unit=unit,
        quantity=quantity,
        checked_in_at=datetime.combine(day, time(9), tzinfo=UTC),
        venue_rate_cents=venue_cents,
        venue_vat_rate=Decimal(vat),
        organisation_rate_cents=org_cents,
        organisation_vat_rate=Decimal(vat),
        billable=billable,
    )
    await visit.save()
    return visit


async def make_past_booking(
    agent: User, venue: Venue, workspace: Workspace, day: date, status: str, **fields: Any
) -> Booking:
    starts = datetime.combine(day, time(8, 30), tzinfo=UTC)
    booking = Booking(
        id=uuid.uuid4(),
        agent=agent.id,
        organisation=agent.organisation,
        venue=venue.id,
        workspace=workspace.id,
        starts_at=starts,
        ends_at=starts + timedelta(hours=4),
        local_date=day,
        slot="morning",
        unit="half_day",
        status=status,
        **fields,
    )
    await booking.save()
    return booking


_document_numbers = itertools.count(1)


async def make_document(kind: str, **fields: Any) -> Document:
    """A bare issued document (for pages that list and serve them; the close is tested apart)."""
    n = next(_document_numbers)
    values: dict[str, Any] = {
        "kind": kind,
        "number": f"T-2026-{n:06d}-{uuid.uuid4().hex[:5]}",
        "issuer": "network",
        "series": "T",
        "year": 2026,
        "sequence_number": n,
        "period": date(2026, 10, 1),
        "issued_on": date(2026, 11, 1),
        "due_on": date(2026, 11, 30),
        "total_excl_cents": 10_000,
        "total_vat_cents": 2_000,
        "total_incl_cents": 12_000,
        "seller": {"name": "Réseau"},
        "buyer": {"name": "Client"},
    }
    values.update(fields)
    document = Document(**values)
    await document.save()
    return document


async def organisation_of(user: User) -> Organisation:
    org = await Organisation.objects().where(Organisation.id == user.organisation).first()
    assert org is not None
    return org
