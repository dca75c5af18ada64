"""The agent's pages: find and book a desk, my bookings, my pass (offline), my allowance."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from billing.close import NETWORK_TZ
from booking import calendars
from booking.services import (
    allowance,
    announcements,
    availability,
    booking_lists,
    cancellations,
    directory,
    feeds,
    placement,
    venues,
)
from passes import qr
from passes.services import ensure_pass
from service.kernel.auth import CurrentPrincipal, allow
from service.kernel.dates import DateOutOfRange, within_range
from service.kernel.errors import DomainError, InvalidValue, NotFound
from service.kernel.i18n import N_
from service.kernel.identity import Role
from web import charts, maps
from web.consoles import refusal, today
from web.i18n import format_distance, translate
from web.labels import BOOKINGS_DONE
from web.pages import language, page

AGENT = allow(Role.AGENT)
SLOTS = ("day", "morning", "afternoon")
KINDS = ("desk", "meeting_room", "private_office", "lab")
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _base_url(request: Request[Any, Any, Any]) -> str:
    return str(request.app.state.settings.base_url)


RADII = ("0", "5", "15", "30")  # km; "0" is the commune itself, as a plain filter
DEFAULT_RADIUS = "15"
HOURLY_KINDS = ("meeting_room",)  # booked by the hour: a start and an end instead of a slot


@dataclass(frozen=True)
class Commune:
    """A commune of the network, placed at the mean position of its approved venues."""

    name: str
    latitude: Decimal
    longitude: Decimal


def _parse_time(text: str) -> time | None:
    try:
        return time.fromisoformat(text)
    except ValueError:
        return None


def _search_form(
    values: dict[str, str], communes: dict[str, Commune]
) -> tuple[dict[str, str], dict[str, str]]:
    """The search form's values with defaults (tomorrow, whole day, desks) and field errors.

    `near` is a commune of the network (`commune`, the older name of the field, still
    works and keeps its plain filter); `radius` 0 filters on the commune, more searches
    around it, nearest first.
    """
    errors: dict[str, str] = {}
    legacy = (values.get("commune") or "").strip()
    near = (values.get("near") or "").strip() or legacy
    form = {
        "date": values.get("date") or (today() + timedelta(days=1)).isoformat(),
        "slot": values.get("slot") or "day",
        "kind": values.get("kind") or "desk",
        "near": near,
        "radius": (values.get("radius") or "").strip()
        or ("0" if legacy and not values.get("near") else DEFAULT_RADIUS),
        "start": (values.get("start") or "09:00").strip()[:5],
        "end": (values.get("end") or "10:00").strip()[:5],
    }
    try:
        within_range(date.fromisoformat(form["date"]))
    except DateOutOfRange as error:
        errors["date"] = error.message
    except ValueError:
        errors["date"] = N_("Choose a valid date.")
    if form["kind"] not in KINDS:
        errors["kind"] = N_("Choose a kind from the list.")
    if form["kind"] in HOURLY_KINDS:
        start, end = _parse_time(form["start"]), _parse_time(form["end"])
        for field, moment in (("start", start), ("end", end)):
            if moment is None:
                errors[field] = N_("Give a time as hh:mm.")
            elif moment.minute % 30 or moment.second:
                errors[field] = N_("Choose a whole or half hour (hh:00 or hh:30).")
        if start and end and "start" not in errors and "end" not in errors and end <= start:
            errors["end"] = N_("The end must come after the start.")
    elif form["slot"] not in SLOTS:
        errors["slot"] = N_("Choose a slot from the list.")
    if form["radius"] not in RADII:
        errors["radius"] = N_("Choose a distance from the list.")
    if near:
        known = communes.get(near.casefold())
        if known is None:
            errors["near"] = N_(
                "No place of the network in that town. Choose a town from the list."
            )
        else:
            form["near"] = known.name
    return form, errors


async def _communes() -> dict[str, Commune]:
    """The network's communes by their case-folded name, for typed names to match."""
    rows = await venues.approved_communes()
    return {
        r["commune"].casefold(): Commune(r["commune"], r["latitude"], r["longitude"]) for r in rows
    }


def _search_of(form: dict[str, str], communes: dict[str, Commune]) -> availability.Search:
    """The availability search for a valid form: a slot or hours, a commune or around it."""
    hourly = form["kind"] in HOURLY_KINDS
    near = communes.get(form["near"].casefold()) if form["near"] else None
    around = near is not None and form["radius"] != "0"
    return availability.Search(
        day=date.fromisoformat(form["date"]),
        slot=None if hourly else form["slot"],
        start=time.fromisoformat(form["start"]) if hourly else None,
        end=time.fromisoformat(form["end"]) if hourly else None,
        kind=form["kind"],
        commune=near.name if near is not None and not around else None,
        lat=near.latitude if around and near else None,
        lon=near.longitude if around and near else None,
        radius_km=Decimal(form["radius"]) if around else None,
    )


async def _anything_open(query: availability.Search) -> bool:
    """Whether some approved venue opens for the whole range that day (closures aside)."""
    return await venues.any_venue_open(query.day.weekday(), query.start, query.end)


class AgentController(Controller):
    path = "/agent"
    include_in_schema = False

    @get("", opt=AGENT)
    async def find(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        """Landing page: tomorrow's free desks are listed; near a commune, nearest first, on a map."""
        return await self._find_page(request, principal, dict(request.query_params))

    async def _find_page(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        values: dict[str, str],
        *,
        status_code: int = 200,
        refusal: str | None = None,
        field_errors: dict[str, str] | None = None,
    ) -> Response[Any]:
        lang = language(request)
        communes = await _communes()
        form, errors = _search_form(values, communes)
        results: list[dict[str, Any]] = []
        if not errors:
            try:
                query = availability.check(_search_of(form, communes), today=today())
                results, _ = await availability.search(query, 50, 0)
                if not results and query.start is not None and not await _anything_open(query):
                    errors["start"] = N_("No place is open for these hours that day.")
            except InvalidValue as error:
                # The search refuses past dates (and nothing else the form can send).
                errors[error.field or "date"] = (
                    N_("This date is already past.") if error.field == "date" else error.detail
                )
                status_code = 422
        errors.update(field_errors or {})
        for venue in results:
            if venue["distance_km"] is not None:
                venue["distance_text"] = translate(
                    lang, N_("%(km)s km away"), km=format_distance(lang, venue["distance_km"])
                )
        near = communes.get(form["near"].casefold()) if form["near"] else None
        centre = (
            (float(near.latitude), float(near.longitude))
            if near is not None and form["radius"] != "0"
            else None
        )
        assert principal.user_id is not None
        return page(
            request,
            "agent/find.html",
            title=N_("Find a desk"),
            status_code=status_code if not errors else 422,
            form=form,
            errors={k: translate(lang, v) if v else v for k, v in errors.items()},
            results=results,
            results_map=charts.venue_map(results, centre=centre, width=360, height=300),
            street_map=maps.tile_map(
                request.app.state.settings,
                lang,
                "results-street-map",
                results,
                await directory.by_ids([r["id"] for r in results]),
                lambda v: f"#venue-{v['id']}",
            ),
            centre_name=near.name if centre and near else None,
            hourly=form["kind"] in HOURLY_KINDS,
            communes=[c.name for c in communes.values()],
            slots=SLOTS,
            kinds=KINDS,
            radii=RADII,
            refusal=refusal,
            allowance=await allowance.allowance_of(principal.user_id, today()),
        )

    @post("/bookings", opt=AGENT)
    async def book(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: Form
    ) -> Response[Any]:
        lang = language(request)
        try:
            workspace_id = uuid.UUID(data.get("workspace_id", ""))
            day = date.fromisoformat(data.get("date", ""))
        except ValueError:
            return await self._find_page(
                request,
                principal,
                data,
                status_code=422,
                refusal=translate(lang, N_("Invalid value.")),
            )
        start, end = _parse_time(data.get("start") or ""), _parse_time(data.get("end") or "")
        hourly = data.get("kind") in HOURLY_KINDS and bool(data.get("start") or data.get("end"))
        if hourly and (start is None or end is None):
            return await self._find_page(
                request,
                principal,
                data,
                status_code=422,
                refusal=translate(lang, N_("Invalid value.")),
            )
        request_ = placement.BookingRequest(
            workspace_id=workspace_id,
            date=day,
            slot=None if hourly else (data.get("slot") or "day"),
            start=datetime.combine(day, start) if hourly and start else None,
            end=datetime.combine(day, end) if hourly and end else None,
        )
        try:
            booking_id = await placement.book(principal, request_, base_url=_base_url(request))
        except DomainError as error:
            status, text = refusal(lang, error)
            # A refused time (closed then, wrong half-hour) goes next to its field.
            beside = {error.field: text} if hourly and error.field in ("start", "end") else {}
            return await self._find_page(
                request,
                principal,
                data,
                status_code=status,
                refusal=None if beside else text,
                field_errors=beside,
            )
        return Redirect(f"/agent/bookings?done=booked#booking-{booking_id}", status_code=303)

    @get("/bookings", opt=AGENT)
    async def my_bookings(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        return await self._bookings_page(request, principal)

    async def _bookings_page(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        *,
        feed_url: str | None = None,
        status_code: int = 200,
        refusal: str | None = None,
    ) -> Response[Any]:
        assert principal.user_id is not None
        base = _base_url(request)
        upcoming, _ = await booking_lists.for_agent(
            principal.user_id, upcoming=True, today=today(), limit=100, offset=0, base_url=base
        )
        past, _ = await booking_lists.for_agent(
            principal.user_id, upcoming=False, today=today(), limit=30, offset=0, base_url=base
        )
        live_feeds, _ = await feeds.list_feeds(agent_id=principal.user_id, limit=100, offset=0)
        done = request.query_params.get("done")
        return page(
            request,
            "agent/bookings.html",
            title=N_("My bookings"),
            status_code=status_code,
            upcoming=upcoming,
            past=past,
            done=BOOKINGS_DONE.get(done) if done in ("booked", "cancelled") else None,
            feed_url=feed_url,
            feed_count=sum(1 for f in live_feeds if f.active),
            refusal=refusal,
        )

    @get("/bookings/{booking_id:uuid}/cancel", opt=AGENT)
    async def confirm_cancel(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, booking_id: uuid.UUID
    ) -> Response[Any]:
        """A confirmation step that works without JavaScript."""
        try:
            await booking_lists.get_visible(principal, booking_id)
        except NotFound:
            return page(
                request, "error.html", title=N_("Page not found"), status_code=404, code=404
            )
        booking = await booking_lists.one(booking_id, _base_url(request))
        return page(request, "agent/cancel.html", title=N_("Cancel this booking?"), booking=booking)

    @post("/bookings/{booking_id:uuid}/cancel", opt=AGENT)
    async def cancel(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, booking_id: uuid.UUID
    ) -> Response[Any]:
        try:
            await cancellations.cancel(principal, booking_id, base_url=_base_url(request))
        except DomainError as error:
            status, text = refusal(language(request), error)
            if status == 404:
                return page(
                    request, "error.html", title=N_("Page not found"), status_code=404, code=404
                )
            return await self._bookings_page(request, principal, status_code=status, refusal=text)
        return Redirect("/agent/bookings?done=cancelled", status_code=303)

    @get("/bookings/{booking_id:uuid}/calendar.ics", opt=AGENT)
    async def calendar(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, booking_id: uuid.UUID
    ) -> Response[Any]:
        """The booking's invitation, as the API's `/bookings/{id}.ics` serves it."""
        try:
            booking = await booking_lists.get_visible(principal, booking_id)
        except NotFound:
            return page(
                request, "error.html", title=N_("Page not found"), status_code=404, code=404
            )
        entry = await announcements.calendar_entry(booking_id, _base_url(request))
        cancelled = booking.status in ("cancelled", "late_cancelled")
        return Response(
            calendars.invitation(entry, cancel=cancelled),
            media_type="text/calendar; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="reservation-{booking_id}.ics"'},
        )

    @post("/calendar-feed", opt=AGENT)
    async def create_feed(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        """A new secret feed; its URL is shown on this response only (it is stored hashed)."""
        _, url = await feeds.create_agent_feed(principal, _base_url(request))
        return await self._bookings_page(request, principal, feed_url=url, status_code=201)

    @get("/pass", opt=AGENT)
    async def my_pass(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        assert principal.user_id is not None
        issued = await ensure_pass(principal.user_id, request.app.state.keyring)
        upcoming, _ = await booking_lists.for_agent(
            principal.user_id,
            upcoming=True,
            today=today(),
            limit=5,
            offset=0,
            base_url=_base_url(request),
        )
        now = datetime.now(UTC)
        next_booking = next(
            (b for b in upcoming if b.status == "confirmed" and b.ends_at > now), None
        )
        return page(
            request,
            "agent/pass.html",
            title=N_("My pass"),
            issued=issued,
            zone=NETWORK_TZ,
            next_booking=next_booking,
        )

    @get("/pass.svg", opt=AGENT)
    async def my_pass_qr(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[bytes]:
        assert principal.user_id is not None
        issued = await ensure_pass(principal.user_id, request.app.state.keyring)
        # no-store for HTTP caches; the service worker keeps its own copy for offline use.
        return Response(
            qr.svg(issued.token), media_type="image/svg+xml", headers={"Cache-Control": "no-store"}
        )
