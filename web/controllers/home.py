"""The home page with the sign-in form, sign-out, the account page, and the installable-app files."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from booking.services import accounts
from booking.services.accounts import sign_in
from passes import personal_data
from service.kernel.addresses import client_address
from service.kernel.auth import PUBLIC, SIGNED_IN, CurrentPrincipal, token_claims
from service.kernel.errors import InvalidCredentials, TooManyAttempts
from service.kernel.i18n import N_, NC_, NP_
from service.kernel.identity import Role
from service.kernel.oidc import provider
from web.i18n import LANGUAGE_COOKIE, LANGUAGES, translate
from web.pages import STATIC, current, landing, landing_of, language, page
from web.session import (
    SESSION_COOKIE,
    expired_session_cookie,
    provider_id_token,
    session_cookie,
    sign_out,
)

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def data_export(content: bytes, user_id: uuid.UUID) -> Response[bytes]:
    """A person's data as a zip to download, never cached."""
    return Response(
        content,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="donnees-{user_id}.zip"',
            "Cache-Control": "no-store",
        },
    )


def language_cookies(chosen: str | None) -> list[Cookie]:
    """The language the person chose on /account, for this browser too (none: the browser's)."""
    if chosen not in LANGUAGES:
        return []
    return [Cookie(key=LANGUAGE_COOKIE, value=chosen, max_age=365 * 24 * 3600, samesite="lax")]


def provider_button(request: Request[Any, Any, Any]) -> str | None:
    """The provider's name for the sign-in button, when one is configured."""
    settings = request.app.state.settings
    return str(settings.oidc_provider_name) if settings.oidc_enabled else None


class HomeController(Controller):
    path = "/"
    include_in_schema = False

    @get("/", opt=PUBLIC)
    async def home(self, request: Request[Any, Any, Any]) -> Response[Any]:
        me = current(request)
        if me is not None and not me.is_device:
            return Redirect(landing(me), status_code=303)
        return page(
            request,
            "home.html",
            title=NC_("page title", "Sign in"),
            email="",
            errors={},
            signed_out=request.query_params.get("signed_out") == "1",
            invited=request.query_params.get("invited") == "1",
            password_reset=request.query_params.get("password_reset") == "1",
            oidc_name=provider_button(request),
            email_changed=request.query_params.get("email_changed") == "1",
        )

    @post("/signin", opt=PUBLIC)
    async def sign_in(self, request: Request[Any, Any, Any], data: Form) -> Response[Any]:
        settings = request.app.state.settings
        lang = language(request)
        email = (data.get("email") or "").strip()
        password = data.get("password") or ""
        errors: dict[str, str] = {}
        if not email:
            errors["email"] = translate(lang, N_("This field is required."))
        if not password:
            errors["password"] = translate(lang, N_("This field is required."))
        status = 422
        if not errors:
            client = client_address(request)
            try:
                token, expires_in = await sign_in(
                    settings,
                    request.app.state.redis,
                    email,
                    password,
                    client,
                    user_agent=request.headers.get("user-agent", ""),
                )
            except InvalidCredentials:
                errors["email"] = translate(lang, N_("The email address or the password is wrong."))
                status = 401
            except TooManyAttempts as error:
                minutes = max(1, error.retry_after // 60)
                errors["email"] = translate(
                    lang,
                    NP_(
                        "Too many attempts: try again in %(num)s minute.",
                        "Too many attempts: try again in %(num)s minutes.",
                    ),
                    num=minutes,
                )
                status = 429
            else:
                claims = token_claims(settings, token)
                person = await accounts.user_of(uuid.UUID(claims["sub"]))
                return Redirect(
                    landing_of(Role(claims["role"])),
                    status_code=303,
                    cookies=[
                        session_cookie(token, expires_in, settings),
                        *language_cookies(person.language if person else None),
                    ],
                )
        return page(
            request,
            "home.html",
            title=NC_("page title", "Sign in"),
            status_code=status,
            email=email,
            errors=errors,
            signed_out=False,
            invited=False,
            password_reset=False,
            email_changed=False,
            oidc_name=provider_button(request),
        )

    @post("/signout", opt=SIGNED_IN)
    async def sign_out(self, request: Request[Any, Any, Any]) -> Response[Any]:
        settings = request.app.state.settings
        token = request.cookies.get(SESSION_COOKIE)
        id_token = await provider_id_token(settings, token)
        await sign_out(settings, token)
        target = "/?signed_out=1"
        if id_token and settings.oidc_enabled:
            # Signed in through the provider: sign out there too, then come back here.
            at_provider = await provider(settings).end_session_url(
                id_token, f"{settings.base_url}/?signed_out=1"
            )
            if at_provider:
                # A page, not a redirect: the pages' CSP (form-action 'self') stops a form's
                # redirect to another origin, a link or a refresh of a page is fine.
                return page(
                    request,
                    "signed_out_provider.html",
                    title=N_("You are signed out"),
                    at_provider=at_provider,
                    provider_name=settings.oidc_provider_name,
                    cookies=[expired_session_cookie(settings)],
                )
        return Redirect(target, status_code=303, cookies=[expired_session_cookie(settings)])

    @get("/account/export", opt=SIGNED_IN)
    async def export(self, principal: CurrentPrincipal) -> Response[bytes]:
        """Everything held about me (RGPD art. 15): the same zip as GET /api/v1/me/export."""
        assert principal.user_id is not None
        content = await personal_data.export(principal, principal.user_id, None)
        return data_export(content, principal.user_id)

    @get("/sw.js", opt=PUBLIC)
    async def service_worker(self) -> Response[bytes]:
        # Served from the root so that its scope covers /agent/pass; never cached by HTTP,
        # so that a new version is picked up at the next visit.
        return Response(
            (STATIC / "sw.js").read_bytes(),
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
        )

    @get("/manifest.webmanifest", opt=PUBLIC)
    async def manifest(self) -> Response[bytes]:
        return Response(
            (STATIC / "manifest.webmanifest").read_bytes(),
            media_type="application/manifest+json",
        )
