"""The pages' session: the API's own access token, kept in an HttpOnly cookie.

Why the JWT rather than server-side sessions: API processes stay stateless (any process
checks the cookie with the secret key alone), the account is still looked up on every
request (so deactivation applies at once, as for bearer tokens), and there is a single
way to sign in. Signing out records the token's `jti` in Redis until the token would
have expired, so a copied cookie is dead after sign-out too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractMiddleware
from litestar.types import Receive, Scope, Send
from redis.asyncio import Redis

from booking.services.accounts import user_principal
from service.kernel.auth import token_claims
from service.kernel.identity import Principal
from service.kernel.settings import Settings

SESSION_COOKIE = "tl_session"
_SIGNED_OUT = "signed-out:"


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


async def sign_out(settings: Settings, redis: Redis, token: str | None) -> None:
    """Refuse this token from now until it expires (a no-op for a token already invalid)."""
    if not token:
        return
    try:
        claims = token_claims(settings, token)
    except NotAuthorizedException:
        return
    remaining = int(claims["exp"] - datetime.now(UTC).timestamp())
    if claims.get("jti") and remaining > 0:
        await redis.set(_SIGNED_OUT + str(claims["jti"]), 1, ex=remaining)


async def cookie_principal(settings: Settings, redis: Redis, token: str | None) -> Principal | None:
    """The person the session cookie names, or None (no cookie, bad, expired, signed out)."""
    if not token:
        return None
    try:
        claims = token_claims(settings, token)
        if claims.get("jti") and await redis.exists(_SIGNED_OUT + str(claims["jti"])):
            return None
        return await user_principal(claims)
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
                state.settings, state.redis, connection.cookies.get(SESSION_COOKIE)
            )
            if principal is not None:
                scope["user"] = principal
        await self.app(scope, receive, send)
