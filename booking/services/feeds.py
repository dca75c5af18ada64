"""Calendar feeds: secret subscription URLs for an agent's or a venue's bookings, and free/busy.

A feed's URL carries a random token; only its SHA-256 is stored, so the URL is shown once
and a leaked database gives no working URL. Revoking is setting `revoked_at`. A venue feed
also stops answering when the person who created it no longer works for the venue (or was
deactivated): it shows agents' names, which only the venue's current people may read.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from booking import calendars
from booking.errors import FeedAlreadyRevoked
from booking.services.accounts import hash_token
from booking.tables import CalendarFeed, Venue, Workspace
from service.kernel import audit
from service.kernel.errors import NotFound
from service.kernel.i18n import N_
from service.kernel.identity import Principal

TOKEN_BYTES = 32
# Subscribed calendars keep the recent past (expense reports, "where was I on …").
PAST_DAYS = 90
FREEBUSY_DAYS = 60
_FEED_FILE = re.compile(r"^(?P<token>[A-Za-z0-9_-]{20,128})\.ics$")

# Whether a feed still answers: not revoked, and its creator still entitled to it.
_ACTIVE = """
    f.revoked_at IS NULL AND c.active AND (
        (f.kind = 'agent' AND c.id = f.agent)
        OR (f.kind = 'venue' AND (c.role = 'network_admin' OR c.venue = f.venue))
    )
"""
_SELECT_FEED = f"""
SELECT f.id, f.kind, f.agent AS agent_id, f.venue AS venue_id, f.created_by, f.created_at,
       f.revoked_at, ({_ACTIVE}) AS active
  FROM calendar_feed f JOIN app_user c ON c.id = f.created_by
"""


@dataclass(frozen=True)
class CalendarFeedInfo:
    """A calendar feed as its owner manages it (never its token)."""

    id: uuid.UUID
    kind: str  # agent | venue
    agent_id: uuid.UUID | None
    venue_id: uuid.UUID | None
    created_by: uuid.UUID
    created_at: datetime
    revoked_at: datetime | None
    # False once revoked, or once its creator left the venue or was deactivated.
    active: bool


@dataclass(frozen=True)
class CalendarDocument:
    """A rendered calendar and a validator of its content, for conditional GETs."""

    body: bytes
    etag: str


def feed_url(base_url: str, token: str) -> str:
    return f"{base_url}/calendars/{token}.ics"


def _etag(*parts: object) -> str:
    return '"' + hashlib.sha256(repr(parts).encode()).hexdigest()[:32] + '"'


async def _one(feed_id: uuid.UUID) -> CalendarFeedInfo:
    rows = await CalendarFeed.raw(_SELECT_FEED + " WHERE f.id = {}", feed_id)
    return CalendarFeedInfo(**rows[0])


async def _create(
    principal: Principal, *, agent_id: uuid.UUID | None, venue_id: uuid.UUID | None
) -> tuple[CalendarFeedInfo, str]:
    assert principal.user_id is not None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    feed = CalendarFeed(
        kind="agent" if agent_id else "venue",
        agent=agent_id,
        venue=venue_id,
        token_hash=hash_token(token),
        created_by=principal.user_id,
    )
    async with CalendarFeed._meta.db.transaction():
        await feed.save()
        await audit.act(
            "calendar_feed.create",
            "calendar_feed",
            feed.id,
            after={"kind": feed.kind, "agent": agent_id, "venue": venue_id},
        )
    return await _one(feed.id), token


async def create_agent_feed(principal: Principal, base_url: str) -> tuple[CalendarFeedInfo, str]:
    """A feed of the calling agent's own bookings. Returns the feed and its secret URL."""
    feed, token = await _create(principal, agent_id=principal.user_id, venue_id=None)
    return feed, feed_url(base_url, token)


async def create_venue_feed(
    principal: Principal, venue_id: uuid.UUID, base_url: str
) -> tuple[CalendarFeedInfo, str]:
    """A feed of a venue's bookings, for its staff. Returns the feed and its secret URL."""
    if not await Venue.exists().where(Venue.id == venue_id):
        raise NotFound(N_("No such venue."))
    feed, token = await _create(principal, agent_id=None, venue_id=venue_id)
    return feed, feed_url(base_url, token)


def _owner(agent_id: uuid.UUID | None, venue_id: uuid.UUID | None) -> tuple[str, list[Any]]:
    if agent_id is not None:
        return "f.kind = 'agent' AND f.agent = {}", [agent_id]
    return "f.kind = 'venue' AND f.venue = {}", [venue_id]


async def list_feeds(
    *,
    agent_id: uuid.UUID | None = None,
    venue_id: uuid.UUID | None = None,
    limit: int,
    offset: int,
) -> tuple[list[CalendarFeedInfo], int]:
    """The feeds of one agent or one venue, newest first (never their tokens)."""
    where, args = _owner(agent_id, venue_id)
    total = await CalendarFeed.raw(
        f"SELECT count(*) AS n FROM calendar_feed f WHERE {where}", *args
    )
    rows = await CalendarFeed.raw(
        f"{_SELECT_FEED} WHERE {where} ORDER BY f.created_at DESC, f.id LIMIT {{}} OFFSET {{}}",
        *args,
        limit,
        offset,
    )
    return [CalendarFeedInfo(**r) for r in rows], int(total[0]["n"])


async def revoke(
    feed_id: uuid.UUID,
    *,
    agent_id: uuid.UUID | None = None,
    venue_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> CalendarFeedInfo:
    """Revoke one feed of this agent or venue; its URL answers 404 from now on."""
    where, args = _owner(agent_id, venue_id)
    async with CalendarFeed._meta.db.transaction():
        rows = await CalendarFeed.raw(
            f"SELECT f.revoked_at FROM calendar_feed f WHERE f.id = {{}} AND {where} FOR UPDATE",
            feed_id,
            *args,
        )
        if not rows:
            raise NotFound(N_("No such calendar feed."))
        if rows[0]["revoked_at"] is not None:
            raise FeedAlreadyRevoked()
        revoked_at = now or datetime.now(UTC)
        await CalendarFeed.update({CalendarFeed.revoked_at: revoked_at}).where(
            CalendarFeed.id == feed_id
        )
        await audit.act(
            "calendar_feed.revoke",
            "calendar_feed",
            feed_id,
            before={"revoked_at": None},
            after={"revoked_at": revoked_at},
        )
    return await _one(feed_id)


async def revoke_all_created_by(user_id: uuid.UUID, actor: audit.Actor | None = None) -> int:
    """Revoke every feed this person created (call inside the caller's transaction).

    A password reset and "sign out everywhere" are what a person does when they fear someone
    else used their account; a secret URL made meanwhile would otherwise keep showing their
    bookings (or their venue's) after every session has ended. Returns how many were revoked.
    """
    rows = await CalendarFeed.raw(
        "UPDATE calendar_feed SET revoked_at = now() WHERE created_by = {} AND revoked_at IS NULL"
        " RETURNING id",
        user_id,
    )
    if rows:
        await audit.record(
            actor or audit.CURRENT.get() or audit.SYSTEM,
            "calendar_feed.revoke_all",
            "user",
            user_id,
            after={"calendar_feeds": sorted(str(row["id"]) for row in rows)},
        )
    return len(rows)


def token_from_file_name(feed_file: str) -> str:
    """`<token>.ics` → token; anything else is simply not a feed."""
    match = _FEED_FILE.match(feed_file)
    if match is None:
        raise NotFound(N_("No such calendar."))
    return match.group("token")


async def render(feed_file: str, base_url: str, now: datetime | None = None) -> CalendarDocument:
    """The calendar behind a secret URL: the past 90 days and everything ahead."""
    token = token_from_file_name(feed_file)
    rows = await CalendarFeed.raw(
        f"""
        SELECT f.kind, f.agent, f.venue, v.name AS venue_name
          FROM calendar_feed f JOIN app_user c ON c.id = f.created_by
          LEFT JOIN venue v ON v.id = f.venue
         WHERE f.token_hash = {{}} AND {_ACTIVE}
        """,
        hash_token(token),
    )
    if not rows:
        raise NotFound(N_("No such calendar, or it was revoked."))
    feed = rows[0]
    since = (now or datetime.now(UTC)) - timedelta(days=PAST_DAYS)
    if feed["kind"] == "agent":
        name = "Mes réservations Pass Tiers-Lieux"
        entries = await _entries("b.agent = {}", feed["agent"], since, base_url, by_agent=False)
    else:
        name = f"Réservations Pass Tiers-Lieux — {feed['venue_name']}"
        entries = await _entries("b.venue = {}", feed["venue"], since, base_url, by_agent=True)
    body = calendars.feed(name, entries)
    return CalendarDocument(body=body, etag=_etag(hashlib.sha256(body).hexdigest()))


async def _entries(
    where: str, owner: uuid.UUID, since: datetime, base_url: str, *, by_agent: bool
) -> list[calendars.CalendarEntry]:
    rows = await CalendarFeed.raw(
        f"""
        SELECT b.id, b.sequence, b.starts_at, b.ends_at, b.status, b.updated_at,
               w.name AS workspace_name, v.name AS venue_name,
               v.address || ', ' || v.postcode || ' ' || v.commune AS address,
               v.latitude, v.longitude, v.timezone, u.display_name AS agent_name
          FROM booking b JOIN workspace w ON w.id = b.workspace
          JOIN venue v ON v.id = b.venue JOIN app_user u ON u.id = b.agent
         WHERE {where} AND b.ends_at >= {{}}
         ORDER BY b.starts_at, b.id
        """,
        owner,
        since,
    )
    return [
        calendars.CalendarEntry(
            booking_id=row["id"],
            sequence=row["sequence"],
            starts_at=row["starts_at"],
            ends_at=row["ends_at"],
            timezone=row["timezone"],
            status=row["status"],
            # The venue's people see who comes (their own data); never an email.
            summary=(
                f"{row['agent_name']} — {row['workspace_name']}"
                if by_agent
                else f"{row['workspace_name']} — {row['venue_name']}"
            ),
            venue_name=row["venue_name"],
            address=row["address"],
            latitude=row["latitude"],
            longitude=row["longitude"],
            url=f"{base_url}/api/v1/bookings/{row['id']}",
            updated_at=row["updated_at"],
        )
        for row in rows
    ]


async def freebusy(workspace_id: uuid.UUID, now: datetime | None = None) -> CalendarDocument:
    """When a workspace is taken, today to +60 days: whole-room bookings and full desk halves.

    Public, so it says nothing but busy periods: no names, no emails, no booking ids.
    """
    now = now or datetime.now(UTC)
    rows = await Workspace.raw(
        """
        SELECT w.name, w.active, v.name AS venue_name, v.status, v.timezone,
               v.morning_start, v.morning_end, v.afternoon_start, v.afternoon_end
          FROM workspace w JOIN venue v ON v.id = w.venue
         WHERE w.id = {}
        """,
        workspace_id,
    )
    if not rows or not rows[0]["active"] or rows[0]["status"] != "approved":
        raise NotFound(N_("No such workspace."))
    place = rows[0]
    zone = ZoneInfo(place["timezone"])
    today = now.astimezone(zone).date()
    last = today + timedelta(days=FREEBUSY_DAYS)
    window = (_midnight(today, zone), _midnight(last + timedelta(days=1), zone))
    rooms = await Workspace.raw(
        """
        SELECT starts_at, ends_at FROM booking
         WHERE workspace = {} AND exclusive AND status IN ('confirmed', 'checked_in', 'completed')
           AND starts_at < {} AND ends_at > {}
        """,
        workspace_id,
        window[1],
        window[0],
    )
    # A shared desk area is busy only when its counter is full (the same row the booking
    # locks), never per person.
    full_halves = await Workspace.raw(
        """
        SELECT local_date, half FROM seat_occupancy
         WHERE workspace = {} AND seats_taken >= capacity AND local_date BETWEEN {} AND {}
        """,
        workspace_id,
        today,
        last,
    )
    busy = [(r["starts_at"], r["ends_at"]) for r in rooms]
    for row in full_halves:
        opens, closes = (
            (place["morning_start"], place["morning_end"])
            if row["half"] == "am"
            else (place["afternoon_start"], place["afternoon_end"])
        )
        busy.append(
            (
                datetime.combine(row["local_date"], opens, tzinfo=zone),
                datetime.combine(row["local_date"], closes, tzinfo=zone),
            )
        )
    periods = [
        (max(start, window[0]).astimezone(UTC), min(end, window[1]).astimezone(UTC))
        for start, end in calendars.merge_periods(busy)
    ]
    name = f"{place['name']} — {place['venue_name']} (disponibilités)"
    body = calendars.freebusy(
        name, f"freebusy-{workspace_id}@{calendars.UID_DOMAIN}", window, periods, stamp=now
    )
    # DTSTAMP changes at every request; the validator covers only what it describes.
    return CalendarDocument(body=body, etag=_etag(name, window, periods))


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)
