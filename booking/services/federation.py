"""Who a provider's identity is here: the linked person, an account linked once by its email,
or an agent joining by their employer's SIRET; and each organisation's self-enrolment rule.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from piccolo.columns.combination import WhereRaw

from booking.services import accounts
from booking.tables import Organisation, User
from service.kernel import audit
from service.kernel.errors import DomainError, InvalidValue, NotFound
from service.kernel.i18n import N_
from service.kernel.identity import Role
from service.kernel.problems import register
from service.kernel.text import one_line

SIRET = re.compile(r"^[0-9]{14}$")
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
MAX_SIRETS = 50
MAX_DOMAINS = 20


class NoOrganisationForSiret(DomainError):
    default_detail = N_(
        "No organisation of the network lets the agents of your employer (SIRET %(siret)s) join by themselves."
    )


class AccountNotLinkable(DomainError):
    default_detail = N_(
        "An account with your email address already signs in with another identity of the provider."
    )


class AccountInactive(DomainError):
    default_detail = N_("Your account is deactivated. Ask your organisation's administrator.")


register(NoOrganisationForSiret, "no-organisation-for-siret", 403, "No organisation for this SIRET")
register(AccountNotLinkable, "account-not-linkable", 409, "Account linked to another identity")
register(AccountInactive, "account-inactive", 403, "Account deactivated")


@dataclass(frozen=True)
class Identity:
    """What the provider said about the person, in our words (service.kernel.oidc.mapped)."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    given_name: str
    family_name: str
    siret: str | None

    @classmethod
    def of(cls, issuer: str, sub: str, fields: dict[str, Any], trust_email: bool) -> Identity:
        verified = fields.get("email_verified")
        email = fields.get("email")
        siret = fields.get("siret")
        return cls(
            issuer=issuer,
            subject=str(sub),
            email=email.strip() if isinstance(email, str) and email.strip() else None,
            email_verified=verified is True or (verified is None and trust_email),
            # An identity provider's name is taken as one line: control characters dropped.
            given_name=one_line(str(fields.get("given_name") or ""))[:100],
            family_name=one_line(str(fields.get("family_name") or ""))[:100],
            siret=re.sub(r"\s", "", siret) if isinstance(siret, str) else None,
        )

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()


async def person_for(identity: Identity) -> User:
    """The person this identity signs in as; linked, linked now by email, or enrolled now.

    NoOrganisationForSiret when nobody matches and no organisation takes the SIRET (nothing
    is created then); AccountNotLinkable, AccountInactive for an account that cannot be used.
    """
    async with User._meta.db.transaction():
        linked = (
            await User.objects()
            .where((User.oidc_issuer == identity.issuer) & (User.oidc_subject == identity.subject))
            .first()
        )
        if linked is not None:
            if not linked.active:
                raise AccountInactive()
            return linked
        if identity.email and identity.email_verified:
            by_email = (
                await User.objects()
                .where(WhereRaw("lower(email) = lower({})", identity.email))
                .first()
            )
            if by_email is not None:
                if by_email.oidc_subject is not None:
                    raise AccountNotLinkable()
                if not by_email.active:
                    raise AccountInactive()
                await User.update(
                    {User.oidc_issuer: identity.issuer, User.oidc_subject: identity.subject}
                ).where(User.id == by_email.id)
                await audit.record(
                    audit.Actor("person", by_email.id, by_email.role),
                    "user.link_identity",
                    "user",
                    by_email.id,
                    after={"oidc_issuer": identity.issuer},
                )
                return by_email
        return await _enrol(identity)


async def _enrol(identity: Identity) -> User:
    siret = identity.siret or ""
    if not SIRET.match(siret) or not identity.email or not identity.email_verified:
        raise NoOrganisationForSiret(siret=siret or "?")
    domain = identity.email.rpartition("@")[2].lower()
    rows = await Organisation.raw(
        """
        SELECT id FROM organisation
         WHERE self_enrolment AND active AND {} = ANY (enrolment_sirets)
           AND (cardinality(enrolment_domains) = 0 OR {} = ANY (enrolment_domains))
         ORDER BY created_at LIMIT 1
        """,
        siret,
        domain,
    )
    if not rows:
        raise NoOrganisationForSiret(siret=siret)
    organisation_id: uuid.UUID = rows[0]["id"]
    user = await accounts.create_user(
        email=identity.email,
        display_name=identity.display_name or identity.email,
        role=Role.AGENT,
        organisation_id=organisation_id,
    )
    await User.update(
        {
            User.oidc_issuer: identity.issuer,
            User.oidc_subject: identity.subject,
            User.enrolled_by_siret: siret,
        }
    ).where(User.id == user.id)
    await audit.record(
        audit.Actor("person", user.id, Role.AGENT.value),
        "agent.self_enrol",
        "user",
        user.id,
        after={"organisation": organisation_id, "siret": siret, "role": Role.AGENT.value},
    )
    fresh = await accounts.user_of(user.id)
    assert fresh is not None
    return fresh


@dataclass(frozen=True)
class EnrolmentRule:
    self_enrolment: bool
    sirets: list[str]
    domains: list[str]


def _sirets(values: list[str]) -> list[str]:
    cleaned = []
    for value in values:
        siret = re.sub(r"\s", "", value)
        if not siret:
            continue
        if not SIRET.match(siret):
            raise InvalidValue(N_("A SIRET has 14 digits."), field="sirets")
        if siret not in cleaned:
            cleaned.append(siret)
    if len(cleaned) > MAX_SIRETS:
        raise InvalidValue(N_("At most %(n)s SIRETs."), field="sirets", n=MAX_SIRETS)
    return cleaned


def _domains(values: list[str]) -> list[str]:
    cleaned = []
    for value in values:
        domain = value.strip().lower().lstrip("@").rstrip(".")
        if not domain:
            continue
        if not DOMAIN.match(domain):
            raise InvalidValue(N_("This is not an email domain."), field="domains")
        if domain not in cleaned:
            cleaned.append(domain)
    if len(cleaned) > MAX_DOMAINS:
        raise InvalidValue(N_("At most %(n)s domains."), field="domains", n=MAX_DOMAINS)
    return cleaned


async def enrolment_rule(organisation_id: uuid.UUID) -> EnrolmentRule:
    row = (
        await Organisation.select(
            Organisation.self_enrolment,
            Organisation.enrolment_sirets,
            Organisation.enrolment_domains,
        )
        .where(Organisation.id == organisation_id)
        .first()
    )
    if row is None:
        raise NotFound()
    return EnrolmentRule(
        row["self_enrolment"], list(row["enrolment_sirets"]), list(row["enrolment_domains"])
    )


async def set_enrolment_rule(
    organisation_id: uuid.UUID, self_enrolment: bool, sirets: list[str], domains: list[str]
) -> EnrolmentRule:
    """Allow (or stop) agents of these SIRETs joining by themselves; audited."""
    cleaned_sirets, cleaned_domains = _sirets(sirets), _domains(domains)
    if self_enrolment and not cleaned_sirets:
        raise InvalidValue(N_("Name at least one SIRET to let agents join."), field="sirets")
    async with Organisation._meta.db.transaction():
        before = await enrolment_rule(organisation_id)
        await Organisation.update(
            {
                Organisation.self_enrolment: self_enrolment,
                Organisation.enrolment_sirets: cleaned_sirets,
                Organisation.enrolment_domains: cleaned_domains,
            }
        ).where(Organisation.id == organisation_id)
        after = EnrolmentRule(self_enrolment, cleaned_sirets, cleaned_domains)
        await audit.act(
            "organisation.enrolment",
            "organisation",
            organisation_id,
            before=before.__dict__,
            after=after.__dict__,
        )
    return after


async def self_enrolled(organisation_id: uuid.UUID) -> list[dict[str, Any]]:
    """The agents who joined by themselves, newest first (the admin may deactivate them)."""
    return list(
        await User.select(
            User.id,
            User.display_name,
            User.email,
            User.enrolled_by_siret,
            User.created_at,
            User.active,
        )
        .where((User.organisation == organisation_id) & User.enrolled_by_siret.is_not_null())
        .order_by(User.created_at, ascending=False)
    )
