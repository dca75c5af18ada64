"""The organisation console's self-enrolment: agents of our SIRETs join at their first
sign-in with the identity provider; who joined that way, to deactivate if need be."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post

from booking.services import federation, organisations
from service.kernel.auth import CurrentPrincipal
from service.kernel.errors import InvalidValue
from service.kernel.i18n import N_
from web.console_flow import done_redirect
from web.consoles import Form, checked
from web.controllers.organisation.console import ORG_ADMIN, done, organisation_of
from web.i18n import translate
from web.pages import language, page


def _lines(text: str) -> list[str]:
    return [part for part in text.replace(",", "\n").splitlines() if part.strip()]


class OrganisationEnrolmentController(Controller):
    path = "/organisation"
    include_in_schema = False

    @get("/enrolment", opt=ORG_ADMIN)
    async def enrolment(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        rule = await federation.enrolment_rule(organisation_of(principal))
        form = {
            "self_enrolment": rule.self_enrolment,
            "sirets": "\n".join(rule.sirets),
            "domains": "\n".join(rule.domains),
        }
        return await self._page(request, principal, form, {}, 200)

    async def _page(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        form: dict[str, Any],
        errors: dict[str, str],
        status: int,
    ) -> Response[Any]:
        organisation_id = organisation_of(principal)
        settings = request.app.state.settings
        return page(
            request,
            "organisation/enrolment.html",
            title=N_("Self-enrolment"),
            status_code=status,
            organisation=await organisations.get(organisation_id),
            joined=await federation.self_enrolled(organisation_id),
            form=form,
            errors=errors,
            done=done(request),
            provider_name=settings.oidc_provider_name,
            provider_enabled=settings.oidc_enabled,
        )

    @post("/enrolment", opt=ORG_ADMIN)
    async def save(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: Form
    ) -> Response[Any]:
        form = {
            "self_enrolment": checked(data, "self_enrolment"),
            "sirets": data.get("sirets", ""),
            "domains": data.get("domains", ""),
        }
        try:
            await federation.set_enrolment_rule(
                organisation_of(principal),
                bool(form["self_enrolment"]),
                _lines(str(form["sirets"])),
                _lines(str(form["domains"])),
            )
        except InvalidValue as error:
            message = translate(language(request), error.message, **error.params)
            return await self._page(
                request, principal, form, {error.field or "sirets": message}, 422
            )
        return done_redirect("/organisation/enrolment", "policy_saved")
