"""Calendar feeds over HTTP: create, list and revoke secret feeds; serve them and free/busy."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_304_NOT_MODIFIED

from booking.schemas.feeds import CalendarFeedOut, NewCalendarFeedOut
from booking.services import feeds
from service.kernel.auth import PUBLIC, CurrentPrincipal, allow
from service.kernel.identity import Role
from service.kernel.pagination import Limit, Offset, Page

CALENDAR_MEDIA_TYPE = "text/calendar; charset=utf-8"
VENUE_PEOPLE = allow(Role.VENUE_STAFF, Role.VENUE_ADMIN, Role.NETWORK_ADMIN, venue_scope="venue_id")
_CALENDAR_RESPONSES = {
    200: ResponseSpec(
        data_container=bytes, media_type="text/calendar", description="An iCalendar document"
    ),
    304: ResponseSpec(data_container=None, description="Not modified (If-None-Match)"),
}

# Creating a feed takes no Idempotency-Key on purpose: a replay would have to store the
# secret URL in clear in the idempotency records, and a duplicate feed is harmless (it is
# listed and revocable).


def _base_url(request: Request[Any, Any, Any]) -> str:
    return str(request.app.state.settings.base_url)


def _out(feed: feeds.CalendarFeedInfo) -> CalendarFeedOut:
    return msgspec.convert(feed, CalendarFeedOut, from_attributes=True)


def _created(feed: feeds.CalendarFeedInfo, url: str) -> NewCalendarFeedOut:
    return msgspec.convert({**asdict(feed), "url": url}, NewCalendarFeedOut)


def _calendar(
    request: Request[Any, Any, Any], document: feeds.CalendarDocument, *, cache: str
) -> Response[bytes]:
    headers = {"ETag": document.etag, "Cache-Control": cache}
    # A substring test also matches the weak form W/"…" that compressing proxies send back.
    wanted = request.headers.get("if-none-match", "")
    if document.etag in wanted or wanted.strip() == "*":
        return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(document.body, media_type=CALENDAR_MEDIA_TYPE, headers=headers)


class MyCalendarFeedsController(Controller):
    path = "/me/calendar-feeds"
    tags = ["calendars"]

    @post("", opt=allow(Role.AGENT), summary="Create a secret feed of my bookings (URL shown once)")
    async def create(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> NewCalendarFeedOut:
        row, url = await feeds.create_agent_feed(principal, _base_url(request))
        return _created(row, url)

    @get("", opt=allow(Role.AGENT), summary="My calendar feeds (without their secret URLs)")
    async def list_feeds(
        self, principal: CurrentPrincipal, limit: Limit = 50, offset: Offset = 0
    ) -> Page[CalendarFeedOut]:
        rows, total = await feeds.list_feeds(agent_id=principal.user_id, limit=limit, offset=offset)
        return Page([_out(r) for r in rows], total, limit, offset)

    @post(
        "/{feed_id:uuid}/revoke",
        opt=allow(Role.AGENT),
        status_code=200,
        summary="Revoke one of my feeds: its URL answers 404 from now on",
    )
    async def revoke(self, principal: CurrentPrincipal, feed_id: uuid.UUID) -> CalendarFeedOut:
        return _out(await feeds.revoke(feed_id, agent_id=principal.user_id))


class VenueCalendarFeedsController(Controller):
    path = "/venues/{venue_id:uuid}/calendar-feeds"
    tags = ["calendars"]

    @post(
        "",
        opt=VENUE_PEOPLE,
        summary="Create a secret feed of the venue's bookings (URL shown once)",
    )
    async def create(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, venue_id: uuid.UUID
    ) -> NewCalendarFeedOut:
        row, url = await feeds.create_venue_feed(principal, venue_id, _base_url(request))
        return _created(row, url)

    @get("", opt=VENUE_PEOPLE, summary="The venue's calendar feeds (without their secret URLs)")
    async def list_feeds(
        self, venue_id: uuid.UUID, limit: Limit = 50, offset: Offset = 0
    ) -> Page[CalendarFeedOut]:
        rows, total = await feeds.list_feeds(venue_id=venue_id, limit=limit, offset=offset)
        return Page([_out(r) for r in rows], total, limit, offset)

    @post(
        "/{feed_id:uuid}/revoke",
        opt=VENUE_PEOPLE,
        status_code=200,
        summary="Revoke one of the venue's feeds: its URL answers 404 from now on",
    )
    async def revoke(self, venue_id: uuid.UUID, feed_id: uuid.UUID) -> CalendarFeedOut:
        return _out(await feeds.revoke(feed_id, venue_id=venue_id))


class PublicCalendarsController(Controller):
    """Mounted at the root: calendar apps subscribe without signing in."""

    path = "/calendars"
    tags = ["calendars"]

    # Litestar path parameters are whole segments: `<token>.ics` is parsed by the service.
    @get(
        "/{feed_file:str}",
        opt=PUBLIC,
        summary="A secret calendar feed, `<token>.ics` (404 when unknown or revoked)",
        responses=_CALENDAR_RESPONSES,
    )
    async def feed(self, request: Request[Any, Any, Any], feed_file: str) -> Response[bytes]:
        document = await feeds.render(feed_file, _base_url(request))
        return _calendar(request, document, cache="private, max-age=300")

    @get(
        "/workspaces/{workspace_id:uuid}/freebusy.ics",
        opt=PUBLIC,
        summary="When a workspace is taken, today to +60 days (VFREEBUSY, no personal data)",
        responses=_CALENDAR_RESPONSES,
    )
    async def freebusy(
        self, request: Request[Any, Any, Any], workspace_id: uuid.UUID
    ) -> Response[bytes]:
        return _calendar(request, await feeds.freebusy(workspace_id), cache="public, max-age=300")
