"""What the pages share: forms, refusals, today and months, not-found."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from litestar import Request, Response
from litestar.enums import RequestEncodingType
from litestar.params import Body

from billing.close import paris_today
from service.kernel.dates import MonthNotValid, parse_month
from service.kernel.errors import DomainError
from service.kernel.i18n import N_
from service.kernel.problems import problem_for
from web.i18n import translate
from web.labels import REFUSAL
from web.pages import page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def today() -> date:
    """Today in the network's time zone (the billing calendar's, Europe/Paris)."""
    return paris_today()


def refusal(lang: str, error: DomainError) -> tuple[int, str]:
    """The status and the sentence a person reads for a refused action."""
    problem = problem_for(error)
    key = REFUSAL.get(problem.slug)
    return problem.status, translate(lang, key or error.message, **({} if key else error.params))


def not_found(request: Request[Any, Any, Any]) -> Response[Any]:
    return page(request, "error.html", title=N_("Page not found"), status_code=404, code=404)


def month_of(text: str | None) -> date | None:
    """`YYYY-MM` as the month's first day, or None when absent, malformed or out of range."""
    try:
        return parse_month(text)
    except MonthNotValid:
        return None


def previous_month(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def checked(values: dict[str, Any], name: str) -> bool:
    """An HTML checkbox: present (with any value) when ticked."""
    return name in values and values[name] not in ("", "0", "false", "off")
