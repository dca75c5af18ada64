"""Organisations and their people: policy, allowances, agents invited one by one or by CSV.

Agents are never deleted: deactivation keeps their history (bookings, visits, invoices)
and a database trigger revokes their pass.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from piccolo.columns.combination import WhereRaw
from stdnum.exceptions import ValidationError
from stdnum.fr import siren, siret

from booking.errors import DuplicateEmail
from booking.services import accounts
from booking.tables import Organisation, Outbox, User, Venue
from service.kernel import audit
from service.kernel.csv_input import read_rows
from service.kernel.errors import Forbidden, InvalidValue, NotFound
from service.kernel.i18n import N_
from service.kernel.identity import Principal, Role
from service.kernel.problems import register

MAX_IMPORT_ROWS = 5_000
# 5,000 rows of about 100 bytes, with room to spare.
MAX_IMPORT_BYTES = 1_000_000
# What an organisation admin may change on their own organisation; the rest is the network's.
ORG_ADMIN_FIELDS = frozenset(
    {
        "billing_address",
        "billing_email",
        "monthly_allowance_units",
        "booking_horizon_days",
        "cancellation_deadline_hours",
        "bill_no_shows",
        "bill_late_cancellations",
        "meeting_hours_use_allowance",
        "chorus_service_code",
        "chorus_engagement_number",
    }
)


class InvitationNotFound(NotFound):
    default_detail = N_("This invitation is unknown or already used.")


register(InvitationNotFound, "invitation-not-found", 404, "Invitation unknown or used")


def _check_identity(fields: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(fields)
    if "siren" in cleaned:
        try:
            cleaned["siren"] = str(siren.validate(cleaned["siren"]))
        except ValidationError:
            raise InvalidValue(N_("Ce SIREN n'est pas valide."), field="siren") from None
    if cleaned.get("siret"):
        try:
            cleaned["siret"] = str(siret.validate(cleaned["siret"]))
        except ValidationError:
            raise InvalidValue(N_("Ce SIRET n'est pas valide."), field="siret") from None
        if "siren" in cleaned and not cleaned["siret"].startswith(cleaned["siren"]):
            raise InvalidValue(N_("The SIRET starts with the organisation's SIREN."), field="siret")
    if "billing_email" in cleaned:
        cleaned["billing_email"] = accounts.normalise_email(cleaned["billing_email"])
    return cleaned


async def create(fields: dict[str, Any]) -> uuid.UUID:
    cleaned = _check_identity(fields)
    organisation = Organisation(**cleaned)
    async with Organisation._meta.db.transaction():
        await organisation.save()
        await audit.act("organisation.create", "organisation", organisation.id, after=cleaned)
    return organisation.id


@dataclass(frozen=True)
class OrganisationRecord:
    """An organisation (employer) with its booking and billing policy."""

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
    # Self-enrolment by SIRET (booking.services.federation).
    self_enrolment: bool = False
    enrolment_sirets: list[str] = field(default_factory=list)
    enrolment_domains: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Person:
    """Someone with an account: agent, organisation admin or venue staff (never their secrets)."""

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


def _person(row: dict[str, Any]) -> Person:
    return Person(
        id=row["id"],
        email=row["email"],
        display_name=row["display_name"],
        role=row["role"],
        venue_id=row["venue"],
        organisation_id=row["organisation"],
        monthly_allowance_units=row["monthly_allowance_units"],
        active=row["active"],
        invitation_pending=bool(row.get("invitation_pending", row.get("invitation_token_hash"))),
        created_at=row["created_at"],
        deactivated_at=row["deactivated_at"],
    )


async def get(organisation_id: uuid.UUID) -> OrganisationRecord:
    organisation = await Organisation.select().where(Organisation.id == organisation_id).first()
    if organisation is None:
        raise NotFound(N_("No such organisation."))
    return OrganisationRecord(**organisation)


async def list_all(
    kind: str | None, active: bool | None, limit: int, offset: int
) -> tuple[list[OrganisationRecord], int]:
    query = Organisation.select()
    count = Organisation.count()
    if kind is not None:
        query, count = (
            query.where(Organisation.kind == kind),
            count.where(Organisation.kind == kind),
        )
    if active is not None:
        query, count = (
            query.where(Organisation.active == active),
            count.where(Organisation.active == active),
        )
    rows = await query.order_by(Organisation.name).limit(limit).offset(offset)
    return [OrganisationRecord(**r) for r in rows], await count


async def update(principal: Principal, organisation_id: uuid.UUID, fields: dict[str, Any]) -> None:
    current = await get(organisation_id)
    if not principal.is_network_admin:
        refused = sorted(set(fields) - ORG_ADMIN_FIELDS)
        if refused:
            raise Forbidden(
                N_("Only the network changes %(fields)s."),
                field=refused[0],
                fields=", ".join(refused),
            )
    cleaned = _check_identity(fields)
    async with Organisation._meta.db.transaction():
        if cleaned:
            await Organisation.update(
                {getattr(Organisation, k): v for k, v in cleaned.items()}
            ).where(Organisation.id == organisation_id)
        await audit.act(
            "organisation.update",
            "organisation",
            organisation_id,
            before={k: getattr(current, k) for k in cleaned if hasattr(current, k)},
            after=cleaned,
        )


# People


@dataclass(frozen=True)
class Invited:
    person: Person
    invitation_token: str

    @property
    def user_id(self) -> uuid.UUID:
        return self.person.id


async def invite(
    *,
    email: str,
    display_name: str,
    role: Role,
    organisation_id: uuid.UUID | None = None,
    venue_id: uuid.UUID | None = None,
    monthly_allowance_units: int | None = None,
    conceal_other_tenants: bool = False,
    audited: bool = True,
) -> Invited:
    """Create an account with no password and a one-time invitation (only its hash is kept).

    With `conceal_other_tenants` (an organisation or venue admin inviting), an email that
    belongs to someone outside that organisation or venue is not refused, since a refusal
    would tell the inviter that this person has an account elsewhere on the network.
    Nothing is created: the answer has the shape of a new invitation (a fresh id, a link
    that leads nowhere) and the owner of the address is told by mail who tried to add
    them. A duplicate inside the same organisation or venue is still refused, since the
    inviter sees those people anyway. Unless `audited` is off (a CSV import writes one row
    for its file), the act is audited: the invitation, or the referral to the owner.
    """
    async with User._meta.db.transaction():
        invited, referred_to = await _invite(
            email=email,
            display_name=display_name,
            role=role,
            organisation_id=organisation_id,
            venue_id=venue_id,
            monthly_allowance_units=monthly_allowance_units,
            conceal_other_tenants=conceal_other_tenants,
        )
        if audited:
            action = "agent.invite" if role is Role.AGENT else "user.invite"
            after = {
                "role": role.value,
                "organisation": organisation_id,
                "venue": venue_id,
                "monthly_allowance_units": monthly_allowance_units,
            }
            if referred_to is None:
                await audit.act(action, "user", invited.user_id, after=after)
            else:
                # Nothing created: the address is someone's elsewhere, who was told.
                await audit.act(f"{action}_elsewhere", "user", referred_to, after=after)
    return invited


async def _invite(
    *,
    email: str,
    display_name: str,
    role: Role,
    organisation_id: uuid.UUID | None,
    venue_id: uuid.UUID | None,
    monthly_allowance_units: int | None,
    conceal_other_tenants: bool,
) -> tuple[Invited, uuid.UUID | None]:
    """The invitation, and the owner told instead when the address is someone's elsewhere."""
    if organisation_id is not None:
        await get(organisation_id)
    token = secrets.token_urlsafe(32)
    if conceal_other_tenants:
        owner = await _owner_elsewhere(email, organisation_id, venue_id)
        if owner is not None:
            await _tell_owner(owner, organisation_id, venue_id)
            return (
                Invited(
                    Person(
                        id=uuid.uuid4(),
                        email=owner["email"],
                        display_name=display_name.strip() or owner["email"],
                        role=role.value,
                        venue_id=venue_id,
                        organisation_id=organisation_id,
                        monthly_allowance_units=monthly_allowance_units,
                        active=True,
                        invitation_pending=True,
                        created_at=datetime.now(UTC),
                        deactivated_at=None,
                    ),
                    token,
                ),
                owner["id"],
            )
    user = await accounts.create_user(
        email=email,
        display_name=display_name,
        role=role,
        organisation_id=organisation_id,
        venue_id=venue_id,
        monthly_allowance_units=monthly_allowance_units,
    )
    rows = await User.raw(
        "UPDATE app_user SET invitation_token_hash = {} WHERE id = {} RETURNING *",
        accounts.hash_token(token),
        user.id,
    )
    return Invited(_person(rows[0]), token), None


async def _owner_elsewhere(
    email: str, organisation_id: uuid.UUID | None, venue_id: uuid.UUID | None
) -> dict[str, Any] | None:
    """The account holding this email if it is outside this organisation or venue."""
    normalised = accounts.normalise_email(email)
    owner = (
        await User.select(User.id, User.email, User.display_name, User.organisation, User.venue)
        .where(WhereRaw("lower(email) = lower({})", normalised))
        .first()
    )
    if owner is None:
        return None
    if (organisation_id is not None and owner["organisation"] == organisation_id) or (
        venue_id is not None and owner["venue"] == venue_id
    ):
        return None  # one of the inviter's own people: the refusal tells nothing new
    # The stand-in answer echoes what the inviter typed, normalised the same way.
    return {**owner, "email": normalised}


async def _tell_owner(
    owner: dict[str, Any], organisation_id: uuid.UUID | None, venue_id: uuid.UUID | None
) -> None:
    """Mail the owner of the address, who alone may learn that it was tried."""
    if organisation_id is not None:
        inviter = (await get(organisation_id)).name
        what = "agent"
    else:
        venue = await Venue.select(Venue.name).where(Venue.id == venue_id).first()
        inviter = venue["name"] if venue else ""
        what = "membre de l'équipe"
    recipient = await User.select(User.email).where(User.id == owner["id"]).first()
    assert recipient is not None
    await Outbox(
        kind="invitation_elsewhere",
        recipient=recipient["email"],
        subject="Une invitation au Pass Tiers-Lieux pour votre adresse",
        body=(
            f"Bonjour {owner['display_name']},\n\n"
            f"« {inviter} » a voulu vous ajouter comme {what} du Pass Tiers-Lieux. "
            "Votre adresse a déjà un compte : rien n'a été créé ni changé, "
            "et on ne lui a pas dit que vous aviez un compte.\n\n"
            "Si vous rejoignez cette structure, demandez au réseau de rattacher votre compte. "
            "Sinon, vous pouvez ignorer ce message.\n"
        ),
    ).save()


async def accept_invitation(token: str, password: str, *, valid_days: int) -> uuid.UUID:
    """Set the password of an invitation made less than `valid_days` ago.

    An older one is refused like an unknown one, to the day, even before the nightly
    retention deletes it (INVITATION_VALIDITY_DAYS, billing/retention.py).
    """
    password_hash = accounts.hash_password(password)
    rows = await User.raw(
        """
        UPDATE app_user SET password_hash = {}, invitation_token_hash = NULL
         WHERE invitation_token_hash = {} AND active
           AND created_at > now() - make_interval(days => {})
        RETURNING id
        """,
        password_hash,
        accounts.hash_token(token),
        valid_days,
    )
    if not rows:
        raise InvitationNotFound(field="token")
    return rows[0]["id"]


async def member(organisation_id: uuid.UUID, user_id: uuid.UUID, role: Role) -> Person:
    user = (
        await User.select()
        .where(
            (User.id == user_id)
            & (User.organisation == organisation_id)
            & (User.role == role.value)
        )
        .first()
    )
    if user is None:
        raise NotFound(N_("No such person in this organisation."))
    return _person(user)


async def people(
    *,
    organisation_id: uuid.UUID | None = None,
    venue_id: uuid.UUID | None = None,
    role: str | None = None,
    active: bool | None = None,
    q: str | None = None,
    limit: int,
    offset: int,
) -> tuple[list[Person], int]:
    conditions: list[str] = ["TRUE"]
    args: list[Any] = []
    for column, value in (("organisation", organisation_id), ("venue", venue_id), ("role", role)):
        if value is not None:
            conditions.append(f"{column} = {{}}")
            args.append(value)
    if active is not None:
        conditions.append("active = {}")
        args.append(active)
    if q:
        conditions.append("(display_name ILIKE {} OR email ILIKE {})")
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        args += [pattern, pattern]
    where = " AND ".join(conditions)
    total = await User.raw(f"SELECT count(*) AS n FROM app_user WHERE {where}", *args)
    rows = await User.raw(
        f"""SELECT id, email, display_name, role, venue, organisation, monthly_allowance_units,
                   pseudonym, active, created_at, deactivated_at,
                   invitation_token_hash IS NOT NULL AS invitation_pending
              FROM app_user WHERE {where} ORDER BY display_name, email LIMIT {{}} OFFSET {{}}""",
        *args,
        limit,
        offset,
    )
    return [_person(r) for r in rows], int(total[0]["n"])


async def update_agent(
    organisation_id: uuid.UUID, agent_id: uuid.UUID, fields: dict[str, Any]
) -> None:
    current = await member(organisation_id, agent_id, Role.AGENT)
    async with User._meta.db.transaction():
        if fields:
            await User.update({getattr(User, k): v for k, v in fields.items()}).where(
                User.id == agent_id
            )
        await audit.act(
            "agent.update",
            "user",
            agent_id,
            before={k: getattr(current, k) for k in fields if hasattr(current, k)},
            after=fields,
        )


async def person(user_id: uuid.UUID) -> Person:
    row = await User.select().where(User.id == user_id).first()
    if row is None:
        raise NotFound(N_("No such person."))
    return _person(row)


async def set_agent_active(
    organisation_id: uuid.UUID, agent_id: uuid.UUID, *, active: bool
) -> None:
    current = await member(organisation_id, agent_id, Role.AGENT)
    async with User._meta.db.transaction():
        await set_active(agent_id, active)
        await audit.act(
            f"agent.{'reactivate' if active else 'deactivate'}",
            "user",
            agent_id,
            before={"active": current.active},
            after={"active": active},
        )


async def deactivate_venue_person(
    venue_id: uuid.UUID, user_id: uuid.UUID, *, by: Principal
) -> None:
    target = (
        await User.select(User.id).where((User.id == user_id) & (User.venue == venue_id)).first()
    )
    if target is None:
        raise NotFound(N_("No such person at this venue."))
    if user_id == by.user_id:
        raise Forbidden(N_("You cannot deactivate yourself."))
    async with User._meta.db.transaction():
        await set_active(user_id, False)
        await audit.act("user.deactivate", "user", user_id, after={"active": False})


async def set_active(user_id: uuid.UUID, active: bool) -> None:
    await User.update(
        {User.active: active, User.deactivated_at: None if active else datetime.now(UTC)}
    ).where(User.id == user_id)


# CSV import


@dataclass
class ImportReport:
    created: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


def _rows(content: bytes) -> tuple[list[str], list[dict[str, str]]]:
    columns, rows = read_rows(content, max_bytes=MAX_IMPORT_BYTES, prefer=",")
    if "email" not in columns or "display_name" not in columns:
        raise InvalidValue(
            N_("The first line names the columns: email, display_name[, monthly_allowance_units]."),
            field="file",
        )
    if len(rows) > MAX_IMPORT_ROWS:
        raise InvalidValue(
            N_("At most %(rows)s agents per file."), field="file", rows=MAX_IMPORT_ROWS
        )
    return columns, rows


async def import_agents(
    organisation_id: uuid.UUID,
    content: bytes,
    base_url: str,
    *,
    conceal_other_tenants: bool = False,
) -> ImportReport:
    """Valid rows become invited agents; each invalid row is reported with its line number.

    An address that belongs to another tenant's person is reported like a new invitation
    (see `invite`), so that a file of guesses cannot map who has an account elsewhere.
    """
    await get(organisation_id)
    _, rows = _rows(content)
    report = ImportReport()
    seen: set[str] = set()
    # One transaction for the file and its audit row; each line in a savepoint, so that a bad
    # line is reported and undone alone while the good ones stay.
    async with User._meta.db.transaction() as transaction:
        for line, row in enumerate(rows, start=2):
            email = row.get("email", "")
            savepoint = await transaction.savepoint()
            try:
                normalised = accounts.normalise_email(email).lower()
                if normalised in seen:
                    raise InvalidValue(N_("This email appears twice in the file."), field="email")
                allowance_text = row.get("monthly_allowance_units", "")
                allowance = None
                if allowance_text:
                    if not allowance_text.isdigit() or int(allowance_text) > 1000:
                        raise InvalidValue(
                            N_("The allowance is a whole number of half-days (0 to 1000)."),
                            field="monthly_allowance_units",
                        )
                    allowance = int(allowance_text)
                if not row.get("display_name"):
                    raise InvalidValue(N_("The name is missing."), field="display_name")
                invited = await invite(
                    email=email,
                    display_name=row["display_name"],
                    role=Role.AGENT,
                    organisation_id=organisation_id,
                    monthly_allowance_units=allowance,
                    conceal_other_tenants=conceal_other_tenants,
                    audited=False,
                )
            except (InvalidValue, DuplicateEmail) as error:
                await savepoint.rollback_to()
                report.errors.append(
                    {"row": line, "field": error.field or "email", "detail": error.detail}
                )
                continue
            await savepoint.release()
            seen.add(normalised)
            report.created.append(
                {
                    "row": line,
                    "id": invited.user_id,
                    "email": email,
                    "invitation_url": f"{base_url}/invitation/{invited.invitation_token}",
                }
            )
        await audit.act(
            "agent.import",
            "organisation",
            organisation_id,
            after={
                "created": [c["id"] for c in report.created],
                "errors": len(report.errors),
            },
        )
    return report


async def active_organisations() -> list[dict[str, Any]]:
    """The active organisations' ids and names, by name (a rate card's possible owners)."""
    return (
        await Organisation.select(Organisation.id, Organisation.name)
        .where(Organisation.active == True)  # noqa: E712
        .order_by(Organisation.name)
    )
