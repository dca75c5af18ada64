"""Organisations, their agents, venue staff and invitations over HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, get, patch, post, put
from litestar.params import JSONBody

from booking.schemas.organisations import (
    AcceptInvitation,
    AgentPatch,
    EnrolmentRuleIn,
    EnrolmentRuleOut,
    ImportOut,
    InvitedOut,
    NewOrganisation,
    NewPerson,
    NewUser,
    OrganisationOut,
    OrganisationPatch,
    PersonOut,
    RoleName,
    SelfEnrolledOut,
)
from booking.services import federation, organisations
from service.kernel.auth import PUBLIC, CurrentPrincipal, allow
from service.kernel.idempotency import IdempotencyMiddleware
from service.kernel.identity import Role
from service.kernel.pagination import Limit, Offset, Page

NETWORK = allow(Role.NETWORK_ADMIN)
ORG_ADMINS = allow(Role.ORG_ADMIN, Role.NETWORK_ADMIN, organisation_scope="organisation_id")
VENUE_ADMINS = allow(Role.VENUE_ADMIN, Role.NETWORK_ADMIN, venue_scope="venue_id")
VENUE_PEOPLE = allow(Role.VENUE_ADMIN, Role.VENUE_STAFF, Role.NETWORK_ADMIN, venue_scope="venue_id")


def _base_url(request: Request[Any, Any, Any]) -> str:
    return str(request.app.state.settings.base_url)


def _invited_out(request: Request[Any, Any, Any], invited: organisations.Invited) -> InvitedOut:
    return InvitedOut(
        PersonOut.of(invited.person),
        f"{_base_url(request)}/invitation/{invited.invitation_token}",
    )


def _organisation_out(organisation: organisations.OrganisationRecord) -> OrganisationOut:
    return msgspec.convert(organisation, OrganisationOut, from_attributes=True)


class OrganisationController(Controller):
    path = "/organisations"
    tags = ["organisations"]

    @post("", opt=NETWORK, middleware=[IdempotencyMiddleware], summary="Add an organisation")
    async def create(self, data: JSONBody[NewOrganisation]) -> OrganisationOut:
        organisation_id = await organisations.create(_plain(data))
        return _organisation_out(await organisations.get(organisation_id))

    @get("", opt=NETWORK, summary="Organisations")
    async def list_organisations(
        self,
        kind: str | None = None,
        active: bool | None = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[OrganisationOut]:
        rows, total = await organisations.list_all(kind, active, limit, offset)
        return Page([_organisation_out(r) for r in rows], total, limit, offset)

    @get("/{organisation_id:uuid}", opt=ORG_ADMINS, summary="One organisation and its policy")
    async def read(self, organisation_id: uuid.UUID) -> OrganisationOut:
        return _organisation_out(await organisations.get(organisation_id))

    @patch(
        "/{organisation_id:uuid}",
        opt=ORG_ADMINS,
        summary="Edit (organisation admins: allowance, policy, billing contact)",
    )
    async def edit(
        self,
        principal: CurrentPrincipal,
        organisation_id: uuid.UUID,
        data: JSONBody[OrganisationPatch],
    ) -> OrganisationOut:
        await organisations.update(principal, organisation_id, data.fields())
        return _organisation_out(await organisations.get(organisation_id))


class EnrolmentController(Controller):
    """Whether agents of the organisation's SIRETs join at their first provider sign-in."""

    path = "/organisations/{organisation_id:uuid}/enrolment"
    tags = ["organisations"]

    @get("", opt=ORG_ADMINS, summary="The self-enrolment rule")
    async def read(self, organisation_id: uuid.UUID) -> EnrolmentRuleOut:
        rule = await federation.enrolment_rule(organisation_id)
        return EnrolmentRuleOut(rule.self_enrolment, rule.sirets, rule.domains)

    @put("", opt=ORG_ADMINS, summary="Let agents of these SIRETs (and domains) join by themselves")
    async def write(
        self, organisation_id: uuid.UUID, data: JSONBody[EnrolmentRuleIn]
    ) -> EnrolmentRuleOut:
        await organisations.get(organisation_id)
        rule = await federation.set_enrolment_rule(
            organisation_id, data.self_enrolment, data.sirets, data.domains
        )
        return EnrolmentRuleOut(rule.self_enrolment, rule.sirets, rule.domains)

    @get("/agents", opt=ORG_ADMINS, summary="The agents who joined by themselves")
    async def joined(self, organisation_id: uuid.UUID) -> list[SelfEnrolledOut]:
        return [
            SelfEnrolledOut(
                id=row["id"],
                display_name=row["display_name"],
                email=row["email"],
                siret=row["enrolled_by_siret"],
                joined_at=row["created_at"],
                active=row["active"],
            )
            for row in await federation.self_enrolled(organisation_id)
        ]


class AgentController(Controller):
    path = "/organisations/{organisation_id:uuid}/agents"
    tags = ["organisations"]

    @post("", opt=ORG_ADMINS, middleware=[IdempotencyMiddleware], summary="Invite an agent")
    async def invite(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        organisation_id: uuid.UUID,
        data: JSONBody[NewPerson],
    ) -> InvitedOut:
        invited = await organisations.invite(
            email=data.email,
            display_name=data.display_name,
            role=Role.AGENT,
            organisation_id=organisation_id,
            monthly_allowance_units=data.monthly_allowance_units,
            # The network sees every tenant's people; an organisation admin must not learn
            # from this answer that an address has an account elsewhere.
            conceal_other_tenants=not principal.is_network_admin,
        )
        return _invited_out(request, invited)

    @post(
        "/import",
        opt=ORG_ADMINS,
        status_code=200,
        summary="Invite agents from a CSV (email,display_name[,monthly_allowance_units])",
        request_max_body_size=organisations.MAX_IMPORT_BYTES,
    )
    async def import_csv(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        organisation_id: uuid.UUID,
    ) -> ImportOut:
        report = await organisations.import_agents(
            organisation_id,
            await request.body(),
            _base_url(request),
            conceal_other_tenants=not principal.is_network_admin,
        )
        return ImportOut(created=report.created, errors=report.errors)  # type: ignore[arg-type]

    @get("", opt=ORG_ADMINS, summary="The organisation's agents")
    async def list_agents(
        self,
        organisation_id: uuid.UUID,
        active: bool | None = None,
        q: str | None = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[PersonOut]:
        rows, total = await organisations.people(
            organisation_id=organisation_id,
            role=Role.AGENT.value,
            active=active,
            q=q,
            limit=limit,
            offset=offset,
        )
        return Page([PersonOut.of(r) for r in rows], total, limit, offset)

    @patch("/{agent_id:uuid}", opt=ORG_ADMINS, summary="Rename, or set an agent's own allowance")
    async def edit(
        self, organisation_id: uuid.UUID, agent_id: uuid.UUID, data: JSONBody[AgentPatch]
    ) -> PersonOut:
        await organisations.update_agent(organisation_id, agent_id, data.fields())
        return await _person_row(agent_id)

    @post(
        "/{agent_id:uuid}/deactivate",
        opt=ORG_ADMINS,
        status_code=200,
        summary="Deactivate (history kept)",
    )
    async def deactivate(self, organisation_id: uuid.UUID, agent_id: uuid.UUID) -> PersonOut:
        await organisations.set_agent_active(organisation_id, agent_id, active=False)
        return await _person_row(agent_id)

    @post("/{agent_id:uuid}/reactivate", opt=ORG_ADMINS, status_code=200, summary="Reactivate")
    async def reactivate(self, organisation_id: uuid.UUID, agent_id: uuid.UUID) -> PersonOut:
        await organisations.set_agent_active(organisation_id, agent_id, active=True)
        return await _person_row(agent_id)


class InvitationController(Controller):
    path = "/auth/accept-invitation"
    tags = ["accounts"]

    @post("", opt=PUBLIC, status_code=200, summary="Set a password from an invitation")
    async def accept(
        self, request: Request[Any, Any, Any], data: JSONBody[AcceptInvitation]
    ) -> PersonOut:
        valid_days = request.app.state.settings.invitation_validity_days
        accepted = await organisations.accept_invitation(
            data.token, data.password, valid_days=valid_days
        )
        return await _person_row(accepted)


class UserController(Controller):
    path = "/users"
    tags = ["accounts"]

    @post("", opt=NETWORK, middleware=[IdempotencyMiddleware], summary="Invite anybody, any role")
    async def create(self, request: Request[Any, Any, Any], data: JSONBody[NewUser]) -> InvitedOut:
        invited = await organisations.invite(
            email=data.email,
            display_name=data.display_name,
            role=Role(data.role),
            organisation_id=data.organisation_id,
            venue_id=data.venue_id,
        )
        return _invited_out(request, invited)

    @get("", opt=NETWORK, summary="Everybody, by role, venue, organisation or name")
    async def list_users(
        self,
        role: RoleName | None = None,
        venue_id: uuid.UUID | None = None,
        organisation_id: uuid.UUID | None = None,
        q: str | None = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[PersonOut]:
        rows, total = await organisations.people(
            role=role,
            venue_id=venue_id,
            organisation_id=organisation_id,
            q=q,
            limit=limit,
            offset=offset,
        )
        return Page([PersonOut.of(r) for r in rows], total, limit, offset)


class VenueStaffController(Controller):
    path = "/venues/{venue_id:uuid}/staff"
    tags = ["catalogue"]

    @post("", opt=VENUE_ADMINS, middleware=[IdempotencyMiddleware], summary="Invite a staff member")
    async def invite(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        venue_id: uuid.UUID,
        data: JSONBody[NewPerson],
    ) -> InvitedOut:
        invited = await organisations.invite(
            email=data.email,
            display_name=data.display_name,
            role=Role.VENUE_STAFF,
            venue_id=venue_id,
            conceal_other_tenants=not principal.is_network_admin,
        )
        return _invited_out(request, invited)

    @get("", opt=VENUE_ADMINS, summary="The venue's people")
    async def list_staff(
        self, venue_id: uuid.UUID, limit: Limit = 50, offset: Offset = 0
    ) -> Page[PersonOut]:
        rows, total = await organisations.people(venue_id=venue_id, limit=limit, offset=offset)
        return Page([PersonOut.of(r) for r in rows], total, limit, offset)

    @post("/{user_id:uuid}/deactivate", opt=VENUE_ADMINS, status_code=200, summary="Deactivate")
    async def deactivate(
        self, principal: CurrentPrincipal, venue_id: uuid.UUID, user_id: uuid.UUID
    ) -> PersonOut:
        await organisations.deactivate_venue_person(venue_id, user_id, by=principal)
        return await _person_row(user_id)


async def _person_row(user_id: uuid.UUID) -> PersonOut:
    return PersonOut.of(await organisations.person(user_id))


def _plain(data: Any) -> dict[str, Any]:
    return msgspec.structs.asdict(data)


ORGANISATION_CONTROLLERS: list[type] = [
    OrganisationController,
    EnrolmentController,
    AgentController,
    InvitationController,
    UserController,
    VenueStaffController,
]
