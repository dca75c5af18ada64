"""The venue console's landing page: the workspaces, adding and editing one, the rates in force."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post

from booking.services import rates, venues, workspaces
from booking.services.rates import Rate
from booking.services.workspaces import CatalogueWorkspace
from service.kernel.auth import CurrentPrincipal
from service.kernel.errors import NotFound
from service.kernel.i18n import N_
from service.kernel.identity import Principal
from web.console_flow import done_redirect, on_field, submit
from web.consoles import Form, not_found, today
from web.controllers.venue.console import VENUE_ADMIN, done, venue_of
from web.controllers.venue.forms import EQUIPMENT, UNITS, workspace_form
from web.pages import language, page


def _rates_in_force(rates: list[Rate], on: date) -> list[dict[str, Any]]:
    """For each kind and unit, the latest rate started on or before `on` (and the next one)."""
    in_force: dict[tuple[str, str], Rate] = {}
    upcoming: dict[tuple[str, str], Rate] = {}
    for rate in rates:  # ordered by kind, unit, effective_from
        key = (rate.workspace_kind, rate.unit)
        if rate.effective_from <= on:
            in_force[key] = rate
        elif key not in upcoming:
            upcoming[key] = rate
    return [
        {**asdict(rate), "next": upcoming.get(key)}
        for key, rate in sorted(in_force.items(), key=lambda item: item[0])
    ]


class VenueWorkspacesController(Controller):
    path = "/venue"
    include_in_schema = False

    @get("", opt=VENUE_ADMIN)
    async def workspaces(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        """Landing page: the venue's workspaces, a form to add one, the rates in force."""
        return await self._workspaces_page(request, principal)

    async def _workspaces_page(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        *,
        form: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        refusal_text: str | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        venue_id = venue_of(principal)
        venue = await venues.visible_venue(principal, venue_id)
        return page(
            request,
            "venue/workspaces.html",
            title=N_("My workspaces"),
            status_code=status_code,
            venue=venue,
            workspaces=await workspaces.workspaces_of(venue_id, include_inactive=True),
            rates=_rates_in_force(await rates.venue_rates(venue_id), today()),
            form=form or {"kind": "desk", "booking_unit": "half_day", "capacity": "", "name": ""},
            errors=errors or {},
            refusal=refusal_text,
            done=done(request),
            kinds=workspaces.WORKSPACE_KINDS,
            units=UNITS,
            equipment=EQUIPMENT,
        )

    @post("/workspaces", opt=VENUE_ADMIN)
    async def add_workspace(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: Form
    ) -> Response[Any]:
        lang = language(request)
        fields, errors = workspace_form(lang, data, new=True)

        async def add() -> Response[Any]:
            workspace_id = await workspaces.add_workspace(venue_of(principal), fields)
            return done_redirect("/venue", "workspace_added", f"workspace-{workspace_id}")

        async def again(errors: dict[str, str], status_code: int) -> Response[Any]:
            return await self._workspaces_page(
                request, principal, form={**data, **fields}, errors=errors, status_code=status_code
            )

        return await submit(errors, add, again, on_field(lang, "name"))

    @get("/workspaces/{workspace_id:uuid}", opt=VENUE_ADMIN)
    async def edit_workspace(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        workspace_id: uuid.UUID,
    ) -> Response[Any]:
        try:
            workspace = await workspaces.workspace_of(venue_of(principal), workspace_id)
        except NotFound:
            return not_found(request)
        form = {**asdict(workspace), "capacity": str(workspace.capacity)}
        return self._edit_page(request, workspace, form, {})

    def _edit_page(
        self,
        request: Request[Any, Any, Any],
        workspace: CatalogueWorkspace,
        form: dict[str, Any],
        errors: dict[str, str],
        *,
        status_code: int = 200,
    ) -> Response[Any]:
        return page(
            request,
            "venue/workspace.html",
            title=N_("Edit a workspace"),
            status_code=status_code,
            workspace=workspace,
            form=form,
            errors=errors,
            units=workspaces.UNITS_BY_KIND[workspace.kind],
            equipment=sorted({*EQUIPMENT, *workspace.equipment}),
        )

    @post("/workspaces/{workspace_id:uuid}", opt=VENUE_ADMIN)
    async def save_workspace(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        workspace_id: uuid.UUID,
        data: Form,
    ) -> Response[Any]:
        lang = language(request)
        try:
            workspace = await workspaces.workspace_of(venue_of(principal), workspace_id)
        except NotFound:
            return not_found(request)
        fields, errors = workspace_form(lang, data, new=False, current=list(workspace.equipment))

        async def save() -> Response[Any]:
            await workspaces.update_workspace(venue_of(principal), workspace_id, fields)
            return done_redirect("/venue", "workspace_saved", f"workspace-{workspace_id}")

        async def again(errors: dict[str, str], status_code: int) -> Response[Any]:
            form = {**data, "equipment": workspace.equipment, **fields}
            return self._edit_page(request, workspace, form, errors, status_code=status_code)

        return await submit(errors, save, again, on_field(lang, "name"))

    @post("/workspaces/{workspace_id:uuid}/deactivate", opt=VENUE_ADMIN)
    async def deactivate_workspace(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        workspace_id: uuid.UUID,
    ) -> Response[Any]:
        return await self._set_active(request, principal, workspace_id, active=False)

    @post("/workspaces/{workspace_id:uuid}/reactivate", opt=VENUE_ADMIN)
    async def reactivate_workspace(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        workspace_id: uuid.UUID,
    ) -> Response[Any]:
        return await self._set_active(request, principal, workspace_id, active=True)

    async def _set_active(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        workspace_id: uuid.UUID,
        *,
        active: bool,
    ) -> Response[Any]:
        """Deactivating keeps the workspace's history; booked seats stay booked."""
        try:
            await workspaces.update_workspace(venue_of(principal), workspace_id, {"active": active})
        except NotFound:
            return not_found(request)
        what = "workspace_reactivated" if active else "workspace_deactivated"
        return done_redirect("/venue", what, f"workspace-{workspace_id}")
