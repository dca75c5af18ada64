"""API shapes of the catalogue: venues, hours, closures, workspaces, rates."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec

from booking.services.opening_hours import Range
from booking.services.rates import Rate
from booking.services.venues import VenueRecord
from booking.services.workspaces import CatalogueWorkspace
from service.kernel.dates import DatedInput

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Text = Annotated[str, msgspec.Meta(max_length=2000)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Email = Annotated[
    str, msgspec.Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
]
Postcode = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{5}$")]
VenueStatus = Literal["applied", "approved", "suspended", "closed"]
WorkspaceKind = Literal["desk", "meeting_room", "private_office", "lab"]
Unit = Literal["half_day", "day", "hour"]
Cents = Annotated[int, msgspec.Meta(ge=0, le=100_000_000)]
ClockTime = Annotated[
    str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["08:30"])
]


class NewVenue(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    legal_name: Name
    siret: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    iban: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    address: Name
    postcode: Postcode
    commune: Short
    insee_code: Annotated[str, msgspec.Meta(min_length=1, max_length=5)]
    latitude: Decimal
    longitude: Decimal
    contact_email: Email
    bic: Annotated[str, msgspec.Meta(max_length=11)] | None = None
    vat_number: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    charges_vat: bool = True
    timezone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = "Europe/Paris"
    contact_phone: Annotated[str, msgspec.Meta(max_length=30)] | None = None
    website: Annotated[str, msgspec.Meta(max_length=300)] | None = None
    description: Text = ""
    services: list[Annotated[str, msgspec.Meta(max_length=40)]] = []


class VenuePatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    legal_name: Name | msgspec.UnsetType = msgspec.UNSET
    siret: Annotated[str, msgspec.Meta(max_length=20)] | msgspec.UnsetType = msgspec.UNSET
    iban: Annotated[str, msgspec.Meta(max_length=40)] | msgspec.UnsetType = msgspec.UNSET
    bic: Annotated[str, msgspec.Meta(max_length=11)] | msgspec.UnsetType | None = msgspec.UNSET
    vat_number: Annotated[str, msgspec.Meta(max_length=20)] | msgspec.UnsetType | None = (
        msgspec.UNSET
    )
    charges_vat: bool | msgspec.UnsetType = msgspec.UNSET
    address: Name | msgspec.UnsetType = msgspec.UNSET
    postcode: Postcode | msgspec.UnsetType = msgspec.UNSET
    commune: Short | msgspec.UnsetType = msgspec.UNSET
    insee_code: Annotated[str, msgspec.Meta(max_length=5)] | msgspec.UnsetType = msgspec.UNSET
    latitude: Decimal | msgspec.UnsetType = msgspec.UNSET
    longitude: Decimal | msgspec.UnsetType = msgspec.UNSET
    timezone: Annotated[str, msgspec.Meta(max_length=64)] | msgspec.UnsetType = msgspec.UNSET
    contact_email: Email | msgspec.UnsetType = msgspec.UNSET
    contact_phone: Annotated[str, msgspec.Meta(max_length=30)] | msgspec.UnsetType | None = (
        msgspec.UNSET
    )
    website: Annotated[str, msgspec.Meta(max_length=300)] | msgspec.UnsetType | None = msgspec.UNSET
    description: Text | msgspec.UnsetType = msgspec.UNSET
    services: list[Annotated[str, msgspec.Meta(max_length=40)]] | msgspec.UnsetType = msgspec.UNSET
    morning_start: ClockTime | msgspec.UnsetType = msgspec.UNSET
    morning_end: ClockTime | msgspec.UnsetType = msgspec.UNSET
    afternoon_start: ClockTime | msgspec.UnsetType = msgspec.UNSET
    afternoon_end: ClockTime | msgspec.UnsetType = msgspec.UNSET

    def fields(self) -> dict[str, Any]:
        values = {k: v for k, v in msgspec.structs.asdict(self).items() if v is not msgspec.UNSET}
        for key in ("morning_start", "morning_end", "afternoon_start", "afternoon_end"):
            if key in values:
                values[key] = time.fromisoformat(values[key])
        return values


class StatusChange(msgspec.Struct, forbid_unknown_fields=True):
    status: VenueStatus
    reason: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class VenueOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    legal_name: str
    status: str
    address: str
    postcode: str
    commune: str
    insee_code: str
    latitude: Decimal
    longitude: Decimal
    timezone: str
    services: list[str]
    website: str | None
    description: str
    contact_email: str
    contact_phone: str | None
    morning_start: str  # HH:MM, the venue's local time
    morning_end: str  # HH:MM, the venue's local time
    afternoon_start: str  # HH:MM, the venue's local time
    afternoon_end: str  # HH:MM, the venue's local time
    charges_vat: bool
    created_at: datetime
    # Only for the venue's own people and the network admin (None for others).
    siret: str | None = None
    vat_number: str | None = None
    iban: str | None = None
    bic: str | None = None

    @classmethod
    def of(cls, venue: VenueRecord, *, private: bool) -> VenueOut:
        data = {k: getattr(venue, k) for k in cls.__struct_fields__ if hasattr(venue, k)}
        for key in ("morning_start", "morning_end", "afternoon_start", "afternoon_end"):
            data[key] = getattr(venue, key).strftime("%H:%M")
        if not private:
            for key in ("siret", "vat_number", "iban", "bic"):
                data[key] = None
        return msgspec.convert(data, cls, strict=False)


class HoursRange(msgspec.Struct, forbid_unknown_fields=True):
    """One opening range, in the venue's local time (HH:MM)."""

    weekday: Annotated[int, msgspec.Meta(ge=0, le=6)]
    opens: ClockTime
    closes: ClockTime

    @classmethod
    def of(cls, hours: Range) -> HoursRange:
        return cls(hours.weekday, hours.opens.strftime("%H:%M"), hours.closes.strftime("%H:%M"))


class NewClosure(DatedInput, forbid_unknown_fields=True):
    starts_on: date
    ends_on: date
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class ClosureOut(msgspec.Struct):
    id: uuid.UUID
    starts_on: date
    ends_on: date
    reason: str
    # Bookings the closure cancelled (only when it is added).
    cancelled_bookings: int = 0


class NewWorkspace(msgspec.Struct, forbid_unknown_fields=True):
    kind: WorkspaceKind
    name: Name
    capacity: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    booking_unit: Unit
    equipment: list[Annotated[str, msgspec.Meta(max_length=40)]] = []
    active: bool = True


class WorkspacePatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    capacity: Annotated[int, msgspec.Meta(ge=1, le=1000)] | msgspec.UnsetType = msgspec.UNSET
    booking_unit: Unit | msgspec.UnsetType = msgspec.UNSET
    equipment: list[Annotated[str, msgspec.Meta(max_length=40)]] | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET

    def fields(self) -> dict[str, Any]:
        return {k: v for k, v in msgspec.structs.asdict(self).items() if v is not msgspec.UNSET}


class WorkspaceOut(msgspec.Struct):
    id: uuid.UUID
    venue_id: uuid.UUID
    kind: str
    name: str
    capacity: int
    booking_unit: str
    equipment: list[str]
    active: bool

    @classmethod
    def of(cls, workspace: CatalogueWorkspace) -> WorkspaceOut:
        return msgspec.convert(workspace, cls, from_attributes=True)


class NewRate(DatedInput, forbid_unknown_fields=True):
    workspace_kind: WorkspaceKind
    unit: Unit
    amount_cents: Cents
    vat_rate: Decimal
    effective_from: date


class RateOut(msgspec.Struct):
    id: uuid.UUID
    workspace_kind: str
    unit: str
    amount_cents: int
    vat_rate: Decimal
    effective_from: date
    venue_id: uuid.UUID | None = None
    organisation_id: uuid.UUID | None = None

    @classmethod
    def of(cls, rate: Rate) -> RateOut:
        return msgspec.convert(rate, cls, from_attributes=True)


class Created(msgspec.Struct):
    id: uuid.UUID
