"""Sign-in, forgotten passwords, and the current user's own account (password, email, sessions)."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Controller, Request, Response, get, post, put
from litestar.background_tasks import BackgroundTask
from litestar.exceptions import NotAuthorizedException
from litestar.params import JSONBody

from booking.schemas.accounts import (
    Accepted,
    EmailChangeConfirm,
    EmailChangeRequest,
    LanguageChoice,
    Me,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    Session,
    TokenRequest,
    TokenResponse,
)
from booking.services import credentials
from booking.services.accounts import sign_in, user_of
from service.kernel.addresses import client_address
from service.kernel.auth import PUBLIC, SIGNED_IN, CurrentPrincipal, token_claims
from service.kernel.errors import NotFound
from service.kernel.identity import Principal

log = structlog.get_logger()
RESET_ANSWER = (
    "If an active account has this email address, a link to choose a new password has been"
    " sent to it; it works once, within the hour."
)


async def send_reset_link(email: str, base_url: str) -> None:
    """After the answer: mail the link (or nothing), and log a failure rather than raise it."""
    try:
        await credentials.send_reset_link(email, base_url)
    except Exception:
        log.exception("password_reset.mail_failed")


def user_agent(request: Request[Any, Any, Any]) -> str:
    return request.headers.get("user-agent", "")[:200]


def person(principal: Principal) -> Any:
    if principal.user_id is None:
        raise NotAuthorizedException("Door devices have no user.")
    return principal.user_id


class AuthController(Controller):
    path = "/auth"
    tags = ["accounts"]

    @post("/token", opt=PUBLIC, status_code=200, summary="Exchange email and password for a JWT")
    async def token(
        self, request: Request[Any, Any, Any], data: JSONBody[TokenRequest]
    ) -> TokenResponse:
        client = client_address(request)
        token, expires_in = await sign_in(
            request.app.state.settings,
            request.app.state.redis,
            data.email,
            data.password,
            client,
            user_agent=user_agent(request),
        )
        return TokenResponse(access_token=token, token_type="bearer", expires_in=expires_in)

    @post(
        "/password-reset",
        opt=PUBLIC,
        status_code=202,
        summary="Mail a link to choose a new password (the same answer for every email)",
    )
    async def password_reset(
        self, request: Request[Any, Any, Any], data: JSONBody[PasswordResetRequest]
    ) -> Response[Accepted]:
        await credentials.throttle_reset_request(
            request.app.state.redis, data.email, client_address(request)
        )
        # The look-up and the mail run after the answer, so its timing tells nothing either.
        return Response(
            Accepted(detail=RESET_ANSWER),
            status_code=202,
            background=BackgroundTask(
                send_reset_link, data.email, request.app.state.settings.base_url
            ),
        )

    @post(
        "/password-reset/confirm",
        opt=PUBLIC,
        status_code=204,
        summary="Set a new password with the mailed link's token; every session ends",
    )
    async def password_reset_confirm(self, data: JSONBody[PasswordResetConfirm]) -> None:
        await credentials.reset_password(data.token, data.password)

    @post(
        "/email-change/confirm",
        opt=PUBLIC,
        status_code=204,
        summary="Confirm a new email address with the mailed link's token; every session ends",
    )
    async def email_change_confirm(self, data: JSONBody[EmailChangeConfirm]) -> None:
        await credentials.confirm_email_change(data.token)


class MeController(Controller):
    path = "/me"
    tags = ["accounts"]

    @get("", opt=SIGNED_IN, summary="The signed-in user, their role and membership")
    async def me(self, principal: CurrentPrincipal) -> Me:
        if principal.user_id is None:
            raise NotAuthorizedException("Door devices have no user.")
        user = await user_of(principal.user_id)
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

    @post(
        "/password",
        opt=SIGNED_IN,
        status_code=200,
        summary="Change my password (the current one asked); every other session ends",
    )
    async def change_password(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        data: JSONBody[PasswordChange],
    ) -> TokenResponse:
        token, expires_in = await credentials.change_password(
            request.app.state.settings,
            request.app.state.redis,
            person(principal),
            data.current_password,
            data.new_password,
            client_address(request),
            user_agent=user_agent(request),
        )
        return TokenResponse(access_token=token, token_type="bearer", expires_in=expires_in)

    @post(
        "/email",
        opt=SIGNED_IN,
        status_code=202,
        summary="Ask to change my email: a link goes to the new address, the old one is told",
    )
    async def change_email(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        data: JSONBody[EmailChangeRequest],
    ) -> Accepted:
        await credentials.request_email_change(
            request.app.state.settings,
            request.app.state.redis,
            person(principal),
            data.email,
            data.password,
            client_address(request),
        )
        return Accepted(detail="A confirmation link has been sent to the new address.")

    @get("/sessions", opt=SIGNED_IN, summary="My sessions still open")
    async def sessions(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> list[Session]:
        current = current_session(request)
        return [
            Session(
                id=s.id,
                created_at=s.created_at,
                expires_at=s.expires_at,
                user_agent=s.user_agent,
                method=s.method,
                current=str(s.id) == current,
            )
            for s in await credentials.active_sessions(person(principal))
        ]

    @post(
        "/sessions/end-all",
        opt=SIGNED_IN,
        status_code=204,
        summary="Sign out everywhere: every session of mine ends, this one included",
    )
    async def end_all(self, principal: CurrentPrincipal) -> None:
        await credentials.sign_out_everywhere(person(principal))

    @put("/language", opt=SIGNED_IN, status_code=204, summary="The language I read (fr, en)")
    async def language(self, principal: CurrentPrincipal, data: JSONBody[LanguageChoice]) -> None:
        await credentials.set_language(person(principal), data.language)


def current_session(request: Request[Any, Any, Any]) -> str | None:
    """The `sid` of the session this request was made with."""
    token = request.scope.get("auth")
    if not isinstance(token, str):
        return None
    try:
        return str(token_claims(request.app.state.settings, token).get("sid"))
    except NotAuthorizedException:
        return None
