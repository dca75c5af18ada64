"""The organisation console's policy: allowances, booking rules, billing details."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from litestar import Controller, Request, Response, get, post

from booking.services import organisations
from booking.services.organisations import OrganisationRecord
from service.kernel.auth import CurrentPrincipal
from service.kernel.errors import Forbidden, InvalidValue
from service.kernel.i18n import N_
from web.console_flow import done_redirect, on_field, submit
from web.consoles import Form, checked
from web.controllers.organisation.console import ORG_ADMIN, done, organisation_of
from web.controllers.organisation.forms import FLAGS, NUMBERS, TEXTS, policy_form
from web.pages import language, page


class OrganisationPolicyController(Controller):
    path = "/organisation"
    include_in_schema = False

    @get("/policy", opt=ORG_ADMIN)
    async def policy(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        organisation = await organisations.get(organisation_of(principal))
        current = asdict(organisation)
        form = {k: "" if current[k] is None else str(current[k]) for k in (*NUMBERS, *TEXTS)}
        form.update({k: current[k] for k in FLAGS})
        return self._policy_page(request, organisation, form, {})

    def _policy_page(
        self,
        request: Request[Any, Any, Any],
        organisation: OrganisationRecord,
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
            done=done(request),
        )

    @post("/policy", opt=ORG_ADMIN)
    async def save_policy(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: Form
    ) -> Response[Any]:
        """The fields the API lets an organisation admin change, with the API's bounds."""
        lang = language(request)
        organisation_id = organisation_of(principal)
        fields, errors = policy_form(lang, data)

        async def save() -> Response[Any]:
            await organisations.update(principal, organisation_id, fields)
            return done_redirect("/organisation/policy", "policy_saved")

        async def again(errors: dict[str, str], status_code: int) -> Response[Any]:
            form: dict[str, Any] = {k: data.get(k, "") for k in (*NUMBERS, *TEXTS)}
            form.update({k: checked(data, k) for k in FLAGS})
            organisation = await organisations.get(organisation_id)
            return self._policy_page(request, organisation, form, errors, status_code=status_code)

        refused = on_field(lang, "billing_address")
        return await submit(errors, save, again, refused, catch=(InvalidValue, Forbidden))
