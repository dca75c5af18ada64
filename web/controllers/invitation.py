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
from web.i18n import register, translate
from web.pages import language, page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]

register(
    {
        "invitation.title": ("Choisir mon mot de passe", "Choose my password"),
        "invitation.intro": (
            "Votre organisation vous a invité sur le Pass Tiers-Lieux. Choisissez un mot de "
            "passe d'au moins {n} caractères pour activer votre compte.",
            "Your organisation has invited you to Pass Tiers-Lieux. Choose a password of at "
            "least {n} characters to activate your account.",
        ),
        "invitation.password": ("Nouveau mot de passe", "New password"),
        "invitation.confirm": ("Confirmer le mot de passe", "Confirm the password"),
        "invitation.submit": ("Activer mon compte", "Activate my account"),
        "invitation.error.short": (
            "Le mot de passe doit comporter au moins {n} caractères.",
            "The password must have at least {n} characters.",
        ),
        "invitation.error.mismatch": (
            "Les deux mots de passe sont différents.",
            "The two passwords differ.",
        ),
        "invitation.unknown": (
            "Cette invitation est inconnue ou a déjà servi. Demandez-en une nouvelle à "
            "l'administrateur de votre organisation, ou connectez-vous si votre compte est actif.",
            "This invitation is unknown or already used. Ask your organisation's administrator "
            "for a new one, or sign in if your account is active.",
        ),
        "invitation.done": (
            "Votre compte est activé : connectez-vous avec votre adresse e-mail.",
            "Your account is active: sign in with your email address.",
        ),
    }
)


class InvitationController(Controller):
    path = "/invitation"
    include_in_schema = False

    @get("/{token:str}", opt=PUBLIC)
    async def form(self, request: Request[Any, Any, Any], token: str) -> Response[Any]:
        return page(
            request,
            "invitation.html",
            title_key="invitation.title",
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
            errors["password"] = translate(lang, "invitation.error.short", n=MIN_PASSWORD_LENGTH)
        elif password != (data.get("confirm") or ""):
            errors["confirm"] = translate(lang, "invitation.error.mismatch")
        unknown = False
        if not errors:
            try:
                await organisations.accept_invitation(token, password)
            except InvitationNotFound:
                unknown = True
            except InvalidValue as error:
                errors["password"] = error.detail
            else:
                return Redirect("/?invited=1", status_code=303)
        return page(
            request,
            "invitation.html",
            title_key="invitation.title",
            status_code=404 if unknown else 422,
            token=token,
            errors=errors,
            unknown=unknown,
            min_length=MIN_PASSWORD_LENGTH,
        )
