"""The organisation console's landing page: its agents, inviting one, a CSV import, deactivating."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile

from booking.errors import DuplicateEmail
from booking.services import organisations
from passes import personal_data
from service.kernel.auth import CurrentPrincipal
from service.kernel.errors import DomainError, NotFound
from service.kernel.i18n import N_
from service.kernel.identity import Principal, Role
from web.console_flow import Refused, done_redirect, submit
from web.consoles import Form, not_found, refusal
from web.controllers.home import data_export
from web.controllers.organisation.console import ORG_ADMIN, done, organisation_of
from web.controllers.organisation.forms import invite_form
from web.i18n import translate
from web.pages import language, page


class OrganisationAgentsController(Controller):
    path = "/organisation"
    include_in_schema = False

    @get("", opt=ORG_ADMIN)
    async def agents(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        """Landing page: the agents and their status, invite one, import a CSV."""
        return await self._agents_page(request, principal)

    async def _agents_page(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        *,
        invite_form: dict[str, str] | None = None,
        invite_errors: dict[str, str] | None = None,
        invited: dict[str, Any] | None = None,
        import_errors: dict[str, str] | None = None,
        report: organisations.ImportReport | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        organisation_id = organisation_of(principal)
        q = (request.query_params.get("q") or "").strip()[:100]
        rows, total = await organisations.people(
            organisation_id=organisation_id,
            role=Role.AGENT.value,
            q=q or None,
            limit=500,
            offset=0,
        )
        return page(
            request,
            "organisation/agents.html",
            title=N_("Agents"),
            status_code=status_code,
            organisation=await organisations.get(organisation_id),
            agents=rows,
            total=total,
            q=q,
            invite_form=invite_form or {"email": "", "display_name": "", "allowance": ""},
            invite_errors=invite_errors or {},
            invited=invited,
            import_errors=import_errors or {},
            report=report,
            done=done(request),
        )

    @post("/agents", opt=ORG_ADMIN)
    async def invite(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: Form
    ) -> Response[Any]:
        """Invite one agent; the invitation link is shown once (only its hash is kept)."""
        lang = language(request)
        form, allowance, errors = invite_form(lang, data)

        async def invite() -> Response[Any]:
            created = await organisations.invite(
                email=form["email"],
                display_name=form["display_name"],
                role=Role.AGENT,
                organisation_id=organisation_of(principal),
                monthly_allowance_units=allowance,
                # An address of another organisation's person looks like a new invitation
                # (its owner gets a mail): the page must not tell who has an account.
                conceal_other_tenants=True,
            )
            base = request.app.state.settings.base_url
            return await self._agents_page(
                request,
                principal,
                invited={
                    "id": created.user_id,
                    "name": form["display_name"],
                    "url": f"{base}/invitation/{created.invitation_token}",
                },
                status_code=201,
            )

        async def again(errors: dict[str, str], status_code: int) -> Response[Any]:
            return await self._agents_page(
                request, principal, invite_form=form, invite_errors=errors, status_code=status_code
            )

        def refused(error: DomainError) -> Refused:
            return 409, {
                "email": translate(lang, N_("An account already exists with this email address."))
            }

        return await submit(errors, invite, again, refused, catch=(DuplicateEmail,))

    @post(
        "/agents/import",
        opt=ORG_ADMIN,
        # The file and the form's envelope (its other fields, the multipart boundaries).
        request_max_body_size=organisations.MAX_IMPORT_BYTES + 64_000,
    )
    async def import_csv(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        """Valid rows become invited agents; each bad row is listed with its line and reason."""
        lang = language(request)
        upload = (await request.form()).get("file")
        content = await upload.read() if isinstance(upload, UploadFile) else b""
        errors: dict[str, str] = {}
        if not content:
            errors["file"] = translate(lang, N_("Choose a CSV file."))

        async def import_agents() -> Response[Any]:
            report = await organisations.import_agents(
                organisation_of(principal),
                content,
                str(request.app.state.settings.base_url),
                conceal_other_tenants=True,
            )
            return await self._agents_page(request, principal, report=report)

        async def again(errors: dict[str, str], status_code: int) -> Response[Any]:
            return await self._agents_page(
                request, principal, import_errors=errors, status_code=status_code
            )

        def refused(error: DomainError) -> Refused:
            return 422, {"file": refusal(lang, error)[1]}

        return await submit(errors, import_agents, again, refused)

    @post("/agents/{agent_id:uuid}/deactivate", opt=ORG_ADMIN)
    async def deactivate(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, agent_id: uuid.UUID
    ) -> Response[Any]:
        """History is kept; the agent's pass is revoked by the database at once."""
        return await self._set_active(request, principal, agent_id, active=False)

    @post("/agents/{agent_id:uuid}/reactivate", opt=ORG_ADMIN)
    async def reactivate(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, agent_id: uuid.UUID
    ) -> Response[Any]:
        return await self._set_active(request, principal, agent_id, active=True)

    async def _set_active(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        agent_id: uuid.UUID,
        *,
        active: bool,
    ) -> Response[Any]:
        try:
            await organisations.set_agent_active(
                organisation_of(principal), agent_id, active=active
            )
        except NotFound:
            return not_found(request)
        what = "reactivated" if active else "deactivated"
        return done_redirect("/organisation", what, f"agent-{agent_id}")

    # Rights of access and erasure (docs/rights.md)

    @get("/agents/{agent_id:uuid}/export", opt=ORG_ADMIN)
    async def export(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, agent_id: uuid.UUID
    ) -> Response[Any]:
        """Everything held about one of the organisation's agents, as the API's zip."""
        try:
            content = await personal_data.export(principal, agent_id, organisation_of(principal))
        except (NotFound, personal_data.PersonErased):
            return not_found(request)
        return data_export(content, agent_id)

    @get("/agents/{agent_id:uuid}/erase", opt=ORG_ADMIN)
    async def confirm_erase(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, agent_id: uuid.UUID
    ) -> Response[Any]:
        """The confirmation step: what an erasure does, and the agent's address to type."""
        return await self._erase_page(request, principal, agent_id)

    async def _erase_page(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        agent_id: uuid.UUID,
        *,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        try:
            person = await personal_data.subject(agent_id, organisation_of(principal))
        except NotFound:
            return not_found(request)
        except personal_data.PersonErased:
            return already_erased(request)
        return page(
            request,
            "organisation/erase.html",
            title=N_("Erase an agent's personal data"),
            status_code=status_code,
            person=person,
            errors=errors or {},
        )

    @post("/agents/{agent_id:uuid}/erase", opt=ORG_ADMIN)
    async def erase(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        agent_id: uuid.UUID,
        data: Form,
    ) -> Response[Any]:
        """Erase once the admin typed the agent's email address; the list then says so."""
        lang = language(request)
        try:
            person = await personal_data.subject(agent_id, organisation_of(principal))
        except NotFound:
            return not_found(request)
        except personal_data.PersonErased:
            return already_erased(request)
        typed = (data.get("confirm_email") or "").strip().lower()
        if typed != str(person["email"]).lower():
            errors = {
                "confirm_email": translate(
                    lang, N_("Type the agent's email address exactly to confirm.")
                )
            }
            return await self._erase_page(
                request, principal, agent_id, errors=errors, status_code=422
            )
        try:
            await personal_data.erase(
                principal,
                agent_id,
                organisation_of(principal),
                base_url=str(request.app.state.settings.base_url),
            )
        except personal_data.PersonErased:
            return already_erased(request)
        return done_redirect("/organisation", "erased", f"agent-{agent_id}")


def already_erased(request: Request[Any, Any, Any]) -> Response[Any]:
    return page(
        request,
        "error.html",
        title=N_("Already erased"),
        detail=translate(language(request), N_("This person's data has been erased.")),
        status_code=410,
        code=410,
    )
