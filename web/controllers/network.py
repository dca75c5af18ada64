"""The network console: dashboard and map, venue applications, rate cards, anomalies to review."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from billing.close import paris_today
from billing.payouts import NothingToPay
from billing.services import parse_period
from booking.services import directory, organisations, rates, venues, workspaces
from passes import anomalies, indicators
from service.kernel.auth import CurrentPrincipal, allow
from service.kernel.errors import DomainError, InvalidValue, NotFound
from service.kernel.i18n import N_
from service.kernel.identity import Role
from service.kernel.problems import problem_for
from web import charts, maps
from web.console_flow import Refused, done_message, done_redirect, submit
from web.consoles import Form, not_found, previous_month
from web.controllers.network_forms import day_of, owner_of, parse_euros, parse_vat_percent
from web.i18n import month_label, translate
from web.labels import NETWORK_REFUSAL, NW_ANOMALIES_DONE, NW_VENUES_DONE, REFUSAL
from web.pages import language, page

NETWORK = allow(Role.NETWORK_ADMIN)
DASHBOARD_MONTHS = 6
# What the buttons of an application or a venue ask for, and the status it leads to.
STATUS_ACTIONS = {"approve": "approved", "reject": "closed", "suspend": "suspended"}


def refusal_text(lang: str, error: DomainError) -> tuple[int, str]:
    """The status and the sentence a network admin reads for a refused action."""
    problem = problem_for(error)
    if isinstance(error, NothingToPay):
        return problem.status, translate(
            lang,
            N_(
                "No payout of this month is waiting for a file: prepare them first, or they are already sent."
            ),
        )
    for key in (NETWORK_REFUSAL.get(problem.slug), REFUSAL.get(problem.slug)):
        if key:
            return problem.status, translate(lang, key)
    return problem.status, translate(lang, error.message, **error.params)


def console(
    request: Request[Any, Any, Any], template: str, *, title: str, **context: Any
) -> Template:
    """A console page (money, rates and dates come with every page's context)."""
    return page(
        request,
        template,
        title=title,
        **context,
    )


def month_choices(today: date, count: int = 12) -> list[date]:
    """The months a network admin picks from: this one and the ones before, newest first."""
    return list(reversed(indicators.months_back(today, count)))


def pick_month(text: str | None, default: date) -> tuple[date, str | None]:
    """The month a page shows (`?month=YYYY-MM`) and the error key of a bad one."""
    if not text:
        return default, None
    try:
        return parse_period(text), None
    except InvalidValue:
        return default, N_("Pick a month from the list (YYYY-MM).")


class NetworkController(Controller):
    path = "/network"
    include_in_schema = False

    @get("", opt=NETWORK)
    async def dashboard(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Indicators of one month (last month unless picked) and the months before it."""
        today = paris_today()
        month, error = pick_month(request.query_params.get("month"), previous_month(today))
        first = indicators.months_back(month, DASHBOARD_MONTHS)[0]
        per_month = await indicators.visits_per_month(first, month)
        occupancy = await indicators.occupancy_per_month(first, month)
        for row in occupancy:
            offered = int(row["offered"])
            row["percent"] = round(100 * int(row["used"]) / offered) if offered else 0
        lang = language(request)
        month_name = _month_label(lang)
        for rows in (per_month, occupancy):
            for row in rows:
                row["label"] = month_name(row["month"])
        for row in occupancy:
            row["text"] = f"{row['percent']} %"
        by = {d: await indicators.visits_by(d, month) for d in ("venue", "commune", "organisation")}
        venues = await indicators.venue_points()
        return console(
            request,
            "network/dashboard.html",
            title=N_("Network dashboard"),
            status_code=422 if error else 200,
            error=translate(lang, error) if error else None,
            month=month,
            month_label=month_name(month),
            months=[(m, month_name(m)) for m in month_choices(today)],
            per_month=per_month,
            per_month_chart=charts.bar_chart(per_month, label="label", value="visits"),
            occupancy=occupancy,
            occupancy_chart=charts.bar_chart(
                occupancy, label="label", value="percent", text="text", maximum=100
            ),
            by=by,
            by_charts={
                d: charts.bar_chart(rows, label="label", value="visits") for d, rows in by.items()
            },
            venue_map=charts.venue_map(venues),
            street_map=maps.tile_map(
                request.app.state.settings,
                lang,
                "network-street-map",
                venues,
                await directory.by_ids([v["id"] for v in venues]),
                lambda v: f"/network/venues#venue-{v['id']}",
            ),
        )

    # Venue applications

    @get("/venues", opt=NETWORK)
    async def venues(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        return await self._venues_page(request, principal)

    async def _venues_page(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        *,
        status_code: int = 200,
        refusal: str | None = None,
    ) -> Response[Any]:
        pending, _ = await venues.list_venues(
            principal, status="applied", commune=None, service=None, limit=200, offset=0
        )
        every, _ = await venues.list_venues(
            principal, status=None, commune=None, service=None, limit=1000, offset=0
        )
        return console(
            request,
            "network/venues.html",
            title=N_("Venues and applications"),
            status_code=status_code,
            pending=pending,
            others=[v for v in every if v.status != "applied"],
            done=done_message(request, NW_VENUES_DONE, STATUS_ACTIONS),
            refusal=refusal,
        )

    @post("/venues/{venue_id:uuid}/status", opt=NETWORK)
    async def change_status(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        venue_id: uuid.UUID,
        data: Form,
    ) -> Response[Any]:
        lang = language(request)
        action = data.get("action", "")
        errors: dict[str, str] = {}
        if action not in STATUS_ACTIONS:
            errors["action"] = translate(lang, N_("Invalid value."))

        async def change() -> Response[Any]:
            try:
                await venues.change_status(venue_id, STATUS_ACTIONS[action])
            except NotFound:
                return not_found(request)
            return done_redirect("/network/venues", action, f"venue-{venue_id}")

        async def again(errors: dict[str, str], status_code: int) -> Response[Any]:
            refusal = errors["action"]
            return await self._venues_page(
                request, principal, status_code=status_code, refusal=refusal
            )

        def refused(error: DomainError) -> Refused:
            status, text = refusal_text(lang, error)
            return status, {"action": text}

        return await submit(errors, change, again, refused, catch=(DomainError,))

    # Rate cards

    @get("/rates", opt=NETWORK)
    async def rates(self, request: Request[Any, Any, Any]) -> Response[Any]:
        owner = request.query_params.get("owner") or "default"
        done = request.query_params.get("done") == "added"
        return await self._rates_page(request, owner, {}, {}, done=done)

    async def _rates_page(
        self,
        request: Request[Any, Any, Any],
        owner: str,
        form: dict[str, str],
        errors: dict[str, str],
        *,
        status_code: int = 200,
        done: bool = False,
    ) -> Response[Any]:
        lang = language(request)
        all_venues, _ = await venues.list_venues(
            request.scope["user"], status=None, commune=None, service=None, limit=1000, offset=0
        )
        every_organisation = await organisations.active_organisations()
        try:
            kind, owner_id = owner_of(owner)
        except InvalidValue:
            kind, owner_id, owner = "default", None, "default"
            errors = {**errors, "owner": N_("Pick a card from the list.")}
            status_code = 422
        try:
            rows = (
                await rates.venue_rates(owner_id)
                if kind == "venue" and owner_id is not None
                else await rates.organisation_rates(owner_id)
            )
        except NotFound:
            return not_found(request)
        known = (
            {str(v.id) for v in all_venues}
            if kind == "venue"
            else {str(o["id"]) for o in every_organisation}
            if kind == "organisation"
            else {None}
        )
        if (str(owner_id) if owner_id else None) not in known:
            return not_found(request)
        return console(
            request,
            "network/rates.html",
            title=N_("Rate cards"),
            status_code=status_code,
            owner=owner,
            venues=all_venues,
            organisations=every_organisation,
            rates=_with_state([asdict(r) for r in rows], paris_today()),
            form={
                "workspace_kind": form.get("workspace_kind", "desk"),
                "unit": form.get("unit", "half_day"),
                "amount": form.get("amount", ""),
                "vat": form.get("vat", "20"),
                "effective_from": form.get("effective_from", ""),
            },
            errors={k: translate(lang, v) if v else v for k, v in errors.items()},
            kinds=workspaces.WORKSPACE_KINDS,
            units=("half_day", "day", "hour"),
            done=done,
        )

    @post("/rates", opt=NETWORK)
    async def add_rate(self, request: Request[Any, Any, Any], data: Form) -> Response[Any]:
        owner = data.get("owner") or ""
        errors: dict[str, str] = {}
        fields: dict[str, Any] = {
            "workspace_kind": data.get("workspace_kind", ""),
            "unit": data.get("unit", ""),
        }
        try:
            kind, owner_id = owner_of(owner)
        except InvalidValue:
            return await self._rates_page(
                request,
                "default",
                data,
                {"owner": N_("Pick a card from the list.")},
                status_code=422,
            )
        for name, parse in (
            ("amount_cents", lambda: parse_euros(data.get("amount", ""))),
            ("vat_rate", lambda: parse_vat_percent(data.get("vat", ""))),
            ("effective_from", lambda: day_of(data.get("effective_from", ""))),
        ):
            try:
                fields[name] = parse()
            except InvalidValue as error:
                errors[error.field or name] = error.detail

        async def add() -> Response[Any]:
            try:
                if kind == "venue":
                    assert owner_id is not None
                    await rates.add_venue_rate(owner_id, fields)
                else:
                    await rates.add_organisation_rate(owner_id, fields)
            except NotFound:
                return not_found(request)
            return done_redirect(f"/network/rates?owner={owner}", "added")

        async def again(errors: dict[str, str], status_code: int) -> Response[Any]:
            return await self._rates_page(request, owner, data, errors, status_code=status_code)

        def refused(error: DomainError) -> Refused:
            status, text = refusal_text(language(request), error)
            field = {"amount_cents": "amount", "vat_rate": "vat"}.get(error.field or "")
            return status, {field or error.field or "effective_from": text}

        return await submit(errors, add, again, refused, catch=(DomainError,))

    # Anomalies

    @get("/anomalies", opt=NETWORK)
    async def anomalies(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await self._anomalies_page(request)

    async def _anomalies_page(
        self,
        request: Request[Any, Any, Any],
        *,
        status_code: int = 200,
        refusal: str | None = None,
        refused_id: uuid.UUID | None = None,
        comment: str = "",
    ) -> Response[Any]:
        status = request.query_params.get("status") or "open"
        if status not in anomalies.STATUSES:
            status, status_code = "open", 422
            refusal = translate(language(request), N_("This filter does not exist."))
        rows, total = await anomalies.listing(status=status, venue_id=None, limit=200, offset=0)
        return console(
            request,
            "network/anomalies.html",
            title=N_("Anomalies to review"),
            status_code=status_code,
            rows=rows,
            total=total,
            status=status,
            statuses=anomalies.STATUSES,
            done=done_message(request, NW_ANOMALIES_DONE, ("accepted", "rejected")),
            refusal=refusal,
            refused_id=refused_id,
            comment=comment,
        )

    @post("/anomalies/{anomaly_id:uuid}/decision", opt=NETWORK)
    async def decide(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        anomaly_id: uuid.UUID,
        data: Form,
    ) -> Response[Any]:
        lang = language(request)
        decision = data.get("decision", "")
        comment = data.get("comment", "")
        errors: dict[str, str] = {}
        if decision not in ("accept", "reject"):
            errors["decision"] = translate(lang, N_("Invalid value."))

        async def decide() -> Response[Any]:
            try:
                await anomalies.decide(
                    principal, anomaly_id, accept=decision == "accept", comment=comment
                )
            except NotFound:
                return not_found(request)
            done = "accepted" if decision == "accept" else "rejected"
            return done_redirect("/network/anomalies", done)

        async def again(errors: dict[str, str], status_code: int) -> Response[Any]:
            return await self._anomalies_page(
                request,
                status_code=status_code,
                refusal=errors["decision"],
                refused_id=anomaly_id,
                comment=comment,
            )

        def refused(error: DomainError) -> Refused:
            status, text = refusal_text(lang, error)
            if isinstance(error, InvalidValue) and error.field == "comment":
                text = translate(lang, N_("Write the reason for the decision."))
            return status, {"decision": text}

        return await submit(errors, decide, again, refused, catch=(DomainError,))


def _with_state(rows: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """Each rate marked in force, upcoming or replaced on `today`."""
    in_force: dict[tuple[str, str], date] = {}
    for row in rows:
        key = (row["workspace_kind"], row["unit"])
        if row["effective_from"] <= today and row["effective_from"] > in_force.get(key, date.min):
            in_force[key] = row["effective_from"]
    for row in rows:
        key = (row["workspace_kind"], row["unit"])
        if row["effective_from"] > today:
            row["state"] = "upcoming"
        elif row["effective_from"] == in_force.get(key):
            row["state"] = "in_force"
        else:
            row["state"] = "replaced"
    return rows


def _month_label(lang: str) -> Callable[[date], str]:
    return lambda month: month_label(lang, month)
