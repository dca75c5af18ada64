"""What every page shares: the language, the signed-in person, the role's menu, error pages.

A page handler returns `page(request, "agent/find.html", title=N_(…), **context)`; the base
layout (`templates/base.html`) reads `me`, `nav` and `lang` from that context.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.response import Redirect, Template
from litestar.template import TemplateConfig
from litestar.types import ExceptionHandlersMap

from service.kernel import problem_responses
from service.kernel.errors import DomainError
from service.kernel.i18n import N_, NC_
from service.kernel.identity import Principal, Role
from service.kernel.outages import RETRY_AFTER_SECONDS, failed_dependency
from service.kernel.problem_responses import (
    EXCEPTION_HANDLERS as API_EXCEPTION_HANDLERS,
)
from service.kernel.problem_responses import (
    dependency_error_handler,
    internal_error_handler,
)
from web.i18n import (
    LANGUAGE_COOKIE,
    LANGUAGES,
    Message,
    choose,
    format_date,
    format_day,
    format_money,
    format_percent,
    format_period,
    format_time,
    install,
    translate,
)

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


@dataclass(frozen=True)
class NavItem:
    href: str
    label: Message


# Each role's menu and where it lands after signing in (a role without one lands on its
# account page).
NAV: dict[Role, tuple[NavItem, ...]] = {
    Role.AGENT: (
        NavItem("/agent", N_("Find a desk")),
        NavItem("/agent/bookings", N_("My bookings")),
        NavItem("/agent/pass", N_("My pass")),
    ),
    Role.VENUE_STAFF: (NavItem("/scan", N_("Scanner")),),
    Role.VENUE_ADMIN: (
        NavItem("/venue", N_("Workspaces")),
        NavItem("/venue/hours", N_("Hours and closures")),
        NavItem("/venue/devices", N_("Door devices")),
        NavItem("/venue/statements", N_("Statements")),
        NavItem("/scan", N_("Scanner")),
    ),
    Role.ORG_ADMIN: (
        NavItem("/organisation", N_("Agents")),
        NavItem("/organisation/policy", N_("Allowances and policy")),
        NavItem("/organisation/enrolment", N_("Self-enrolment")),
        NavItem("/organisation/usage", N_("Bookings")),
        NavItem("/organisation/invoices", N_("Invoices")),
    ),
    Role.NETWORK_ADMIN: (
        NavItem("/network", N_("Dashboard")),
        NavItem("/network/venues", N_("Venues")),
        NavItem("/network/rates", N_("Rates")),
        NavItem("/network/anomalies", N_("Anomalies")),
        NavItem("/network/close", NC_("menu", "Month close")),
        NavItem("/network/invoices", N_("Invoices")),
        NavItem("/network/payouts", N_("Payouts")),
        NavItem("/network/audit", N_("Audit trail")),
        NavItem("/network/admin/", N_("Admin")),
    ),
}
LANDING: dict[Role, str] = {
    Role.AGENT: "/agent",
    Role.VENUE_STAFF: "/scan",
    Role.VENUE_ADMIN: "/venue",
    Role.ORG_ADMIN: "/organisation",
    Role.NETWORK_ADMIN: "/network",
}
ACCOUNT_ITEM = NavItem("/account", N_("My account"))


def landing_of(role: Role | None) -> str:
    return "/" if role is None else LANDING.get(role, "/account")


def landing(principal: Principal | None) -> str:
    return landing_of(principal.role if principal is not None else None)


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "xml", "svg"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    install(environment)
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))


def language(request: Request[Any, Any, Any]) -> str:
    return choose(request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE))


def current(request: Request[Any, Any, Any]) -> Principal | None:
    user = request.scope.get("user")
    return user if isinstance(user, Principal) else None


def page(
    request: Request[Any, Any, Any],
    template: str,
    *,
    title: Message,
    status_code: int = 200,
    cookies: list[Cookie] | None = None,
    **context: Any,
) -> Template:
    """Render a page with the layout's context; `?lang=` is remembered in a cookie."""
    lang = language(request)
    me = current(request)
    nav: tuple[NavItem, ...] = ()
    if me is not None and me.role is not None:
        nav = (*NAV.get(me.role, ()), ACCOUNT_ITEM)
    cookies = list(cookies or [])
    if request.query_params.get("lang") in LANGUAGES:
        cookies.append(
            Cookie(key=LANGUAGE_COOKIE, value=lang, max_age=365 * 24 * 3600, samesite="lax")
        )

    return Template(
        template_name=template,
        context={
            "lang": lang,
            "other_lang": "en" if lang == "fr" else "fr",
            "fmt_date": lambda day: format_date(lang, day),
            "fmt_time": lambda moment: format_time(lang, moment),
            "fmt_day": lambda day: format_day(lang, day),
            "fmt_period": lambda month: format_period(lang, month),
            "euros": lambda cents: format_money(lang, cents),
            "eur": lambda cents: format_money(lang, cents),
            "pct": lambda rate: format_percent(lang, rate),
            "title": translate(lang, title),
            "me": me,
            "nav": nav,
            "path": request.url.path,
            "home": landing(me),
            **context,
        },
        status_code=status_code,
        cookies=cookies,
        headers={"Cache-Control": "no-store"},
    )


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    """The scanner's script posts JSON to its page routes and reads problem+json back."""
    content_type = request.headers.get("content-type", "")
    accept = request.headers.get("accept", "")
    return "json" in content_type or ("json" in accept and "text/html" not in accept)


def _error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Any other error on a page: the status the API would give, as a page people can read.

    The kernel's handlers decide the status (and log what is a bug), so a page and the API
    never disagree on whose mistake it was.
    """
    problem = problem_responses.handle(request, exc)
    if _wants_json(request):
        return problem
    detail = None
    if isinstance(exc, DomainError):
        detail = translate(language(request), exc.message, **exc.params)
    status = problem.status_code or 500
    return page(
        request,
        "error.html",
        title=N_("This did not work"),
        status_code=status,
        code=status,
        detail=detail,
    )


def _anonymous(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
    # Pages send strangers to the sign-in form; the API answers 401 problem+json.
    return Redirect("/", status_code=303)


def _forbidden(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
    return page(request, "error.html", title=N_("Access denied"), status_code=403, code=403)


def _not_found(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
    return page(request, "error.html", title=N_("Page not found"), status_code=404, code=404)


def _unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """PostgreSQL or Redis away: a page saying so to a browser, problem+json to the scanner's script."""
    if failed_dependency(exc) is None:
        return internal_error_handler(request, exc)
    if "text/html" not in request.headers.get("accept", ""):
        return dependency_error_handler(request, exc)
    response = page(
        request, "error.html", title=N_("Service unavailable"), status_code=503, code=503
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    # Every class the kernel maps, so none falls through to the API's problem+json.
    **dict.fromkeys(problem_responses.EXCEPTION_HANDLERS, _error_page),
    NotAuthorizedException: _anonymous,
    PermissionDeniedException: _forbidden,
    NotFoundException: _not_found,
    # The API's handlers for a dependency that does not answer, answered as a page here.
    **{
        error: _unavailable
        for error, handler in API_EXCEPTION_HANDLERS.items()
        if handler is dependency_error_handler
    },
}
