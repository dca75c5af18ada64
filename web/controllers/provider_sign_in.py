"""Sign-in with the configured OpenID Connect provider (ProConnect): the trip there and back.

The pending sign-in (state, nonce, PKCE verifier) is kept in Redis under its `state` for ten
minutes and taken once; the browser that started it holds the same `state` in a cookie, so a
callback from another browser, a replayed one or a forged one finds nothing and stops.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.datastructures import Cookie
from litestar.exceptions import NotFoundException
from litestar.response import Redirect

from booking.controllers.accounts import user_agent
from booking.services import accounts
from booking.services.federation import (
    AccountInactive,
    AccountNotLinkable,
    Identity,
    NoOrganisationForSiret,
    person_for,
)
from service.kernel.auth import PUBLIC
from service.kernel.errors import DomainError
from service.kernel.i18n import N_
from service.kernel.identity import Role
from service.kernel.oidc import PendingSignIn, ProviderUnavailable, SignInRefused, mapped, provider
from service.kernel.settings import Settings
from web.controllers.home import language_cookies
from web.i18n import translate
from web.pages import landing_of, language, page
from web.session import session_cookie

STATE_COOKIE = "tl_oidc_state"
PENDING_SECONDS = 600
CALLBACK_PATH = "/signin/oidc/callback"


def redirect_uri(settings: Settings) -> str:
    return f"{settings.base_url}{CALLBACK_PATH}"


def _state_cookie(settings: Settings, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=STATE_COOKIE,
        value=value,
        max_age=max_age,
        path="/signin/oidc",
        httponly=True,
        samesite="lax",
        secure=settings.base_url.startswith("https://"),
    )


class ProviderSignInController(Controller):
    path = "/signin/oidc"
    include_in_schema = False

    @get("/", opt=PUBLIC)
    async def start(self, request: Request[Any, Any, Any]) -> Response[Any]:
        settings: Settings = request.app.state.settings
        if not settings.oidc_enabled:
            raise NotFoundException()
        pending = PendingSignIn.new()
        try:
            url = await provider(settings).authorization_url(pending, redirect_uri(settings))
        except ProviderUnavailable as error:
            return self._refused(request, error, 503)
        await request.app.state.redis.set(
            f"oidc:pending:{pending.state}",
            json.dumps({"nonce": pending.nonce, "code_verifier": pending.code_verifier}),
            ex=PENDING_SECONDS,
        )
        return Redirect(
            url,
            status_code=303,
            cookies=[_state_cookie(settings, pending.state, PENDING_SECONDS)],
        )

    @get("/callback", opt=PUBLIC)
    async def callback(self, request: Request[Any, Any, Any]) -> Response[Any]:
        settings: Settings = request.app.state.settings
        if not settings.oidc_enabled:
            raise NotFoundException()
        state = request.query_params.get("state") or ""
        code = request.query_params.get("code") or ""
        expected = request.cookies.get(STATE_COOKIE) or ""
        # Taken whatever happens next: a state serves once.
        stored = await request.app.state.redis.getdel(f"oidc:pending:{state}") if state else None
        if not state or state != expected or stored is None:
            return self._refused(
                request,
                SignInRefused(
                    N_(
                        "This sign-in was not started here, or it is already used or too old. Start again."
                    )
                ),
                400,
            )
        if request.query_params.get("error") or not code:
            return self._refused(
                request, SignInRefused(N_("The provider did not sign you in.")), 401
            )
        saved = json.loads(stored)
        pending = PendingSignIn(state, saved["nonce"], saved["code_verifier"])
        oidc = provider(settings)
        try:
            claims = await oidc.exchange(code, pending, redirect_uri(settings))
            identity = Identity.of(
                settings.oidc_issuer,
                claims["sub"],
                mapped(settings, claims),
                settings.oidc_trust_email,
            )
            user = await person_for(identity)
        except ProviderUnavailable as error:
            return self._refused(request, error, 503)
        except NoOrganisationForSiret as error:
            return page(
                request,
                "oidc_no_organisation.html",
                title=N_("Your employer is not in the network yet"),
                status_code=403,
                siret=error.params.get("siret"),
                provider_name=settings.oidc_provider_name,
                contact=settings.network_email,
            )
        except (SignInRefused, AccountNotLinkable, AccountInactive) as error:
            return self._refused(request, error, 401 if isinstance(error, SignInRefused) else 403)
        token, expires_in = await accounts.open_session(
            settings,
            user,
            user_agent=user_agent(request),
            method="oidc",
            id_token=str(claims.get("_id_token") or ""),
        )
        return Redirect(
            landing_of(Role(user.role)),
            status_code=303,
            cookies=[
                session_cookie(token, expires_in, settings),
                _state_cookie(settings, "", 0),
                *language_cookies(user.language),
            ],
        )

    @staticmethod
    def _refused(request: Request[Any, Any, Any], error: DomainError, status: int) -> Response[Any]:
        settings: Settings = request.app.state.settings
        response = page(
            request,
            "oidc_refused.html",
            title=N_("Sign-in refused"),
            status_code=status,
            detail=translate(language(request), error.message, **error.params),
            provider_name=settings.oidc_provider_name,
            cookies=[_state_cookie(settings, "", 0)],
        )
        return response
