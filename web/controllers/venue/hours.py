"""The venue console's opening hours and closures."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post

from booking.services import opening_hours
from service.kernel.auth import CurrentPrincipal
from service.kernel.errors import DomainError, NotFound
from service.kernel.i18n import N_
from service.kernel.identity import Principal
from web.console_flow import Refused, done_redirect, submit
from web.consoles import Form, not_found, today
from web.controllers.venue import forms
from web.controllers.venue.console import VENUE_ADMIN, done, venue_of
from web.pages import language, page


class VenueHoursController(Controller):
    path = "/venue"
    include_in_schema = False

    @get("/hours", opt=VENUE_ADMIN)
    async def hours(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        return await self._hours_page(request, principal)

    async def _hours_page(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        *,
        week: list[dict[str, Any]] | None = None,
        hours_errors: dict[str, str] | None = None,
        closure_form: dict[str, str] | None = None,
        closure_errors: dict[str, str] | None = None,
        cancelled: int | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        venue_id = venue_of(principal)
        on = today()
        closures = await opening_hours.closures_of(venue_id)
        return page(
            request,
            "venue/hours.html",
            title=N_("Opening hours and closures"),
            status_code=status_code,
            week=week or forms.week(await opening_hours.hours_of(venue_id)),
            hours_errors=hours_errors or {},
            closures=[c for c in closures if c.ends_on >= on],
            past_closures=[c for c in closures if c.ends_on < on][-5:],
            closure_form=closure_form or {"starts_on": "", "ends_on": "", "reason": ""},
            closure_errors=closure_errors or {},
            cancelled=cancelled,
            done=done(request),
        )

    @post("/hours", opt=VENUE_ADMIN)
    async def save_hours(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: Form
    ) -> Response[Any]:
        """Replace the whole week, as the API's PUT does; the same rules refuse overlaps."""
        lang = language(request)
        ranges, names, errors = forms.hours_form(lang, data)

        async def save() -> Response[Any]:
            await opening_hours.replace_hours(venue_of(principal), ranges)
            return done_redirect("/venue/hours", "hours_saved")

        async def again(errors: dict[str, str], status_code: int) -> Response[Any]:
            week = forms.week_from_form(data)
            return await self._hours_page(
                request, principal, week=week, hours_errors=errors, status_code=status_code
            )

        def refused(error: DomainError) -> Refused:
            return 422, forms.hours_refusal(lang, names, error)

        return await submit(errors, save, again, refused)

    @post("/closures", opt=VENUE_ADMIN)
    async def add_closure(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: Form
    ) -> Response[Any]:
        """A closure cancels the confirmed bookings it covers (the agents are told by email)."""
        lang = language(request)
        form, days, errors = forms.closure_form(lang, data, today())

        async def add() -> Response[Any]:
            _, cancelled = await opening_hours.add_closure(
                venue_of(principal),
                days["starts_on"],
                days["ends_on"],
                form["reason"],
                base_url=str(request.app.state.settings.base_url),
            )
            return await self._hours_page(request, principal, cancelled=cancelled, status_code=201)

        async def again(errors: dict[str, str], status_code: int) -> Response[Any]:
            return await self._hours_page(
                request,
                principal,
                closure_form=form,
                closure_errors=errors,
                status_code=status_code,
            )

        def refused(error: DomainError) -> Refused:
            return 422, forms.closure_refusal(lang, error)

        return await submit(errors, add, again, refused)

    @post("/closures/{closure_id:uuid}/delete", opt=VENUE_ADMIN)
    async def remove_closure(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, closure_id: uuid.UUID
    ) -> Response[Any]:
        try:
            await opening_hours.remove_closure(venue_of(principal), closure_id)
        except NotFound:
            return not_found(request)
        return done_redirect("/venue/hours", "closure_removed", "closures-title")
