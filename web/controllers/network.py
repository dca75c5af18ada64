"""The network console: dashboard and map, venue applications, rate cards, anomalies to review."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from billing.close import paris_today
from billing.payouts import NothingToPay
from billing.services import parse_period
from booking.errors import DomainError, InvalidValue, NotFound
from booking.identity import Role
from booking.services import catalogue
from booking.tables import Organisation
from passes import anomalies, indicators
from service.auth import CurrentPrincipal, allow
from service.i18n import N_
from service.problems import problem_for
from web import charts
from web.consoles import not_found, previous_month
from web.i18n import month_label, translate
from web.labels import NETWORK_REFUSAL, NW_ANOMALIES_DONE, NW_VENUES_DONE, REFUSAL
from web.pages import language, page

NETWORK = allow(Role.NETWORK_ADMIN)
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
DASHBOARD_MONTHS = 6
# What the buttons of an application or a venue ask for, and the status it leads to.
STATUS_ACTIONS = {"approve": "approved", "reject": "closed", "suspend": "suspended"}
MAX_CENTS = 100_000_000  # the API's bound on an amount (booking/schemas/catalogue.py)


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
    return problem.status, error.detail


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


def parse_euros(text: str) -> int:
    """'12,50' or '12.50' euros in cents; refuses more than two decimals or a negative amount."""
    cleaned = text.strip().replace("\u202f", "").replace(" ", "").replace("€", "").replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InvalidValue(
            N_("Give a price in euros, zero or more, with at most two decimals (e.g. 12.50)."),
            field="amount",
        ) from None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise InvalidValue(
            N_("Give a price in euros, zero or more, with at most two decimals (e.g. 12.50)."),
            field="amount",
        )
    cents = int(value * 100)
    if not 0 <= cents <= MAX_CENTS:
        raise InvalidValue(
            N_("Give a price in euros, zero or more, with at most two decimals (e.g. 12.50)."),
            field="amount",
        )
    return cents


def parse_vat_percent(text: str) -> Decimal:
    """'20' or '5,5' (per cent) as the API's decimal rate 0.20 / 0.055."""
    try:
        value = Decimal(text.strip().replace(",", ".").replace("%", ""))
    except InvalidOperation:
        raise InvalidValue(
            N_("Give a VAT rate in per cent (e.g. 20 or 5.5)."), field="vat"
        ) from None
    if not value.is_finite():
        raise InvalidValue(N_("Give a VAT rate in per cent (e.g. 20 or 5.5)."), field="vat")
    return value / 100


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
        pending, _ = await catalogue.list_venues(
            principal, status="applied", commune=None, service=None, limit=200, offset=0
        )
        every, _ = await catalogue.list_venues(
            principal, status=None, commune=None, service=None, limit=1000, offset=0
        )
        done = request.query_params.get("done")
        return console(
            request,
            "network/venues.html",
            title=N_("Venues and applications"),
            status_code=status_code,
            pending=pending,
            others=[v for v in every if v["status"] != "applied"],
            done=NW_VENUES_DONE.get(done) if done in STATUS_ACTIONS else None,
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
        if action not in STATUS_ACTIONS:
            return await self._venues_page(
                request,
                principal,
                status_code=422,
                refusal=translate(lang, N_("Invalid value.")),
            )
        try:
            await catalogue.change_status(venue_id, STATUS_ACTIONS[action])
        except NotFound:
            return not_found(request)
        except DomainError as error:
            status, text = refusal_text(lang, error)
            return await self._venues_page(request, principal, status_code=status, refusal=text)
        return Redirect(f"/network/venues?done={action}#venue-{venue_id}", status_code=303)

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
        venues, _ = await catalogue.list_venues(
            request.scope["user"], status=None, commune=None, service=None, limit=1000, offset=0
        )
        organisations = (
            await Organisation.select(Organisation.id, Organisation.name)
            .where(Organisation.active == True)  # noqa: E712
            .order_by(Organisation.name)
        )
        try:
            kind, owner_id = _owner(owner)
        except InvalidValue:
            kind, owner_id, owner = "default", None, "default"
            errors = {**errors, "owner": N_("Pick a card from the list.")}
            status_code = 422
        try:
            rows = (
                await catalogue.venue_rates(owner_id)
                if kind == "venue" and owner_id is not None
                else await catalogue.organisation_rates(owner_id)
            )
        except NotFound:
            return not_found(request)
        known = (
            {str(v["id"]) for v in venues}
            if kind == "venue"
            else {str(o["id"]) for o in organisations}
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
            venues=venues,
            organisations=organisations,
            rates=_with_state(rows, paris_today()),
            form={
                "workspace_kind": form.get("workspace_kind", "desk"),
                "unit": form.get("unit", "half_day"),
                "amount": form.get("amount", ""),
                "vat": form.get("vat", "20"),
                "effective_from": form.get("effective_from", ""),
            },
            errors={k: translate(lang, v) if v else v for k, v in errors.items()},
            kinds=catalogue.WORKSPACE_KINDS,
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
            kind, owner_id = _owner(owner)
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
            ("effective_from", lambda: _day(data.get("effective_from", ""))),
        ):
            try:
                fields[name] = parse()
            except InvalidValue as error:
                errors[error.field or name] = error.detail
        if errors:
            return await self._rates_page(request, owner, data, errors, status_code=422)
        try:
            if kind == "venue":
                assert owner_id is not None
                await catalogue.add_venue_rate(owner_id, fields)
            else:
                await catalogue.add_organisation_rate(owner_id, fields)
        except NotFound:
            return not_found(request)
        except DomainError as error:
            status, text = refusal_text(language(request), error)
            field = {"amount_cents": "amount", "vat_rate": "vat"}.get(error.field or "")
            return await self._rates_page(
                request,
                owner,
                data,
                {field or error.field or "effective_from": text},
                status_code=status,
            )
        return Redirect(f"/network/rates?owner={owner}&done=added", status_code=303)

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
        done = request.query_params.get("done")
        return console(
            request,
            "network/anomalies.html",
            title=N_("Anomalies to review"),
            status_code=status_code,
            rows=rows,
            total=total,
            status=status,
            statuses=anomalies.STATUSES,
            done=NW_ANOMALIES_DONE.get(done) if done in ("accepted", "rejected") else None,
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
        if decision not in ("accept", "reject"):
            return await self._anomalies_page(
                request,
                status_code=422,
                refusal=translate(lang, N_("Invalid value.")),
                refused_id=anomaly_id,
                comment=comment,
            )
        try:
            await anomalies.decide(
                principal, anomaly_id, accept=decision == "accept", comment=comment
            )
        except NotFound:
            return not_found(request)
        except DomainError as error:
            status, text = refusal_text(lang, error)
            if isinstance(error, InvalidValue) and error.field == "comment":
                text = translate(lang, N_("Write the reason for the decision."))
            return await self._anomalies_page(
                request,
                status_code=status,
                refusal=text,
                refused_id=anomaly_id,
                comment=comment,
            )
        done = "accepted" if decision == "accept" else "rejected"
        return Redirect(f"/network/anomalies?done={done}", status_code=303)


def _owner(text: str) -> tuple[str, uuid.UUID | None]:
    """`default`, `venue:<id>` or `organisation:<id>`: whose rate card a form is about."""
    if text == "default":
        return "default", None
    kind, _, raw = text.partition(":")
    if kind not in ("venue", "organisation"):
        raise InvalidValue(N_("Pick a card from the list."), field="owner")
    try:
        return kind, uuid.UUID(raw)
    except ValueError:
        raise InvalidValue(N_("Pick a card from the list."), field="owner") from None


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidValue(N_("Give a date (YYYY-MM-DD)."), field="effective_from") from None


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
