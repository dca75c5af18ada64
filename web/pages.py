"""What every page shares: the language, the signed-in person, the role's menu, error pages.

A page handler returns `page(request, "agent/find.html", title_key=…, **context)`; the base
layout (`templates/base.html`) reads `me`, `nav`, `lang` and `t` from that context.
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

from service.kernel.identity import Principal, Role
from web.i18n import LANGUAGE_COOKIE, LANGUAGES, choose, format_date, format_time, translate

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


@dataclass(frozen=True)
class NavItem:
    href: str
    label_key: str


# Each role's menu and where it lands after signing in (a role without one lands on its
# account page).
NAV: dict[Role, tuple[NavItem, ...]] = {
    Role.AGENT: (
        NavItem("/agent", "nav.find"),
        NavItem("/agent/bookings", "nav.bookings"),
        NavItem("/agent/pass", "nav.pass"),
    ),
    Role.VENUE_STAFF: (NavItem("/scan", "nav.scan"),),
    Role.VENUE_ADMIN: (
        NavItem("/venue", "nav.venue.workspaces"),
        NavItem("/venue/hours", "nav.venue.hours"),
        NavItem("/venue/devices", "nav.venue.devices"),
        NavItem("/venue/statements", "nav.venue.statements"),
        NavItem("/scan", "nav.scan"),
    ),
    Role.ORG_ADMIN: (
        NavItem("/organisation", "nav.org.agents"),
        NavItem("/organisation/policy", "nav.org.policy"),
        NavItem("/organisation/usage", "nav.org.usage"),
        NavItem("/organisation/invoices", "nav.org.invoices"),
    ),
    Role.NETWORK_ADMIN: (
        NavItem("/network", "nw.nav.dashboard"),
        NavItem("/network/venues", "nw.nav.venues"),
        NavItem("/network/rates", "nw.nav.rates"),
        NavItem("/network/anomalies", "nw.nav.anomalies"),
        NavItem("/network/close", "nw.nav.close"),
        NavItem("/network/invoices", "nw.nav.invoices"),
        NavItem("/network/payouts", "nw.nav.payouts"),
        NavItem("/network/admin/", "nw.nav.admin"),
    ),
}
LANDING: dict[Role, str] = {
    Role.AGENT: "/agent",
    Role.VENUE_STAFF: "/scan",
    Role.VENUE_ADMIN: "/venue",
    Role.ORG_ADMIN: "/organisation",
    Role.NETWORK_ADMIN: "/network",
}
ACCOUNT_ITEM = NavItem("/account", "nav.account")


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
    title_key: str,
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

    def t(key: str, **values: Any) -> str:
        return translate(lang, key, **values)

    return Template(
        template_name=template,
        context={
            "lang": lang,
            "other_lang": "en" if lang == "fr" else "fr",
            "t": t,
            "fmt_date": lambda day: format_date(lang, day),
            "fmt_time": lambda moment: format_time(lang, moment),
            "title": t(title_key),
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


def _anonymous(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
    # Pages send strangers to the sign-in form; the API answers 401 problem+json.
    return Redirect("/", status_code=303)


def _forbidden(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
    return page(request, "error.html", title_key="error.title.403", status_code=403, code=403)


def _not_found(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
    return page(request, "error.html", title_key="error.title.404", status_code=404, code=404)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    NotAuthorizedException: _anonymous,
    PermissionDeniedException: _forbidden,
    NotFoundException: _not_found,
}
