"""The venue console: workspaces, opening hours, closures, rates, door devices, statements.

A venue admin sees and changes their own venue only: the venue comes from the session,
never from the address, so there is no other venue's id to try.
"""

from __future__ import annotations

import uuid
from datetime import date, time
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect

from billing import rendering, services
from billing.tables import Payout
from booking.errors import InvalidValue, NotFound
from booking.identity import Principal, Role
from booking.services import catalogue
from service import door_devices
from service.auth import CurrentPrincipal, allow
from service.i18n import N_
from web.consoles import Form, checked, month_of, not_found, refusal, stored_document_file
from web.consoles import today as local_today
from web.i18n import Message, translate
from web.labels import VENUE_DONE
from web.pages import language, page

VENUE_ADMIN = allow(Role.VENUE_ADMIN)
UNITS = ("half_day", "day", "hour")
EQUIPMENT = sorted(catalogue.EQUIPMENT)
WEEKDAYS = range(7)
MAX_RANGES = 6  # opening ranges per day the form accepts
DONE = (
    "workspace_added",
    "workspace_saved",
    "workspace_deactivated",
    "workspace_reactivated",
    "hours_saved",
    "closure_added",
    "closure_removed",
    "device_revoked",
)


def _venue(principal: Principal) -> uuid.UUID:
    assert principal.venue_id is not None  # venue admins always belong to a venue
    return principal.venue_id


def _done(request: Request[Any, Any, Any]) -> Message | None:
    done = request.query_params.get("done")
    return VENUE_DONE.get(done) if done in DONE else None


def _rates_in_force(rates: list[dict[str, Any]], on: date) -> list[dict[str, Any]]:
    """For each kind and unit, the latest rate started on or before `on` (and the next one)."""
    in_force: dict[tuple[str, str], dict[str, Any]] = {}
    upcoming: dict[tuple[str, str], dict[str, Any]] = {}
    for rate in rates:  # ordered by kind, unit, effective_from
        key = (rate["workspace_kind"], rate["unit"])
        if rate["effective_from"] <= on:
            in_force[key] = rate
        elif key not in upcoming:
            upcoming[key] = rate
    return [
        {**rate, "next": upcoming.get(key)}
        for key, rate in sorted(in_force.items(), key=lambda item: item[0])
    ]


def _workspace_form(
    lang: str, values: dict[str, str], *, new: bool, current: list[str] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The workspace form's fields as the service takes them, and the errors by field."""
    errors: dict[str, str] = {}
    fields: dict[str, Any] = {}
    name = (values.get("name") or "").strip()
    if not name or len(name) > 200:
        errors["name"] = translate(lang, N_("Give a name (at most 200 characters)."))
    fields["name"] = name
    if new:
        kind = values.get("kind") or ""
        if kind not in catalogue.WORKSPACE_KINDS:
            errors["kind"] = translate(lang, N_("Choose a kind from the list."))
        fields["kind"] = kind
    capacity = (values.get("capacity") or "").strip()
    if not capacity.isdigit() or not 1 <= int(capacity) <= 1000:
        errors["capacity"] = translate(
            lang, N_("The capacity is a whole number of seats, from 1 to 1000.")
        )
    else:
        fields["capacity"] = int(capacity)
    unit = values.get("booking_unit") or ""
    if unit not in UNITS:
        errors["booking_unit"] = translate(lang, N_("Choose a unit from the list."))
    fields["booking_unit"] = unit
    choices = sorted({*EQUIPMENT, *(current or [])})
    fields["equipment"] = [e for e in choices if checked(values, f"equipment_{e}")]
    if current is not None and set(fields["equipment"]) == set(current):
        # Unchanged: older rows may hold names the catalogue no longer lists, keep them as is.
        del fields["equipment"]
    return fields, errors


def _hours_form(
    lang: str, values: dict[str, str]
) -> tuple[list[catalogue.Range], list[str], dict[str, str]]:
    """The week's ranges, the form field of each (for errors), and the errors by field."""
    ranges: list[catalogue.Range] = []
    names: list[str] = []
    errors: dict[str, str] = {}
    for weekday in WEEKDAYS:
        for index in range(MAX_RANGES):
            opens_name, closes_name = f"d{weekday}_{index}_opens", f"d{weekday}_{index}_closes"
            if opens_name not in values and closes_name not in values:
                break
            opens = (values.get(opens_name) or "").strip()
            closes = (values.get(closes_name) or "").strip()
            if not opens and not closes:
                continue
            parsed: list[time] = []
            for name, text in ((opens_name, opens), (closes_name, closes)):
                try:
                    parsed.append(time.fromisoformat(text))
                except ValueError:
                    errors[name] = translate(lang, N_("Write a time such as 08:30."))
            if len(parsed) != 2:
                continue
            ranges.append(catalogue.Range(weekday, parsed[0], parsed[1]))
            names.append(opens_name)
    return ranges, names, errors


def _week(hours: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each weekday with its ranges as HH:MM, plus one empty range to add one."""
    days = []
    for weekday in WEEKDAYS:
        ranges = [
            {"opens": r["opens"].strftime("%H:%M"), "closes": r["closes"].strftime("%H:%M")}
            for r in hours
            if r["weekday"] == weekday
        ]
        ranges += [{"opens": "", "closes": ""}] * max(1, 2 - len(ranges))
        days.append({"weekday": weekday, "ranges": ranges[:MAX_RANGES]})
    return days


def _week_from_form(values: dict[str, str]) -> list[dict[str, Any]]:
    days = []
    for weekday in WEEKDAYS:
        ranges = []
        for index in range(MAX_RANGES):
            prefix = f"d{weekday}_{index}_"
            if prefix + "opens" not in values and prefix + "closes" not in values:
                break
            ranges.append(
                {
                    "opens": values.get(prefix + "opens", ""),
                    "closes": values.get(prefix + "closes", ""),
                }
            )
        days.append({"weekday": weekday, "ranges": ranges or [{"opens": "", "closes": ""}]})
    return days


class VenueConsoleController(Controller):
    path = "/venue"
    include_in_schema = False

    # Workspaces and rates

    @get("", opt=VENUE_ADMIN)
    async def workspaces(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        """Landing page: the venue's workspaces, a form to add one, the rates in force."""
        return await self._workspaces_page(request, principal)

    async def _workspaces_page(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        *,
        form: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        refusal_text: str | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        venue_id = _venue(principal)
        venue = await catalogue.visible_venue(principal, venue_id)
        return page(
            request,
            "venue/workspaces.html",
            title=N_("My workspaces"),
            status_code=status_code,
            venue=venue,
            workspaces=await catalogue.workspaces_of(venue_id, include_inactive=True),
            rates=_rates_in_force(await catalogue.venue_rates(venue_id), local_today()),
            form=form or {"kind": "desk", "booking_unit": "half_day", "capacity": "", "name": ""},
            errors=errors or {},
            refusal=refusal_text,
            done=_done(request),
            kinds=catalogue.WORKSPACE_KINDS,
            units=UNITS,
            equipment=EQUIPMENT,
        )

    @post("/workspaces", opt=VENUE_ADMIN)
    async def add_workspace(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: Form
    ) -> Response[Any]:
        lang = language(request)
        fields, errors = _workspace_form(lang, data, new=True)
        if not errors:
            try:
                workspace_id = await catalogue.add_workspace(_venue(principal), fields)
            except InvalidValue as error:
                errors[error.field or "name"] = refusal(lang, error)[1]
            else:
                return Redirect(
                    f"/venue?done=workspace_added#workspace-{workspace_id}", status_code=303
                )
        return await self._workspaces_page(
            request, principal, form={**data, **fields}, errors=errors, status_code=422
        )

    @get("/workspaces/{workspace_id:uuid}", opt=VENUE_ADMIN)
    async def edit_workspace(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        workspace_id: uuid.UUID,
    ) -> Response[Any]:
        try:
            workspace = await catalogue.workspace_of(_venue(principal), workspace_id)
        except NotFound:
            return not_found(request)
        form = {**workspace, "capacity": str(workspace["capacity"])}
        return self._edit_page(request, workspace, form, {})

    def _edit_page(
        self,
        request: Request[Any, Any, Any],
        workspace: dict[str, Any],
        form: dict[str, Any],
        errors: dict[str, str],
        *,
        status_code: int = 200,
    ) -> Response[Any]:
        return page(
            request,
            "venue/workspace.html",
            title=N_("Edit a workspace"),
            status_code=status_code,
            workspace=workspace,
            form=form,
            errors=errors,
            units=catalogue.UNITS_BY_KIND[workspace["kind"]],
            equipment=sorted({*EQUIPMENT, *workspace["equipment"]}),
        )

    @post("/workspaces/{workspace_id:uuid}", opt=VENUE_ADMIN)
    async def save_workspace(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        workspace_id: uuid.UUID,
        data: Form,
    ) -> Response[Any]:
        lang = language(request)
        try:
            workspace = await catalogue.workspace_of(_venue(principal), workspace_id)
        except NotFound:
            return not_found(request)
        fields, errors = _workspace_form(
            lang, data, new=False, current=list(workspace["equipment"])
        )
        if not errors:
            try:
                await catalogue.update_workspace(_venue(principal), workspace_id, fields)
            except InvalidValue as error:
                errors[error.field or "name"] = refusal(lang, error)[1]
            else:
                return Redirect(
                    f"/venue?done=workspace_saved#workspace-{workspace_id}", status_code=303
                )
        form = {**data, "equipment": workspace["equipment"], **fields}
        return self._edit_page(request, workspace, form, errors, status_code=422)

    @post("/workspaces/{workspace_id:uuid}/deactivate", opt=VENUE_ADMIN)
    async def deactivate_workspace(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        workspace_id: uuid.UUID,
    ) -> Response[Any]:
        return await self._set_active(request, principal, workspace_id, active=False)

    @post("/workspaces/{workspace_id:uuid}/reactivate", opt=VENUE_ADMIN)
    async def reactivate_workspace(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        workspace_id: uuid.UUID,
    ) -> Response[Any]:
        return await self._set_active(request, principal, workspace_id, active=True)

    async def _set_active(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        workspace_id: uuid.UUID,
        *,
        active: bool,
    ) -> Response[Any]:
        """Deactivating keeps the workspace's history; booked seats stay booked."""
        try:
            await catalogue.update_workspace(_venue(principal), workspace_id, {"active": active})
        except NotFound:
            return not_found(request)
        done = "workspace_reactivated" if active else "workspace_deactivated"
        return Redirect(f"/venue?done={done}#workspace-{workspace_id}", status_code=303)

    # Opening hours and closures

    @get("/hours", opt=VENUE_ADMIN)
    async def hours(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        return await self._hours_page(request, principal)

    async def _hours_page(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        *,
        week: list[dict[str, Any]] | None = None,
        hours_errors: dict[str, str] | None = None,
        closure_form: dict[str, str] | None = None,
        closure_errors: dict[str, str] | None = None,
        cancelled: int | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        venue_id = _venue(principal)
        today = local_today()
        closures = await catalogue.closures_of(venue_id)
        return page(
            request,
            "venue/hours.html",
            title=N_("Opening hours and closures"),
            status_code=status_code,
            week=week or _week(await catalogue.hours_of(venue_id)),
            hours_errors=hours_errors or {},
            closures=[c for c in closures if c["ends_on"] >= today],
            past_closures=[c for c in closures if c["ends_on"] < today][-5:],
            closure_form=closure_form or {"starts_on": "", "ends_on": "", "reason": ""},
            closure_errors=closure_errors or {},
            cancelled=cancelled,
            done=_done(request),
        )

    @post("/hours", opt=VENUE_ADMIN)
    async def save_hours(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: Form
    ) -> Response[Any]:
        """Replace the whole week, as the API's PUT does; the same rules refuse overlaps."""
        lang = language(request)
        ranges, names, errors = _hours_form(lang, data)
        if not errors:
            try:
                await catalogue.replace_hours(_venue(principal), ranges)
            except InvalidValue as error:
                # The service names the range by its index in the list: map it to the field.
                field = error.field or ""
                index = field.removeprefix("hours[").split("]", 1)[0]
                name = names[int(index)] if index.isdigit() and int(index) < len(names) else ""
                if name and field.endswith(".closes"):
                    name = name.removesuffix("opens") + "closes"
                key = (
                    N_("This range overlaps another range on the same day.")
                    if "overlap" in type(error).__name__.lower()
                    else ""
                )
                if not key and field.endswith(".closes"):
                    key = N_("The closing time comes after the opening time.")
                errors[name or "d0_0_opens"] = (
                    translate(lang, key) if key else refusal(lang, error)[1]
                )
            else:
                return Redirect("/venue/hours?done=hours_saved", status_code=303)
        return await self._hours_page(
            request,
            principal,
            week=_week_from_form(data),
            hours_errors=errors,
            status_code=422,
        )

    @post("/closures", opt=VENUE_ADMIN)
    async def add_closure(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: Form
    ) -> Response[Any]:
        """A closure cancels the confirmed bookings it covers (the agents are told by email)."""
        lang = language(request)
        form = {k: (data.get(k) or "").strip() for k in ("starts_on", "ends_on", "reason")}
        errors: dict[str, str] = {}
        days: dict[str, date] = {}
        for name in ("starts_on", "ends_on"):
            try:
                days[name] = date.fromisoformat(form[name])
            except ValueError:
                errors[name] = translate(lang, N_("Choose a valid date."))
        if not form["reason"] or len(form["reason"]) > 200:
            errors["reason"] = translate(
                lang, N_("Say why the venue closes (at most 200 characters).")
            )
        if not errors and days["starts_on"] < local_today():
            errors["starts_on"] = translate(lang, N_("This date is already past."))
        if not errors:
            try:
                _, cancelled = await catalogue.add_closure(
                    _venue(principal),
                    days["starts_on"],
                    days["ends_on"],
                    form["reason"],
                    base_url=str(request.app.state.settings.base_url),
                )
            except InvalidValue as error:
                field = error.field or "reason"
                errors[field] = (
                    translate(lang, N_("The last day is on or after the first day."))
                    if field == "ends_on"
                    else refusal(lang, error)[1]
                )
            else:
                return await self._hours_page(
                    request, principal, cancelled=cancelled, status_code=201
                )
        return await self._hours_page(
            request, principal, closure_form=form, closure_errors=errors, status_code=422
        )

    @post("/closures/{closure_id:uuid}/delete", opt=VENUE_ADMIN)
    async def remove_closure(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, closure_id: uuid.UUID
    ) -> Response[Any]:
        try:
            await catalogue.remove_closure(_venue(principal), closure_id)
        except NotFound:
            return not_found(request)
        return Redirect("/venue/hours?done=closure_removed#closures-title", status_code=303)

    # Door devices

    @get("/devices", opt=VENUE_ADMIN)
    async def devices(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        return await self._devices_page(request, principal)

    async def _devices_page(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        *,
        token: str | None = None,
        created: str | None = None,
        form: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        rows = await door_devices.of_venue(_venue(principal))
        return page(
            request,
            "venue/devices.html",
            title=N_("Door devices"),
            status_code=status_code,
            devices=sorted(rows, key=lambda d: (d["revoked_at"] is not None, d["name"].lower())),
            token=token,
            created=created,
            form=form or {"name": ""},
            errors=errors or {},
            done=_done(request),
            scan_url=f"{request.app.state.settings.base_url}/scan/device",
        )

    @post("/devices", opt=VENUE_ADMIN)
    async def create_device(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: Form
    ) -> Response[Any]:
        """A scanner token, shown on this response only: only its hash is kept."""
        lang = language(request)
        name = (data.get("name") or "").strip()
        if not name or len(name) > 100:
            return await self._devices_page(
                request,
                principal,
                form={"name": name},
                errors={
                    "name": translate(
                        lang, N_("Name the device (at most 100 characters), e.g. “Front desk”.")
                    )
                },
                status_code=422,
            )
        assert principal.user_id is not None
        device, token = await door_devices.create(_venue(principal), name, principal.user_id)
        return await self._devices_page(
            request, principal, token=token, created=device["name"], status_code=201
        )

    @post("/devices/{device_id:uuid}/revoke", opt=VENUE_ADMIN)
    async def revoke_device(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, device_id: uuid.UUID
    ) -> Response[Any]:
        try:
            await door_devices.revoke(_venue(principal), device_id)
        except NotFound:
            return not_found(request)
        return Redirect(f"/venue/devices?done=device_revoked#device-{device_id}", status_code=303)

    # Statements

    @get("/statements", opt=VENUE_ADMIN)
    async def statements(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        """The self-billing statements by month, with totals and how far the payout has gone."""
        lang = language(request)
        asked = request.query_params.get("period") or ""
        period = month_of(asked)
        error = translate(lang, N_("Choose a valid month.")) if asked and period is None else None
        rows, total = await services.list_documents(principal, "statement", period, 120, 0)
        payout_rows = await Payout.select(Payout.statement, Payout.status).where(
            Payout.venue == _venue(principal)
        )
        status_of = {p["statement"]: p["status"] for p in payout_rows}
        return page(
            request,
            "venue/statements.html",
            title=N_("Self-billing statements"),
            status_code=422 if error else 200,
            statements=[{**r, "payout": status_of.get(r["id"])} for r in rows],
            total=total,
            period=asked,
            error=error,
        )

    @get("/statements/{statement_id:uuid}", opt=VENUE_ADMIN)
    async def statement(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, statement_id: uuid.UUID
    ) -> Response[Any]:
        return await self._statement_page(request, principal, statement_id)

    async def _statement_page(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        statement_id: uuid.UUID,
        *,
        rendering_notice: bool = False,
    ) -> Response[Any]:
        try:
            document = await services.get_document(principal, "statement", statement_id)
        except NotFound:
            return not_found(request)
        usage = await services.usage_behind(principal, "statement", statement_id)
        payout = await Payout.select(Payout.status).where(Payout.statement == statement_id).first()
        response = page(
            request,
            "venue/statement.html",
            title=N_("Statement"),
            status_code=503 if rendering_notice else 200,
            document=document,
            usage=usage,
            payout=payout["status"] if payout else None,
            rendering=rendering_notice,
        )
        if rendering_notice:
            response.headers["Retry-After"] = str(rendering.NotRenderedYet.retry_after)
        return response

    @get("/statements/{statement_id:uuid}/pdf", opt=VENUE_ADMIN)
    async def statement_pdf(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, statement_id: uuid.UUID
    ) -> Response[Any]:
        """The stored Factur-X PDF; if the worker has not made it yet, queue it and say so."""
        try:
            document = await services.get_document(principal, "statement", statement_id)
        except NotFound:
            return not_found(request)
        response = await stored_document_file(request, document, rendering.FACTURX_PDF)
        if response is None:
            return await self._statement_page(
                request, principal, statement_id, rendering_notice=True
            )
        return response
