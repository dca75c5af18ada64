"""The agent's pages: find and book a desk, my bookings, my pass (offline), my allowance."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from booking import calendars
from booking.errors import DomainError, InvalidValue, NotFound
from booking.identity import Role
from booking.services import availability, booking_lists, bookings, feeds
from booking.tables import Venue
from passes import qr
from passes.services import ensure_pass
from service.auth import CurrentPrincipal, allow
from web.consoles import refusal, today
from web.i18n import has, translate
from web.pages import language, page

AGENT = allow(Role.AGENT)
NETWORK_TZ = ZoneInfo("Europe/Paris")
SLOTS = ("day", "morning", "afternoon")
KINDS = ("desk", "meeting_room", "private_office", "lab")
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _base_url(request: Request[Any, Any, Any]) -> str:
    return str(request.app.state.settings.base_url)


def _search_form(values: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The search form's values with defaults (tomorrow, whole day, desks) and field errors."""
    errors: dict[str, str] = {}
    form = {
        "date": values.get("date") or (today() + timedelta(days=1)).isoformat(),
        "slot": values.get("slot") or "day",
        "kind": values.get("kind") or "desk",
        "commune": (values.get("commune") or "").strip(),
    }
    try:
        date.fromisoformat(form["date"])
    except ValueError:
        errors["date"] = "find.error.date"
    if form["slot"] not in SLOTS:
        errors["slot"] = "find.error.slot"
    if form["kind"] not in KINDS:
        errors["kind"] = "find.error.kind"
    return form, errors


async def _communes() -> list[str]:
    rows = await Venue.raw(
        "SELECT DISTINCT commune FROM venue WHERE status = 'approved' ORDER BY commune"
    )
    return [r["commune"] for r in rows]


class AgentController(Controller):
    path = "/agent"
    include_in_schema = False

    @get("", opt=AGENT)
    async def find(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        """Landing page: tomorrow's free desks are already listed, one button books."""
        return await self._find_page(request, principal, dict(request.query_params))

    async def _find_page(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        values: dict[str, str],
        *,
        status_code: int = 200,
        refusal: str | None = None,
    ) -> Response[Any]:
        lang = language(request)
        form, errors = _search_form(values)
        results: list[dict[str, Any]] = []
        if not errors:
            try:
                # With a slot, the search lists what is booked by the half-day or the day
                # (hourly rooms need start and end times: the API books those).
                query = availability.check(
                    availability.Search(
                        day=date.fromisoformat(form["date"]),
                        slot=form["slot"],
                        kind=form["kind"],
                        commune=form["commune"] or None,
                    ),
                    today=today(),
                )
                results, _ = await availability.search(query, 50, 0)
            except InvalidValue as error:
                # The search refuses past dates (and nothing else the form can send).
                errors[error.field or "date"] = (
                    "find.error.past" if error.field == "date" else error.detail
                )
                status_code = 422
        assert principal.user_id is not None
        return page(
            request,
            "agent/find.html",
            title_key="find.title",
            status_code=status_code if not errors else 422,
            form=form,
            errors={k: translate(lang, v) if has(v) else v for k, v in errors.items()},
            results=results,
            communes=await _communes(),
            slots=SLOTS,
            kinds=KINDS,
            refusal=refusal,
            allowance=await bookings.allowance_of(principal.user_id, today()),
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
                refusal=translate(lang, "problem.invalid-value"),
            )
        slot = data.get("slot") or "day"
        try:
            booking_id = await bookings.book(
                principal,
                bookings.BookingRequest(workspace_id=workspace_id, date=day, slot=slot),
                base_url=_base_url(request),
            )
        except DomainError as error:
            status, text = refusal(lang, error)
            return await self._find_page(request, principal, data, status_code=status, refusal=text)
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
            title_key="bookings.title",
            status_code=status_code,
            upcoming=upcoming,
            past=past,
            done=f"bookings.done.{done}" if done in ("booked", "cancelled") else None,
            feed_url=feed_url,
            feed_count=sum(1 for f in live_feeds if f["active"]),
            refusal=refusal,
        )

    @get("/bookings/{booking_id:uuid}/cancel", opt=AGENT)
    async def confirm_cancel(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, booking_id: uuid.UUID
    ) -> Response[Any]:
        """A confirmation step that works without JavaScript."""
        try:
            await bookings.get_visible(principal, booking_id)
        except NotFound:
            return page(
                request, "error.html", title_key="error.title.404", status_code=404, code=404
            )
        booking = await booking_lists.one(booking_id, _base_url(request))
        return page(
            request, "agent/cancel.html", title_key="bookings.cancel.title", booking=booking
        )

    @post("/bookings/{booking_id:uuid}/cancel", opt=AGENT)
    async def cancel(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, booking_id: uuid.UUID
    ) -> Response[Any]:
        try:
            await bookings.cancel(principal, booking_id, base_url=_base_url(request))
        except DomainError as error:
            status, text = refusal(language(request), error)
            if status == 404:
                return page(
                    request, "error.html", title_key="error.title.404", status_code=404, code=404
                )
            return await self._bookings_page(request, principal, status_code=status, refusal=text)
        return Redirect("/agent/bookings?done=cancelled", status_code=303)

    @get("/bookings/{booking_id:uuid}/calendar.ics", opt=AGENT)
    async def calendar(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, booking_id: uuid.UUID
    ) -> Response[Any]:
        """The booking's invitation, as the API's `/bookings/{id}.ics` serves it."""
        try:
            booking = await bookings.get_visible(principal, booking_id)
        except NotFound:
            return page(
                request, "error.html", title_key="error.title.404", status_code=404, code=404
            )
        entry = await bookings.calendar_entry(booking_id, _base_url(request))
        cancelled = booking["status"] in ("cancelled", "late_cancelled")
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
            (b for b in upcoming if b["status"] == "confirmed" and b["ends_at"] > now), None
        )
        return page(
            request,
            "agent/pass.html",
            title_key="pass.title",
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
