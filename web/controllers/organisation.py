"""The organisation console: agents (invite, CSV import, deactivate), policy, usage, invoices.

An organisation admin sees and changes their own organisation only: it comes from the
session, never from the address.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect

from billing import rendering, services
from booking.errors import DuplicateEmail, Forbidden, InvalidValue, NotFound
from booking.identity import Principal, Role
from booking.services import accounts, booking_lists, organisations
from booking.services.bookings import allowance_units
from service.auth import CurrentPrincipal, allow
from service.i18n import N_
from web.consoles import (
    Form,
    checked,
    month_of,
    not_found,
    refusal,
    stored_document_file,
    today,
)
from web.i18n import Message, translate
from web.labels import ORG_DONE
from web.pages import language, page

ORG_ADMIN = allow(Role.ORG_ADMIN)
DONE = ("deactivated", "reactivated", "policy_saved")
LIVE = ("confirmed", "checked_in", "completed")
ATTENDED = ("checked_in", "completed")
# The policy fields an organisation admin edits here, with the API's bounds (OrganisationPatch).
NUMBERS = {
    "monthly_allowance_units": (0, 1000),
    "booking_horizon_days": (1, 366),
    "cancellation_deadline_hours": (0, 720),
}
TEXTS = {
    "billing_address": (1, 500),
    "billing_email": (3, 254),
    "chorus_service_code": (0, 100),
    "chorus_engagement_number": (0, 100),
}
FLAGS = ("bill_no_shows", "bill_late_cancellations")
FILE_ROUTES = {
    "pdf": rendering.FACTURX_PDF,
    "plain-pdf": rendering.PLAIN_PDF,
    "xml": rendering.CII_XML,
}


def _organisation(principal: Principal) -> uuid.UUID:
    assert principal.organisation_id is not None  # organisation admins always belong to one
    return principal.organisation_id


def _done(request: Request[Any, Any, Any]) -> Message | None:
    done = request.query_params.get("done")
    return ORG_DONE.get(done) if done in DONE else None


def _policy_form(lang: str, values: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The organisation's editable policy as the service takes it, and errors by field."""
    fields: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, (low, high) in NUMBERS.items():
        text = (values.get(name) or "").strip()
        if not text.isdigit() or not low <= int(text) <= high:
            errors[name] = translate(
                lang, N_("A whole number from %(low)s to %(high)s."), low=low, high=high
            )
        else:
            fields[name] = int(text)
    for name, (low, high) in TEXTS.items():
        text = (values.get(name) or "").strip()
        if not low <= len(text) <= high:
            errors[name] = translate(
                lang,
                N_("This field is required.") if not text else N_("At most %(high)s characters."),
                high=high,
            )
        elif name.startswith("chorus_"):
            fields[name] = text or None
        else:
            fields[name] = text
    if "billing_email" not in errors:
        try:
            fields["billing_email"] = accounts.normalise_email(fields["billing_email"])
        except InvalidValue:
            errors["billing_email"] = translate(lang, N_("Write a valid email address."))
    for name in FLAGS:
        fields[name] = checked(values, name)
    return fields, errors


def _paid_status(document: dict[str, Any], on: Any) -> str:
    if document["paid_cents"] >= document["total_incl_cents"]:
        return "paid"
    if document["paid_cents"] > 0:
        return "partial"
    return "overdue" if document["due_on"] < on else "unpaid"


def _usage_by_agent(
    bookings: list[dict[str, Any]],
    agents: list[dict[str, Any]],
    organisation: dict[str, Any],
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """One row per agent with their month's bookings by outcome and half-days counted."""
    rows: dict[uuid.UUID, dict[str, Any]] = {
        a["id"]: {
            "id": a["id"],
            "name": a["display_name"],
            "email": a["email"],
            "active": a["active"],
            "allowed": allowance_units(a, organisation),
            "bookings": 0,
            "attended": 0,
            "upcoming": 0,
            "no_show": 0,
            "cancelled": 0,
            "used": 0,
        }
        for a in agents
    }
    counted = {
        *LIVE,
        *(("no_show",) if organisation["bill_no_shows"] else ()),
        *(("late_cancelled",) if organisation["bill_late_cancellations"] else ()),
    }
    for booking in bookings:
        row = rows.get(booking["agent_id"])
        if row is None:
            continue
        row["bookings"] += 1
        status = booking["status"]
        if status in ATTENDED:
            row["attended"] += 1
        elif status == "confirmed":
            row["upcoming"] += 1
        elif status == "no_show":
            row["no_show"] += 1
        else:
            row["cancelled"] += 1
        if status in counted:
            row["used"] += booking["allowance_units"]
    used_rows = sorted(
        (r for r in rows.values() if r["bookings"] or r["active"]),
        key=lambda r: (-r["bookings"], r["name"].lower()),
    )
    keys = ("bookings", "attended", "upcoming", "no_show", "cancelled", "used")
    totals = {k: sum(r[k] for r in used_rows) for k in keys}
    return used_rows, totals


class OrganisationConsoleController(Controller):
    path = "/organisation"
    include_in_schema = False

    # Agents

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
        organisation_id = _organisation(principal)
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
            done=_done(request),
        )

    @post("/agents", opt=ORG_ADMIN)
    async def invite(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: Form
    ) -> Response[Any]:
        """Invite one agent; the invitation link is shown once (only its hash is kept)."""
        lang = language(request)
        form = {k: (data.get(k) or "").strip() for k in ("email", "display_name", "allowance")}
        errors: dict[str, str] = {}
        try:
            accounts.normalise_email(form["email"])
            if len(form["email"]) > 254:
                raise InvalidValue(field="email")
        except InvalidValue:
            errors["email"] = translate(lang, N_("Write a valid email address."))
        if not form["display_name"] or len(form["display_name"]) > 200:
            errors["display_name"] = translate(lang, N_("Give the name (at most 200 characters)."))
        allowance: int | None = None
        if form["allowance"]:
            if not form["allowance"].isdigit() or int(form["allowance"]) > 1000:
                errors["allowance"] = translate(
                    lang, N_("A whole number from %(low)s to %(high)s."), low=0, high=1000
                )
            else:
                allowance = int(form["allowance"])
        if not errors:
            try:
                created = await organisations.invite(
                    email=form["email"],
                    display_name=form["display_name"],
                    role=Role.AGENT,
                    organisation_id=_organisation(principal),
                    monthly_allowance_units=allowance,
                )
            except DuplicateEmail:
                errors["email"] = translate(
                    lang, N_("An account already exists with this email address.")
                )
                return await self._agents_page(
                    request, principal, invite_form=form, invite_errors=errors, status_code=409
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
        return await self._agents_page(
            request, principal, invite_form=form, invite_errors=errors, status_code=422
        )

    @post("/agents/import", opt=ORG_ADMIN, request_max_body_size=2_000_000)
    async def import_csv(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        """Valid rows become invited agents; each bad row is listed with its line and reason."""
        lang = language(request)
        upload = (await request.form()).get("file")
        content = await upload.read() if isinstance(upload, UploadFile) else b""
        if not content:
            return await self._agents_page(
                request,
                principal,
                import_errors={"file": translate(lang, N_("Choose a CSV file."))},
                status_code=422,
            )
        try:
            report = await organisations.import_agents(
                _organisation(principal), content, str(request.app.state.settings.base_url)
            )
        except InvalidValue as error:
            return await self._agents_page(
                request,
                principal,
                import_errors={"file": refusal(lang, error)[1]},
                status_code=422,
            )
        return await self._agents_page(request, principal, report=report)

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
            await organisations.set_agent_active(_organisation(principal), agent_id, active=active)
        except NotFound:
            return not_found(request)
        done = "reactivated" if active else "deactivated"
        return Redirect(f"/organisation?done={done}#agent-{agent_id}", status_code=303)

    # Allowances and policy

    @get("/policy", opt=ORG_ADMIN)
    async def policy(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        organisation = await organisations.get(_organisation(principal))
        form = {
            k: "" if organisation[k] is None else str(organisation[k]) for k in (*NUMBERS, *TEXTS)
        }
        form.update({k: organisation[k] for k in FLAGS})
        return self._policy_page(request, organisation, form, {})

    def _policy_page(
        self,
        request: Request[Any, Any, Any],
        organisation: dict[str, Any],
        form: dict[str, Any],
        errors: dict[str, str],
        *,
        status_code: int = 200,
    ) -> Response[Any]:
        return page(
            request,
            "organisation/policy.html",
            title=N_("Allowances and policy"),
            status_code=status_code,
            organisation=organisation,
            form=form,
            errors=errors,
            done=_done(request),
        )

    @post("/policy", opt=ORG_ADMIN)
    async def save_policy(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: Form
    ) -> Response[Any]:
        """The fields the API lets an organisation admin change, with the API's bounds."""
        lang = language(request)
        organisation_id = _organisation(principal)
        fields, errors = _policy_form(lang, data)
        if not errors:
            try:
                await organisations.update(principal, organisation_id, fields)
            except (InvalidValue, Forbidden) as error:
                errors[error.field or "billing_address"] = refusal(lang, error)[1]
            else:
                return Redirect("/organisation/policy?done=policy_saved", status_code=303)
        form: dict[str, Any] = {k: data.get(k, "") for k in (*NUMBERS, *TEXTS)}
        form.update({k: checked(data, k) for k in FLAGS})
        organisation = await organisations.get(organisation_id)
        return self._policy_page(request, organisation, form, errors, status_code=422)

    # Bookings and usage

    @get("/usage", opt=ORG_ADMIN)
    async def usage(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        """A month's bookings per agent: attended, upcoming, no-shows, half-days counted."""
        lang = language(request)
        organisation_id = _organisation(principal)
        asked = request.query_params.get("month") or ""
        month = month_of(asked) if asked else today().replace(day=1)
        error = None
        if month is None:
            error = translate(lang, N_("Choose a valid month."))
            month = today().replace(day=1)
        organisation = await organisations.get(organisation_id)
        bookings, total = await booking_lists.for_organisation(
            organisation_id,
            month=month,
            agent_id=None,
            limit=5000,
            offset=0,
            base_url=str(request.app.state.settings.base_url),
        )
        agents, _ = await organisations.people(
            organisation_id=organisation_id, role=Role.AGENT.value, limit=5000, offset=0
        )
        rows, totals = _usage_by_agent(bookings, agents, organisation)
        return page(
            request,
            "organisation/usage.html",
            title=N_("Bookings and usage"),
            status_code=422 if error else 200,
            month=month,
            month_text=asked if error else month.strftime("%Y-%m"),
            error=error,
            rows=rows,
            totals=totals,
            bookings=bookings[:200],
            total=total,
        )

    # Invoices

    @get("/invoices", opt=ORG_ADMIN)
    async def invoices(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        return await self._invoices_page(request, principal)

    async def _invoices_page(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        *,
        rendering_number: str | None = None,
    ) -> Response[Any]:
        lang = language(request)
        asked = request.query_params.get("period") or ""
        period = month_of(asked)
        error = translate(lang, N_("Choose a valid month.")) if asked and period is None else None
        rows, total = await services.list_documents(principal, "invoice", period, 120, 0)
        on = today()
        response = page(
            request,
            "organisation/invoices.html",
            title=N_("Invoices"),
            status_code=503 if rendering_number else 422 if error else 200,
            invoices=[{**r, "paid": _paid_status(r, on)} for r in rows],
            total=total,
            period=asked,
            error=error,
            rendering_number=rendering_number,
        )
        if rendering_number:
            response.headers["Retry-After"] = str(rendering.NotRenderedYet.retry_after)
        return response

    @get("/invoices/{invoice_id:uuid}/{file:str}", opt=ORG_ADMIN)
    async def invoice_file(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        invoice_id: uuid.UUID,
        file: str,
    ) -> Response[Any]:
        """The stored Factur-X PDF, plain PDF (for Chorus Pro) or CII XML of an invoice."""
        if file not in FILE_ROUTES:
            return not_found(request)
        try:
            document = await services.get_document(principal, "invoice", invoice_id)
        except NotFound:
            return not_found(request)
        response = await stored_document_file(request, document, FILE_ROUTES[file])
        if response is None:
            return await self._invoices_page(
                request, principal, rendering_number=document["number"]
            )
        return response
