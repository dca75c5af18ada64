"""My account: who I am, my password, my email, my sessions, my language; a forgotten password."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from booking.controllers.accounts import send_reset_link, user_agent
from booking.errors import DuplicateEmail, LinkExpired, LinkInvalid, LinkUsed, WrongCurrentPassword
from booking.services import accounts, credentials
from booking.services.accounts import MIN_PASSWORD_LENGTH
from service.kernel.addresses import client_address
from service.kernel.auth import PUBLIC, SIGNED_IN, CurrentPrincipal, token_claims
from service.kernel.errors import DomainError, InvalidValue, TooManyAttempts
from service.kernel.i18n import N_, NP_
from web.controllers.home import language_cookies
from web.i18n import translate
from web.pages import language, page
from web.session import SESSION_COOKIE, expired_session_cookie, session_cookie

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
LINK_ERRORS = (LinkInvalid, LinkExpired, LinkUsed)
PARIS = ZoneInfo("Europe/Paris")  # sessions are listed in the network's time


def wait_message(lang: str, error: TooManyAttempts) -> str:
    return translate(
        lang,
        NP_(
            "Too many attempts: try again in %(num)s minute.",
            "Too many attempts: try again in %(num)s minutes.",
        ),
        num=max(1, error.retry_after // 60),
    )


def new_password_errors(lang: str, data: dict[str, str], name: str) -> dict[str, str]:
    password = data.get(name) or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        return {
            name: translate(
                lang, N_("The password must have at least %(n)s characters."), n=MIN_PASSWORD_LENGTH
            )
        }
    if password != (data.get("confirm") or ""):
        return {"confirm": translate(lang, N_("The two passwords differ."))}
    return {}


class PasswordResetController(Controller):
    path = "/password-reset"
    include_in_schema = False

    @get("/", opt=PUBLIC)
    async def form(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return page(
            request,
            "password_reset.html",
            title=N_("Forgotten password"),
            email="",
            errors={},
            sent=False,
        )

    @post("/", opt=PUBLIC)
    async def ask(self, request: Request[Any, Any, Any], data: Form) -> Response[Any]:
        lang = language(request)
        email = (data.get("email") or "").strip()
        errors: dict[str, str] = {}
        if not email:
            errors["email"] = translate(lang, N_("This field is required."))
        else:
            try:
                await credentials.throttle_reset_request(
                    request.app.state.redis, email, client_address(request)
                )
            except TooManyAttempts as error:
                errors["email"] = wait_message(lang, error)
        if errors:
            return page(
                request,
                "password_reset.html",
                title=N_("Forgotten password"),
                status_code=429 if email else 422,
                email=email,
                errors=errors,
                sent=False,
            )
        response = page(
            request,
            "password_reset.html",
            title=N_("Forgotten password"),
            email=email,
            errors={},
            sent=True,
        )
        # The same page for every email; the look-up and the mail happen after it has gone.
        response.background = BackgroundTask(
            send_reset_link, email, request.app.state.settings.base_url
        )
        return response

    @get("/{token:str}", opt=PUBLIC)
    async def new_password_form(self, request: Request[Any, Any, Any], token: str) -> Response[Any]:
        return self._new_password_page(request, token, {}, None, 200)

    @post("/{token:str}", opt=PUBLIC)
    async def new_password(
        self, request: Request[Any, Any, Any], token: str, data: Form
    ) -> Response[Any]:
        lang = language(request)
        errors = new_password_errors(lang, data, "password")
        if not errors:
            try:
                await credentials.reset_password(token, data.get("password") or "")
            except LINK_ERRORS as error:
                status = 404 if isinstance(error, LinkInvalid) else 410
                return self._new_password_page(
                    request, token, {}, translate(lang, error.message), status
                )
            except InvalidValue as error:
                errors["password"] = translate(lang, error.message, **error.params)
            else:
                settings = request.app.state.settings
                return Redirect(
                    "/?password_reset=1",
                    status_code=303,
                    cookies=[expired_session_cookie(settings)],
                )
        return self._new_password_page(request, token, errors, None, 422)

    @staticmethod
    def _new_password_page(
        request: Request[Any, Any, Any],
        token: str,
        errors: dict[str, str],
        link_error: str | None,
        status: int,
    ) -> Response[Any]:
        return page(
            request,
            "password_reset_token.html",
            title=N_("Choose a new password"),
            status_code=status,
            token=token,
            errors=errors,
            link_error=link_error,
            min_length=MIN_PASSWORD_LENGTH,
        )


class AccountController(Controller):
    path = "/account"
    include_in_schema = False

    @get("/", opt=SIGNED_IN)
    async def account(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        done = request.query_params.get("done")
        return await self._page(request, principal, {}, done, 200)

    async def _page(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        errors: dict[str, str],
        done: str | None,
        status: int,
        *,
        new_email: str = "",
    ) -> Response[Any]:
        user = await accounts.user_of(principal.user_id) if principal.user_id is not None else None
        sessions = [
            replace(
                s,
                created_at=s.created_at.astimezone(PARIS),
                expires_at=s.expires_at.astimezone(PARIS),
            )
            for s in (await credentials.active_sessions(user.id) if user is not None else [])
        ]
        current = None
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            try:
                current = str(token_claims(request.app.state.settings, token).get("sid"))
            except Exception:
                current = None
        notices = {
            "password": N_("Your password has been changed. Your other sessions have ended."),
            "email": N_(
                "A confirmation link has been sent to the new address; your address changes when it is opened."
            ),
            "language": N_("Your language has been saved."),
        }
        return page(
            request,
            "account.html",
            title=N_("My account"),
            status_code=status,
            user=user,
            sessions=sessions,
            current_session=current,
            errors=errors,
            notice=translate(language(request), notices[done]) if done in notices else None,
            new_email=new_email,
            min_length=MIN_PASSWORD_LENGTH,
        )

    @post("/password", opt=SIGNED_IN)
    async def change_password(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: Form
    ) -> Response[Any]:
        lang = language(request)
        errors = new_password_errors(lang, data, "new_password")
        if not data.get("current_password"):
            errors["current_password"] = translate(lang, N_("This field is required."))
        if not errors:
            assert principal.user_id is not None
            settings = request.app.state.settings
            try:
                token, expires_in = await credentials.change_password(
                    settings,
                    request.app.state.redis,
                    principal.user_id,
                    data.get("current_password") or "",
                    data.get("new_password") or "",
                    client_address(request),
                    user_agent=user_agent(request),
                )
            except TooManyAttempts as error:
                errors["current_password"] = wait_message(lang, error)
            except WrongCurrentPassword as error:
                errors["current_password"] = translate(lang, error.message)
            except InvalidValue as error:
                errors["new_password"] = translate(lang, error.message, **error.params)
            else:
                return Redirect(
                    "/account?done=password",
                    status_code=303,
                    cookies=[session_cookie(token, expires_in, settings)],
                )
        return await self._page(request, principal, errors, None, 422)

    @post("/email", opt=SIGNED_IN)
    async def change_email(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: Form
    ) -> Response[Any]:
        lang = language(request)
        new_email = (data.get("email") or "").strip()
        errors: dict[str, str] = {}
        if not new_email:
            errors["email"] = translate(lang, N_("This field is required."))
        if not data.get("password"):
            errors["password"] = translate(lang, N_("This field is required."))
        if not errors:
            assert principal.user_id is not None
            try:
                await credentials.request_email_change(
                    request.app.state.settings,
                    request.app.state.redis,
                    principal.user_id,
                    new_email,
                    data.get("password") or "",
                    client_address(request),
                )
            except TooManyAttempts as error:
                errors["password"] = wait_message(lang, error)
            except WrongCurrentPassword as error:
                errors["password"] = translate(lang, error.message)
            except DomainError as error:
                errors["email"] = translate(lang, error.message, **error.params)
            else:
                return Redirect("/account?done=email", status_code=303)
        return await self._page(request, principal, errors, None, 422, new_email=new_email)

    @post("/sessions/end-all", opt=SIGNED_IN)
    async def end_all(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        assert principal.user_id is not None
        await credentials.sign_out_everywhere(principal.user_id)
        settings = request.app.state.settings
        return Redirect(
            "/?signed_out=1", status_code=303, cookies=[expired_session_cookie(settings)]
        )

    @post("/language", opt=SIGNED_IN)
    async def set_language(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: Form
    ) -> Response[Any]:
        chosen = data.get("language") or ""
        assert principal.user_id is not None
        try:
            await credentials.set_language(principal.user_id, chosen)
        except InvalidValue as error:
            errors = {"language": translate(language(request), error.message)}
            return await self._page(request, principal, errors, None, 422)
        return Redirect("/account?done=language", status_code=303, cookies=language_cookies(chosen))


class EmailConfirmationController(Controller):
    """The link mailed to a new address: a button (a GET changes nothing: mail scanners open links)."""

    path = "/account/email"
    include_in_schema = False

    @get("/{token:str}", opt=PUBLIC)
    async def form(self, request: Request[Any, Any, Any], token: str) -> Response[Any]:
        return page(
            request,
            "email_confirm.html",
            title=N_("Confirm my new email address"),
            token=token,
            link_error=None,
        )

    @post("/{token:str}", opt=PUBLIC)
    async def confirm(self, request: Request[Any, Any, Any], token: str) -> Response[Any]:
        lang = language(request)
        try:
            await credentials.confirm_email_change(token)
        except (*LINK_ERRORS, DuplicateEmail) as error:
            return page(
                request,
                "email_confirm.html",
                title=N_("Confirm my new email address"),
                status_code=404
                if isinstance(error, LinkInvalid)
                else 409
                if isinstance(error, DuplicateEmail)
                else 410,
                token=token,
                link_error=translate(lang, error.message),
            )
        settings = request.app.state.settings
        return Redirect(
            "/?email_changed=1", status_code=303, cookies=[expired_session_cookie(settings)]
        )
