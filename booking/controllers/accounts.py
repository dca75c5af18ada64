"""Sign-in and the current user."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotAuthorizedException
from litestar.params import JSONBody

from booking.errors import InvalidCredentials, NotFound
from booking.schemas.accounts import Me, TokenRequest, TokenResponse
from booking.services import accounts
from booking.tables import User
from service.auth import PUBLIC, SIGNED_IN, CurrentPrincipal, LoginThrottle, issue_access_token


class AuthController(Controller):
    path = "/auth"
    tags = ["accounts"]

    @post("/token", opt=PUBLIC, status_code=200, summary="Exchange email and password for a JWT")
    async def token(
        self, request: Request[Any, Any, Any], data: JSONBody[TokenRequest]
    ) -> TokenResponse:
        settings = request.app.state.settings
        throttle = LoginThrottle(request.app.state.redis, settings.login_attempts_per_15_minutes)
        client = request.client.host if request.client else "unknown"
        await throttle.check(data.email, client)
        try:
            user = await accounts.authenticate(
                data.email, data.password, allow_demo_accounts=settings.is_demo
            )
        except InvalidCredentials:
            await throttle.failed(data.email, client)
            raise
        await throttle.succeeded(data.email)
        token, expires_in = issue_access_token(settings, user.id, user.role)
        return TokenResponse(access_token=token, token_type="bearer", expires_in=expires_in)


class MeController(Controller):
    path = "/me"
    tags = ["accounts"]

    @get("", opt=SIGNED_IN, summary="The signed-in user, their role and membership")
    async def me(self, principal: CurrentPrincipal) -> Me:
        if principal.user_id is None:
            raise NotAuthorizedException("Door devices have no user.")
        user = await User.objects().where(User.id == principal.user_id).first()
        if user is None:
            raise NotFound()
        return Me(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            role=user.role,
            venue_id=user.venue,
            organisation_id=user.organisation,
        )
