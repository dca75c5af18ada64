"""Accepting an invitation: the agent opens the link, chooses a password, and can then sign in."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from booking.services import organisations
from booking.services.accounts import MIN_PASSWORD_LENGTH
from booking.services.organisations import InvitationNotFound
from service.kernel.auth import PUBLIC
from service.kernel.errors import InvalidValue
from service.kernel.i18n import N_
from web.i18n import translate
from web.pages import language, page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


class InvitationController(Controller):
    path = "/invitation"
    include_in_schema = False

    @get("/{token:str}", opt=PUBLIC)
    async def form(self, request: Request[Any, Any, Any], token: str) -> Response[Any]:
        return page(
            request,
            "invitation.html",
            title=N_("Choose my password"),
            token=token,
            errors={},
            unknown=False,
            min_length=MIN_PASSWORD_LENGTH,
        )

    @post("/{token:str}", opt=PUBLIC)
    async def accept(
        self, request: Request[Any, Any, Any], token: str, data: Form
    ) -> Response[Any]:
        lang = language(request)
        password = data.get("password") or ""
        errors: dict[str, str] = {}
        if len(password) < MIN_PASSWORD_LENGTH:
            errors["password"] = translate(
                lang, N_("The password must have at least %(n)s characters."), n=MIN_PASSWORD_LENGTH
            )
        elif password != (data.get("confirm") or ""):
            errors["confirm"] = translate(lang, N_("The two passwords differ."))
        unknown = False
        if not errors:
            try:
                await organisations.accept_invitation(
                    token,
                    password,
                    valid_days=request.app.state.settings.invitation_validity_days,
                )
            except InvitationNotFound:
                unknown = True
            except InvalidValue as error:
                errors["password"] = error.detail
            else:
                return Redirect("/?invited=1", status_code=303)
        return page(
            request,
            "invitation.html",
            title=N_("Choose my password"),
            status_code=404 if unknown else 422,
            token=token,
            errors=errors,
            unknown=unknown,
            min_length=MIN_PASSWORD_LENGTH,
        )
