"""The organisation console's usage: a month's bookings per agent and the half-days counted."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get

from booking.services import booking_lists, organisations
from booking.services.allowance import allowance_units
from booking.services.booking_lists import BookingSummary
from booking.services.organisations import OrganisationRecord, Person
from service.kernel.auth import CurrentPrincipal
from service.kernel.i18n import N_
from service.kernel.identity import Role
from web.consoles import month_of, today
from web.controllers.organisation.console import ORG_ADMIN, organisation_of
from web.i18n import translate
from web.pages import language, page

LIVE = ("confirmed", "checked_in", "completed")
ATTENDED = ("checked_in", "completed")


def usage_by_agent(
    bookings: list[BookingSummary],
    agents: list[Person],
    organisation: OrganisationRecord,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """One row per agent with their month's bookings by outcome and half-days counted."""
    rows: dict[uuid.UUID, dict[str, Any]] = {
        a.id: {
            "id": a.id,
            "name": a.display_name,
            "email": a.email,
            "active": a.active,
            "allowed": allowance_units(
                a.monthly_allowance_units, organisation.monthly_allowance_units
            ),
            "bookings": 0,
            "attended": 0,
            "upcoming": 0,
            "no_show": 0,
            "cancelled": 0,
            "used": 0,
        }
        for a in agents
    }
    counted = {
        *LIVE,
        *(("no_show",) if organisation.bill_no_shows else ()),
        *(("late_cancelled",) if organisation.bill_late_cancellations else ()),
    }
    for booking in bookings:
        row = rows.get(booking.agent_id)
        if row is None:
            continue
        row["bookings"] += 1
        status = booking.status
        if status in ATTENDED:
            row["attended"] += 1
        elif status == "confirmed":
            row["upcoming"] += 1
        elif status == "no_show":
            row["no_show"] += 1
        else:
            row["cancelled"] += 1
        if status in counted:
            row["used"] += booking.allowance_units
    used_rows = sorted(
        (r for r in rows.values() if r["bookings"] or r["active"]),
        key=lambda r: (-r["bookings"], r["name"].lower()),
    )
    keys = ("bookings", "attended", "upcoming", "no_show", "cancelled", "used")
    totals = {k: sum(r[k] for r in used_rows) for k in keys}
    return used_rows, totals


class OrganisationUsageController(Controller):
    path = "/organisation"
    include_in_schema = False

    @get("/usage", opt=ORG_ADMIN)
    async def usage(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        """A month's bookings per agent: attended, upcoming, no-shows, half-days counted."""
        lang = language(request)
        organisation_id = organisation_of(principal)
        asked = request.query_params.get("month") or ""
        month = month_of(asked) if asked else today().replace(day=1)
        error = None
        if month is None:
            error = translate(lang, N_("Choose a valid month."))
            month = today().replace(day=1)
        organisation = await organisations.get(organisation_id)
        bookings, total = await booking_lists.for_organisation(
            organisation_id,
            month=month,
            agent_id=None,
            limit=5000,
            offset=0,
            base_url=str(request.app.state.settings.base_url),
        )
        agents, _ = await organisations.people(
            organisation_id=organisation_id, role=Role.AGENT.value, limit=5000, offset=0
        )
        rows, totals = usage_by_agent(bookings, agents, organisation)
        return page(
            request,
            "organisation/usage.html",
            title=N_("Bookings and usage"),
            status_code=422 if error else 200,
            month=month,
            month_text=asked if error else month.strftime("%Y-%m"),
            error=error,
            rows=rows,
            totals=totals,
            bookings=bookings[:200],
            total=total,
        )
