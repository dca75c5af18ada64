"""API shapes of organisations, their people, invitations and door devices."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from booking.services.organisations import Person
from service.kernel.text import ONE_LINE_PATTERN

# A name is one line: it goes into mail subjects, calendar invitations, PDFs and CSV files.
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=ONE_LINE_PATTERN)]
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
Allowance = Annotated[int, msgspec.Meta(ge=0, le=1000)]
Kind = Literal["public_body", "company"]
RoleName = Literal["agent", "venue_staff", "venue_admin", "org_admin", "network_admin"]


class NewOrganisation(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    siren: Annotated[str, msgspec.Meta(min_length=1, max_length=11)]
    kind: Kind
    billing_address: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    billing_email: Email
    siret: Annotated[str, msgspec.Meta(max_length=17)] | None = None
    chorus_service_code: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    chorus_engagement_number: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    monthly_allowance_units: Allowance = 8
    booking_horizon_days: Annotated[int, msgspec.Meta(ge=1, le=366)] = 30
    cancellation_deadline_hours: Annotated[int, msgspec.Meta(ge=0, le=720)] = 24
    bill_no_shows: bool = True
    bill_late_cancellations: bool = True
    meeting_hours_use_allowance: bool = True


class OrganisationPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    siren: Annotated[str, msgspec.Meta(max_length=11)] | msgspec.UnsetType = msgspec.UNSET
    siret: Annotated[str, msgspec.Meta(max_length=17)] | msgspec.UnsetType | None = msgspec.UNSET
    kind: Kind | msgspec.UnsetType = msgspec.UNSET
    billing_address: (
        Annotated[str, msgspec.Meta(min_length=1, max_length=500)] | msgspec.UnsetType
    ) = msgspec.UNSET
    billing_email: Email | msgspec.UnsetType = msgspec.UNSET
    chorus_service_code: Annotated[str, msgspec.Meta(max_length=100)] | msgspec.UnsetType | None = (
        msgspec.UNSET
    )
    chorus_engagement_number: (
        Annotated[str, msgspec.Meta(max_length=100)] | msgspec.UnsetType | None
    ) = msgspec.UNSET
    monthly_allowance_units: Allowance | msgspec.UnsetType = msgspec.UNSET
    booking_horizon_days: Annotated[int, msgspec.Meta(ge=1, le=366)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    cancellation_deadline_hours: Annotated[int, msgspec.Meta(ge=0, le=720)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    bill_no_shows: bool | msgspec.UnsetType = msgspec.UNSET
    bill_late_cancellations: bool | msgspec.UnsetType = msgspec.UNSET
    meeting_hours_use_allowance: bool | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET

    def fields(self) -> dict[str, Any]:
        return {k: v for k, v in msgspec.structs.asdict(self).items() if v is not msgspec.UNSET}


class OrganisationOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    siren: str
    siret: str | None
    kind: str
    billing_address: str
    billing_email: str
    chorus_service_code: str | None
    chorus_engagement_number: str | None
    monthly_allowance_units: int
    booking_horizon_days: int
    cancellation_deadline_hours: int
    bill_no_shows: bool
    bill_late_cancellations: bool
    meeting_hours_use_allowance: bool
    active: bool
    created_at: datetime


class NewPerson(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    display_name: Name
    monthly_allowance_units: Allowance | None = None


class NewUser(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    display_name: Name
    role: RoleName
    venue_id: uuid.UUID | None = None
    organisation_id: uuid.UUID | None = None


class AgentPatch(msgspec.Struct, forbid_unknown_fields=True):
    display_name: Name | msgspec.UnsetType = msgspec.UNSET
    monthly_allowance_units: Allowance | msgspec.UnsetType | None = msgspec.UNSET

    def fields(self) -> dict[str, Any]:
        return {k: v for k, v in msgspec.structs.asdict(self).items() if v is not msgspec.UNSET}


class PersonOut(msgspec.Struct):
    id: uuid.UUID
    email: str
    display_name: str
    role: str
    venue_id: uuid.UUID | None
    organisation_id: uuid.UUID | None
    monthly_allowance_units: int | None
    active: bool
    invitation_pending: bool
    created_at: datetime
    deactivated_at: datetime | None

    @classmethod
    def of(cls, person: Person) -> PersonOut:
        return msgspec.convert(person, cls, from_attributes=True)


class InvitedOut(msgspec.Struct):
    person: PersonOut
    # Shown once: the person sets a password there. (Also emailed once the outbox sends mail.)
    invitation_url: str


class ImportError_(msgspec.Struct):
    row: int
    field: str
    detail: str


class ImportedAgent(msgspec.Struct):
    row: int
    id: uuid.UUID
    email: str
    invitation_url: str


class ImportOut(msgspec.Struct):
    created: list[ImportedAgent]
    errors: list[ImportError_]


class AcceptInvitation(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(min_length=10, max_length=200)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class EnrolmentRuleIn(msgspec.Struct, forbid_unknown_fields=True):
    self_enrolment: bool
    sirets: list[str] = msgspec.field(default_factory=list)
    domains: list[str] = msgspec.field(default_factory=list)


class EnrolmentRuleOut(msgspec.Struct):
    self_enrolment: bool
    sirets: list[str]
    domains: list[str]


class SelfEnrolledOut(msgspec.Struct):
    id: uuid.UUID
    display_name: str
    email: str
    siret: str
    joined_at: datetime
    active: bool
