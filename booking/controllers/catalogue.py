"""The catalogue over HTTP: venues, hours, closures, workspaces, rates."""

from __future__ import annotations

import uuid
from datetime import time
from typing import Any

import msgspec
from litestar import Controller, Request, delete, get, patch, post, put
from litestar.params import JSONBody

from booking.schemas.catalogue import (
    ClosureOut,
    Created,
    HoursRange,
    NewClosure,
    NewRate,
    NewVenue,
    NewWorkspace,
    RateOut,
    StatusChange,
    VenueOut,
    VenuePatch,
    VenueStatus,
    WorkspaceOut,
    WorkspacePatch,
)
from booking.services import opening_hours, rates, venues, workspaces
from service.kernel.auth import PUBLIC, allow
from service.kernel.errors import NotFound
from service.kernel.i18n import N_
from service.kernel.idempotency import IdempotencyMiddleware
from service.kernel.identity import Principal, Role
from service.kernel.pagination import Limit, Offset, Page

VENUE_WRITERS = allow(Role.VENUE_ADMIN, Role.NETWORK_ADMIN, venue_scope="venue_id")
VENUE_PEOPLE = allow(Role.VENUE_ADMIN, Role.VENUE_STAFF, Role.NETWORK_ADMIN, venue_scope="venue_id")
NETWORK = allow(Role.NETWORK_ADMIN)


def _caller(request: Request[Any, Any, Any]) -> Principal | None:
    """Public routes answer everybody; a signed-in caller may see more."""
    user = request.scope.get("user")
    return user if isinstance(user, Principal) else None


def _private(principal: Principal | None, venue_id: uuid.UUID) -> bool:
    return (
        principal is not None and not principal.is_device and principal.may_act_for_venue(venue_id)
    )


class VenueController(Controller):
    path = "/venues"
    tags = ["catalogue"]

    @post("", opt=PUBLIC, middleware=[IdempotencyMiddleware], summary="Apply as a venue (anyone)")
    async def apply(self, data: JSONBody[NewVenue]) -> VenueOut:
        venue_id = await venues.apply(_plain(data))
        venue = await venues.visible_venue(Principal(role=Role.NETWORK_ADMIN), venue_id)
        return VenueOut.of(venue, private=True)

    @get("", opt=PUBLIC, summary="Venues (approved ones; the network admin sees all)")
    async def list_venues(
        self,
        request: Request[Any, Any, Any],
        status: VenueStatus | None = None,
        commune: str | None = None,
        service: str | None = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[VenueOut]:
        principal = _caller(request)
        rows, total = await venues.list_venues(
            principal, status=status, commune=commune, service=service, limit=limit, offset=offset
        )
        return Page(
            [VenueOut.of(r, private=_private(principal, r.id)) for r in rows],
            total,
            limit,
            offset,
        )

    @get("/{venue_id:uuid}", opt=PUBLIC, summary="One venue")
    async def read(self, request: Request[Any, Any, Any], venue_id: uuid.UUID) -> VenueOut:
        principal = _caller(request)
        venue = await venues.visible_venue(principal, venue_id)
        return VenueOut.of(venue, private=_private(principal, venue_id))

    @patch("/{venue_id:uuid}", opt=VENUE_WRITERS, summary="Edit a venue (not its status)")
    async def edit(self, venue_id: uuid.UUID, data: JSONBody[VenuePatch]) -> VenueOut:
        await venues.update(venue_id, data.fields())
        return VenueOut.of(
            await venues.visible_venue(Principal(role=Role.NETWORK_ADMIN), venue_id),
            private=True,
        )

    @post(
        "/{venue_id:uuid}/status", opt=NETWORK, status_code=200, summary="Approve, suspend, close"
    )
    async def set_status(self, venue_id: uuid.UUID, data: JSONBody[StatusChange]) -> VenueOut:
        await venues.change_status(venue_id, data.status)
        return VenueOut.of(
            await venues.visible_venue(Principal(role=Role.NETWORK_ADMIN), venue_id),
            private=True,
        )


class OpeningHoursController(Controller):
    path = "/venues/{venue_id:uuid}/opening-hours"
    tags = ["catalogue"]

    @get("", opt=PUBLIC, summary="Opening ranges per weekday (0 = Monday)")
    async def read(self, request: Request[Any, Any, Any], venue_id: uuid.UUID) -> list[HoursRange]:
        await venues.visible_venue(_caller(request), venue_id)
        return [HoursRange.of(r) for r in await opening_hours.hours_of(venue_id)]

    @put("", opt=VENUE_WRITERS, summary="Replace the whole week")
    async def replace(
        self, venue_id: uuid.UUID, data: JSONBody[list[HoursRange]]
    ) -> list[HoursRange]:
        await opening_hours.replace_hours(
            venue_id,
            [
                opening_hours.Range(
                    r.weekday, time.fromisoformat(r.opens), time.fromisoformat(r.closes)
                )
                for r in data
            ],
        )
        return [HoursRange.of(r) for r in await opening_hours.hours_of(venue_id)]


class ClosureController(Controller):
    path = "/venues/{venue_id:uuid}/closures"
    tags = ["catalogue"]

    @get("", opt=PUBLIC, summary="Closures (date ranges, inclusive)")
    async def list_closures(
        self, request: Request[Any, Any, Any], venue_id: uuid.UUID
    ) -> list[ClosureOut]:
        await venues.visible_venue(_caller(request), venue_id)
        return [
            ClosureOut(c.id, c.starts_on, c.ends_on, c.reason)
            for c in await opening_hours.closures_of(venue_id)
        ]

    @post("", opt=VENUE_WRITERS, middleware=[IdempotencyMiddleware], summary="Add a closure")
    async def add(
        self, request: Request[Any, Any, Any], venue_id: uuid.UUID, data: JSONBody[NewClosure]
    ) -> ClosureOut:
        closure_id, cancelled = await opening_hours.add_closure(
            venue_id,
            data.starts_on,
            data.ends_on,
            data.reason,
            base_url=str(request.app.state.settings.base_url),
        )
        return ClosureOut(closure_id, data.starts_on, data.ends_on, data.reason.strip(), cancelled)

    @delete("/{closure_id:uuid}", opt=VENUE_WRITERS, summary="Remove a closure")
    async def remove(self, venue_id: uuid.UUID, closure_id: uuid.UUID) -> None:
        await opening_hours.remove_closure(venue_id, closure_id)


class WorkspaceController(Controller):
    path = "/venues/{venue_id:uuid}/workspaces"
    tags = ["catalogue"]

    @get("", opt=PUBLIC, summary="Workspaces (inactive ones for the venue and the network only)")
    async def list_workspaces(
        self, request: Request[Any, Any, Any], venue_id: uuid.UUID
    ) -> list[WorkspaceOut]:
        principal = _caller(request)
        await venues.visible_venue(principal, venue_id)
        rows = await workspaces.workspaces_of(
            venue_id, include_inactive=_private(principal, venue_id)
        )
        return [WorkspaceOut.of(r) for r in rows]

    @post("", opt=VENUE_WRITERS, middleware=[IdempotencyMiddleware], summary="Add a workspace")
    async def add(self, venue_id: uuid.UUID, data: JSONBody[NewWorkspace]) -> WorkspaceOut:
        workspace_id = await workspaces.add_workspace(venue_id, _plain(data))
        return WorkspaceOut.of(await workspaces.workspace_of(venue_id, workspace_id))

    @get("/{workspace_id:uuid}", opt=PUBLIC, summary="One workspace")
    async def read(
        self, request: Request[Any, Any, Any], venue_id: uuid.UUID, workspace_id: uuid.UUID
    ) -> WorkspaceOut:
        principal = _caller(request)
        await venues.visible_venue(principal, venue_id)
        workspace = await workspaces.workspace_of(venue_id, workspace_id)
        if not workspace.active and not _private(principal, venue_id):
            raise NotFound(N_("No such workspace."))
        return WorkspaceOut.of(workspace)

    @patch("/{workspace_id:uuid}", opt=VENUE_WRITERS, summary="Edit or deactivate a workspace")
    async def edit(
        self, venue_id: uuid.UUID, workspace_id: uuid.UUID, data: JSONBody[WorkspacePatch]
    ) -> WorkspaceOut:
        await workspaces.update_workspace(venue_id, workspace_id, data.fields())
        return WorkspaceOut.of(await workspaces.workspace_of(venue_id, workspace_id))


class VenueRateController(Controller):
    path = "/venues/{venue_id:uuid}/rates"
    tags = ["rates"]

    @get("", opt=VENUE_PEOPLE, summary="What the network pays this venue, with history")
    async def list_rates(self, venue_id: uuid.UUID) -> list[RateOut]:
        return [RateOut.of(r) for r in await rates.venue_rates(venue_id)]

    @post("", opt=NETWORK, summary="A new venue rate from a date (never overwrites)")
    async def add(self, venue_id: uuid.UUID, data: JSONBody[NewRate]) -> Created:
        return Created(await rates.add_venue_rate(venue_id, _plain(data)))


class DefaultRateController(Controller):
    path = "/rates/organisations"
    tags = ["rates"]

    @get("", opt=allow(Role.NETWORK_ADMIN, Role.ORG_ADMIN), summary="The network's default card")
    async def list_rates(self) -> list[RateOut]:
        return [RateOut.of(r) for r in await rates.organisation_rates(None)]

    @post("", opt=NETWORK, summary="A new default rate from a date")
    async def add(self, data: JSONBody[NewRate]) -> Created:
        return Created(await rates.add_organisation_rate(None, _plain(data)))


class OrganisationRateController(Controller):
    path = "/organisations/{organisation_id:uuid}/rates"
    tags = ["rates"]

    @get(
        "",
        opt=allow(Role.NETWORK_ADMIN, Role.ORG_ADMIN, organisation_scope="organisation_id"),
        summary="The organisation's own rates (over the default card)",
    )
    async def list_rates(self, organisation_id: uuid.UUID) -> list[RateOut]:
        return [RateOut.of(r) for r in await rates.organisation_rates(organisation_id)]

    @post("", opt=NETWORK, summary="An organisation rate from a date")
    async def add(self, organisation_id: uuid.UUID, data: JSONBody[NewRate]) -> Created:
        return Created(await rates.add_organisation_rate(organisation_id, _plain(data)))


def _plain(data: Any) -> dict[str, Any]:
    return msgspec.structs.asdict(data)


CATALOGUE_CONTROLLERS: list[type] = [
    VenueController,
    OpeningHoursController,
    ClosureController,
    WorkspaceController,
    VenueRateController,
    DefaultRateController,
    OrganisationRateController,
]
