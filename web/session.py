"""The pages' session: the API's own access token, kept in an HttpOnly cookie.

Why the JWT rather than a second kind of session: there is a single way to sign in, and
the token is checked against PostgreSQL on every request anyway (the person, their session
generation, and whether this session was signed out: `booking.services.accounts`). Signing
out ends the token's session there, so the same token is dead on every API process too,
as a Bearer header as well as a copied cookie.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractMiddleware
from litestar.types import Receive, Scope, Send

from booking.services import accounts
from booking.services.accounts import end_session, user_principal
from service.kernel.auth import token_claims
from service.kernel.identity import Principal
from service.kernel.settings import Settings

SESSION_COOKIE = "tl_session"


def session_cookie(token: str, max_age: int, settings: Settings) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.base_url.startswith("https://"),
    )


def expired_session_cookie(settings: Settings) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value="",
        max_age=0,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.base_url.startswith("https://"),
    )


async def sign_out(settings: Settings, token: str | None) -> None:
    """End this token's session everywhere (a no-op for a token already invalid)."""
    if not token:
        return
    try:
        claims = token_claims(settings, token)
    except NotAuthorizedException:
        return
    await end_session(claims)


async def provider_id_token(settings: Settings, token: str | None) -> str | None:
    """The identity provider's id token of this session, if it began there."""
    if not token:
        return None
    try:
        claims = token_claims(settings, token)
    except NotAuthorizedException:
        return None
    return await accounts.provider_id_token(claims)


async def cookie_principal(settings: Settings, token: str | None) -> Principal | None:
    """The person the session cookie names, or None (no cookie, bad, expired, ended)."""
    if not token:
        return None
    try:
        return await user_principal(token_claims(settings, token))
    except NotAuthorizedException:
        return None


class SessionMiddleware(AbstractMiddleware):
    """On page routes only: a request without a bearer token is identified by its cookie.

    The API never reads the cookie, so a forged cross-site request cannot spend it there.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("user") is None:
            connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
            state = connection.app.state
            principal = await cookie_principal(
                state.settings, connection.cookies.get(SESSION_COOKIE)
            )
            if principal is not None:
                scope["user"] = principal
        await self.app(scope, receive, send)
