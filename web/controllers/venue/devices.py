"""The venue console's door devices: scanner tokens made, listed and revoked."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post

from passes import door_devices
from service.kernel.auth import CurrentPrincipal
from service.kernel.errors import NotFound
from service.kernel.i18n import N_
from service.kernel.identity import Principal
from web.console_flow import done_redirect, on_field, submit
from web.consoles import Form, not_found
from web.controllers.venue.console import VENUE_ADMIN, done, venue_of
from web.i18n import translate
from web.pages import language, page


class VenueDevicesController(Controller):
    path = "/venue"
    include_in_schema = False

    @get("/devices", opt=VENUE_ADMIN)
    async def devices(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        return await self._devices_page(request, principal)

    async def _devices_page(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        *,
        token: str | None = None,
        created: str | None = None,
        form: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        rows = await door_devices.of_venue(venue_of(principal))
        return page(
            request,
            "venue/devices.html",
            title=N_("Door devices"),
            status_code=status_code,
            devices=sorted(rows, key=lambda d: (d.revoked_at is not None, d.name.lower())),
            token=token,
            created=created,
            form=form or {"name": ""},
            errors=errors or {},
            done=done(request),
            scan_url=f"{request.app.state.settings.base_url}/scan/device",
        )

    @post("/devices", opt=VENUE_ADMIN)
    async def create_device(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: Form
    ) -> Response[Any]:
        """A scanner token, shown on this response only: only its hash is kept."""
        lang = language(request)
        name = (data.get("name") or "").strip()
        errors: dict[str, str] = {}
        if not name or len(name) > 100:
            errors["name"] = translate(
                lang, N_("Name the device (at most 100 characters), e.g. “Front desk”.")
            )

        async def create() -> Response[Any]:
            assert principal.user_id is not None
            device, token = await door_devices.create(venue_of(principal), name, principal.user_id)
            return await self._devices_page(
                request, principal, token=token, created=device.name, status_code=201
            )

        async def again(errors: dict[str, str], status_code: int) -> Response[Any]:
            return await self._devices_page(
                request, principal, form={"name": name}, errors=errors, status_code=status_code
            )

        return await submit(errors, create, again, on_field(lang, "name"), catch=())

    @post("/devices/{device_id:uuid}/revoke", opt=VENUE_ADMIN)
    async def revoke_device(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, device_id: uuid.UUID
    ) -> Response[Any]:
        try:
            await door_devices.revoke(venue_of(principal), device_id)
        except NotFound:
            return not_found(request)
        return done_redirect("/venue/devices", "device_revoked", f"device-{device_id}")
