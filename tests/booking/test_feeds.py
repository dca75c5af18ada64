"""Calendar feeds behind secret URLs (an agent's, a venue's) and the public free/busy feed."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from booking.services import placement
from booking.services.accounts import hash_token
from booking.tables import CalendarFeed, User, Venue, Workspace
from service.kernel.identity import Principal, Role
from service.kernel.settings import Settings
from tests.booking.test_calendars import parse
from tests.factories import (
    auth,
    make_organisation,
    make_user,
    make_venue,
    make_workspace,
    next_weekday,
    working_days,
)

P = "urn:tierslieux:problem:"
PARIS = ZoneInfo("Europe/Paris")
FEED_URL = re.compile(r"^http://testserver\.local/calendars/(?P<token>[A-Za-z0-9_-]{43})\.ics$")


async def _agent(settings: Settings, name: str = "Camille Martin") -> tuple[User, dict[str, str]]:
    organisation = await make_organisation()
    agent = await make_user(Role.AGENT, organisation=organisation, display_name=name)
    return agent, auth(settings, agent)


async def _book(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    workspace: Workspace,
    day: date,
    slot: str = "morning",
) -> uuid.UUID:
    response = await client.post(
        "/api/v1/bookings",
        json={"workspace_id": str(workspace.id), "date": day.isoformat(), "slot": slot},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


async def _book_room(
    client: httpx.AsyncClient, headers: dict[str, str], room: Workspace, day: date, hours: str
) -> uuid.UUID:
    start, end = hours.split("-")
    response = await client.post(
        "/api/v1/bookings",
        json={"workspace_id": str(room.id), "start": f"{day}T{start}", "end": f"{day}T{end}"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


def _path(url: str) -> str:
    return url.removeprefix("http://testserver.local")


def _uids(text: bytes) -> dict[str, str]:
    """UID → STATUS of every event, as the strict parser reads them."""
    parsed = parse(text)
    loose = {str(e["UID"]): str(e["STATUS"]) for e in parsed.loose.walk("VEVENT")}
    strict = {e.uid: str(e.status.value if e.status else "") for e in parsed.strict.events}
    assert strict == loose
    return strict


# Agent feeds


async def test_an_agent_subscribes_to_their_own_bookings(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    desk = await make_workspace(await make_venue())
    agent, headers = await _agent(settings)
    _, other_headers = await _agent(settings, name="Someone Else")
    first_day, second_day = working_days(2)
    kept = await _book(client, headers, desk, first_day)
    dropped = await _book(client, headers, desk, second_day)
    await client.post(f"/api/v1/bookings/{dropped}/cancel", headers=headers)
    stranger = await _book(client, other_headers, desk, first_day, "afternoon")

    created = await client.post("/api/v1/me/calendar-feeds", headers=headers)

    assert created.status_code == 201, created.text
    body = created.json()
    match = FEED_URL.match(body["url"])
    assert match, body["url"]
    token = match.group("token")
    assert (body["kind"], body["agent_id"], body["venue_id"]) == ("agent", str(agent.id), None)
    assert body["active"] is True
    stored = await CalendarFeed.select().where(CalendarFeed.id == uuid.UUID(body["id"]))
    assert len(stored) == 1
    assert stored[0]["token_hash"] == hash_token(token)  # only the hash is kept
    assert stored[0]["created_by"] == agent.id
    assert stored[0]["revoked_at"] is None

    feed = await client.get(_path(body["url"]))

    assert feed.status_code == 200, feed.text
    assert feed.headers["content-type"].startswith("text/calendar")
    assert _uids(feed.content) == {
        f"{kept}@pass-tiers-lieux": "CONFIRMED",
        f"{dropped}@pass-tiers-lieux": "CANCELLED",
    }
    parsed = parse(feed.content)
    assert parsed.strict.method is None
    assert parsed.strict.name == ["Mes réservations Pass Tiers-Lieux"]
    assert str(parsed.loose["X-WR-CALNAME"]) == "Mes réservations Pass Tiers-Lieux"
    assert parsed.strict.refresh_interval == timedelta(hours=1)
    assert "\r\nX-PUBLISHED-TTL:PT1H\r\n" in feed.text
    assert str(stranger) not in feed.text
    assert "Someone Else" not in feed.text
    assert "ORGANIZER" not in feed.text


async def test_the_agent_feed_keeps_90_days_of_past(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue = await make_venue()
    desk = await make_workspace(venue)
    agent, headers = await _agent(settings)
    principal = Principal(role=Role.AGENT, user_id=agent.id, organisation_id=agent.organisation)
    today = datetime.now(PARIS).date()
    old_day, recent_day = next_weekday(-110), next_weekday(-40)

    booked = {}
    for day in (old_day, recent_day):
        booked[day] = await placement.book(
            principal,
            placement.BookingRequest(workspace_id=desk.id, date=day, slot="morning"),
            base_url=settings.base_url,
            now=datetime.combine(day - timedelta(days=3), time(12), tzinfo=UTC),
        )
    created = await client.post("/api/v1/me/calendar-feeds", headers=headers)

    feed = await client.get(_path(created.json()["url"]))

    assert feed.status_code == 200, feed.text
    assert (today - old_day).days > 90 > (today - recent_day).days
    assert _uids(feed.content) == {f"{booked[recent_day]}@pass-tiers-lieux": "CONFIRMED"}


async def test_an_unchanged_feed_answers_304(client: httpx.AsyncClient, settings: Settings) -> None:
    desk = await make_workspace(await make_venue())
    _, headers = await _agent(settings)
    booking_id = await _book(client, headers, desk, next_weekday(1))
    url = _path((await client.post("/api/v1/me/calendar-feeds", headers=headers)).json()["url"])

    first = await client.get(url)
    again = await client.get(url, headers={"If-None-Match": first.headers["etag"]})
    weak = await client.get(url, headers={"If-None-Match": f'"x", W/{first.headers["etag"]}'})
    other = await client.get(url, headers={"If-None-Match": '"something-else"'})
    await client.post(f"/api/v1/bookings/{booking_id}/cancel", headers=headers)
    changed = await client.get(url, headers={"If-None-Match": first.headers["etag"]})

    assert first.status_code == 200
    assert first.headers["etag"].startswith('"')
    assert again.status_code == 304, again.text
    assert again.content == b""
    assert weak.status_code == 304
    assert other.status_code == 200
    assert changed.status_code == 200
    assert changed.headers["etag"] != first.headers["etag"]
    assert _uids(changed.content) == {f"{booking_id}@pass-tiers-lieux": "CANCELLED"}


async def test_an_agent_lists_and_revokes_their_feeds(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    agent, headers = await _agent(settings)
    _, other_headers = await _agent(settings)
    first = (await client.post("/api/v1/me/calendar-feeds", headers=headers)).json()
    second = (await client.post("/api/v1/me/calendar-feeds", headers=headers)).json()
    theirs = (await client.post("/api/v1/me/calendar-feeds", headers=other_headers)).json()

    listed = await client.get("/api/v1/me/calendar-feeds", headers=headers)
    revoked = await client.post(f"/api/v1/me/calendar-feeds/{first['id']}/revoke", headers=headers)
    again = await client.post(f"/api/v1/me/calendar-feeds/{first['id']}/revoke", headers=headers)
    not_mine = await client.post(
        f"/api/v1/me/calendar-feeds/{theirs['id']}/revoke", headers=headers
    )
    unknown = await client.post(f"/api/v1/me/calendar-feeds/{uuid.uuid4()}/revoke", headers=headers)
    gone = await client.get(_path(first["url"]))
    still = await client.get(_path(second["url"]))

    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert page["total"] == 2
    assert {f["id"] for f in page["items"]} == {first["id"], second["id"]}
    assert all("url" not in f for f in page["items"]), "the secret URL is shown once only"
    assert FEED_URL.match(first["url"]).group("token") not in listed.text  # type: ignore[union-attr]
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["active"] is False
    assert revoked.json()["revoked_at"] is not None
    assert again.status_code == 409
    assert again.json()["type"] == P + "feed-already-revoked"
    assert not_mine.status_code == 404
    assert not_mine.json()["type"] == P + "not-found"
    assert unknown.status_code == 404
    assert gone.status_code == 404
    assert gone.headers["content-type"].startswith("application/problem+json")
    assert gone.json()["type"] == P + "not-found"
    assert still.status_code == 200
    rows = {
        str(r["id"]): r["revoked_at"]
        for r in await CalendarFeed.select(CalendarFeed.id, CalendarFeed.revoked_at)
    }
    assert rows[first["id"]] is not None
    assert rows[second["id"]] is None
    assert rows[theirs["id"]] is None
    assert agent.id is not None


async def test_a_deactivated_agent_s_feed_goes_dark(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    agent, headers = await _agent(settings)
    url = _path((await client.post("/api/v1/me/calendar-feeds", headers=headers)).json()["url"])
    await User.update({User.active: False}).where(User.id == agent.id)

    response = await client.get(url)

    assert response.status_code == 404


async def test_only_agents_have_personal_feeds(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue = await make_venue()
    _, headers = await _agent(settings)
    feed = (await client.post("/api/v1/me/calendar-feeds", headers=headers)).json()
    others = [
        await make_user(Role.VENUE_STAFF, venue=venue),
        await make_user(Role.VENUE_ADMIN, venue=venue),
        await make_user(Role.ORG_ADMIN),
        await make_user(Role.NETWORK_ADMIN),
    ]
    calls = [
        ("POST", "/api/v1/me/calendar-feeds"),
        ("GET", "/api/v1/me/calendar-feeds"),
        ("POST", f"/api/v1/me/calendar-feeds/{feed['id']}/revoke"),
    ]

    for method, path in calls:
        anonymous = await client.request(method, path)
        assert anonymous.status_code == 401, (method, path, anonymous.text)
        assert anonymous.json()["type"] == P + "unauthenticated"
        for user in others:
            response = await client.request(method, path, headers=auth(settings, user))
            assert response.status_code == 403, (method, path, user.role, response.text)
            assert response.json()["type"] == P + "forbidden"
    assert await CalendarFeed.count() == 1
    assert (await CalendarFeed.select(CalendarFeed.revoked_at))[0]["revoked_at"] is None


async def test_a_feed_url_that_is_not_a_feed_is_404(client: httpx.AsyncClient) -> None:
    for name in (
        f"{uuid.uuid4().hex}{uuid.uuid4().hex}.ics",  # well-formed, unknown
        "short.ics",
        "x" * 43,  # no .ics
        "x" * 43 + ".txt",
        "workspaces",
    ):
        response = await client.get(f"/calendars/{name}")
        assert response.status_code == 404, (name, response.text)
        assert response.json()["type"] == P + "not-found"


# Venue feeds


async def test_venue_staff_subscribe_to_their_venue_with_names_and_no_emails(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue = await make_venue()
    desk = await make_workspace(venue, name="Open space")
    elsewhere = await make_workspace(await make_venue())
    staff = await make_user(Role.VENUE_STAFF, venue=venue)
    camille, camille_headers = await _agent(settings, "Camille Martin")
    dominique, dominique_headers = await _agent(settings, "Dominique Durand")
    here = await _book(client, camille_headers, desk, next_weekday(1))
    cancelled = await _book(client, dominique_headers, desk, next_weekday(1), "afternoon")
    await client.post(f"/api/v1/bookings/{cancelled}/cancel", headers=dominique_headers)
    other_venue = await _book(client, dominique_headers, elsewhere, next_weekday(2))

    created = await client.post(
        f"/api/v1/venues/{venue.id}/calendar-feeds", headers=auth(settings, staff)
    )

    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["kind"], body["venue_id"], body["agent_id"]) == ("venue", str(venue.id), None)
    token = FEED_URL.match(body["url"]).group("token")  # type: ignore[union-attr]
    stored = await CalendarFeed.select().where(CalendarFeed.venue == venue.id)
    assert [(r["token_hash"], r["created_by"]) for r in stored] == [(hash_token(token), staff.id)]
    feed = await client.get(_path(body["url"]))
    assert feed.status_code == 200, feed.text
    assert _uids(feed.content) == {
        f"{here}@pass-tiers-lieux": "CONFIRMED",
        f"{cancelled}@pass-tiers-lieux": "CANCELLED",
    }
    assert str(other_venue) not in feed.text
    summaries = sorted(e.summary or "" for e in parse(feed.content).strict.events)
    assert summaries == ["Camille Martin — Open space", "Dominique Durand — Open space"]
    for email in (camille.email, dominique.email, staff.email):
        assert email not in feed.text
    assert "mailto:" not in feed.text
    assert "ATTENDEE" not in feed.text


@pytest.mark.parametrize("role", [Role.VENUE_STAFF, Role.VENUE_ADMIN, Role.NETWORK_ADMIN])
async def test_people_of_the_venue_and_network_admins_manage_venue_feeds(
    client: httpx.AsyncClient, settings: Settings, role: Role
) -> None:
    venue = await make_venue()
    user = await make_user(role, venue=venue if role != Role.NETWORK_ADMIN else None)
    headers = auth(settings, user)
    base = f"/api/v1/venues/{venue.id}/calendar-feeds"

    created = await client.post(base, headers=headers)
    listed = await client.get(base, headers=headers)
    revoked = await client.post(f"{base}/{created.json()['id']}/revoke", headers=headers)
    after = await client.get(_path(created.json()["url"]))

    assert created.status_code == 201, created.text
    assert listed.status_code == 200, listed.text
    assert listed.json()["total"] == 1
    assert "url" not in listed.json()["items"][0]
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["active"] is False
    assert after.status_code == 404
    assert await CalendarFeed.count().where(CalendarFeed.revoked_at.is_not_null()) == 1


async def test_venue_feeds_refuse_everyone_else(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue = await make_venue()
    staff = await make_user(Role.VENUE_STAFF, venue=venue)
    feed = (
        await client.post(
            f"/api/v1/venues/{venue.id}/calendar-feeds", headers=auth(settings, staff)
        )
    ).json()
    base = f"/api/v1/venues/{venue.id}/calendar-feeds"
    calls = [("POST", base), ("GET", base), ("POST", f"{base}/{feed['id']}/revoke")]
    refused = [
        await make_user(Role.VENUE_STAFF),  # another venue
        await make_user(Role.VENUE_ADMIN),  # another venue
        await make_user(Role.AGENT),
        await make_user(Role.ORG_ADMIN),
    ]

    for method, path in calls:
        anonymous = await client.request(method, path)
        assert anonymous.status_code == 401, (method, path, anonymous.text)
        for user in refused:
            response = await client.request(method, path, headers=auth(settings, user))
            assert response.status_code == 403, (method, path, user.role, response.text)
            assert response.json()["type"] == P + "forbidden"
    assert await CalendarFeed.count() == 1
    assert await CalendarFeed.count().where(CalendarFeed.revoked_at.is_null()) == 1


async def test_unknown_venues_and_feeds_of_others_are_404(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue, other = await make_venue(), await make_venue()
    admin = auth(settings, await make_user(Role.NETWORK_ADMIN))
    staff = auth(settings, await make_user(Role.VENUE_STAFF, venue=venue))
    other_feed = (
        await client.post(f"/api/v1/venues/{other.id}/calendar-feeds", headers=admin)
    ).json()
    _, agent_headers = await _agent(settings)
    agent_feed = (await client.post("/api/v1/me/calendar-feeds", headers=agent_headers)).json()

    unknown_venue = await client.post(
        f"/api/v1/venues/{uuid.uuid4()}/calendar-feeds", headers=admin
    )
    cross_venue = await client.post(
        f"/api/v1/venues/{venue.id}/calendar-feeds/{other_feed['id']}/revoke", headers=staff
    )
    agents_feed = await client.post(
        f"/api/v1/venues/{venue.id}/calendar-feeds/{agent_feed['id']}/revoke", headers=staff
    )
    unknown_feed = await client.post(
        f"/api/v1/venues/{venue.id}/calendar-feeds/{uuid.uuid4()}/revoke", headers=staff
    )

    assert unknown_venue.status_code == 404, unknown_venue.text
    assert unknown_venue.json()["type"] == P + "not-found"
    for response in (cross_venue, agents_feed, unknown_feed):
        assert response.status_code == 404, response.text
        assert response.json()["type"] == P + "not-found"
    assert await CalendarFeed.count().where(CalendarFeed.revoked_at.is_not_null()) == 0
    assert await CalendarFeed.count() == 2


async def test_a_venue_feed_stops_when_its_creator_leaves_the_venue(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue = await make_venue()
    staff = await make_user(Role.VENUE_STAFF, venue=venue)
    colleague = await make_user(Role.VENUE_ADMIN, venue=venue)
    created = (
        await client.post(
            f"/api/v1/venues/{venue.id}/calendar-feeds", headers=auth(settings, staff)
        )
    ).json()
    assert (await client.get(_path(created["url"]))).status_code == 200
    await User.update({User.active: False}).where(User.id == staff.id)

    feed = await client.get(_path(created["url"]))
    listed = await client.get(
        f"/api/v1/venues/{venue.id}/calendar-feeds", headers=auth(settings, colleague)
    )

    assert feed.status_code == 404
    assert listed.json()["items"][0]["active"] is False
    assert listed.json()["items"][0]["revoked_at"] is None


# Free/busy


async def test_free_busy_shows_taken_rooms_and_full_desk_halves_without_names(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue = await make_venue()
    room = await make_workspace(venue, kind="meeting_room", booking_unit="hour", capacity=8)
    single = await make_workspace(venue, name="Bureau solo", capacity=1)
    pair = await make_workspace(venue, name="Duo", capacity=2)
    agent, headers = await _agent(settings, "Camille Martin")
    other, other_headers = await _agent(settings, "Dominique Durand")
    day, _, later = working_days(3)
    meeting = await _book_room(client, headers, room, day, "10:00:00-12:00:00")
    cancelled = await _book_room(client, other_headers, room, day, "14:00:00-15:00:00")
    await client.post(f"/api/v1/bookings/{cancelled}/cancel", headers=other_headers)
    await _book(client, headers, single, later, "day")
    await _book(client, other_headers, pair, later, "morning")  # one of two seats

    room_feed = await client.get(f"/calendars/workspaces/{room.id}/freebusy.ics")
    single_feed = await client.get(f"/calendars/workspaces/{single.id}/freebusy.ics")
    pair_feed = await client.get(f"/calendars/workspaces/{pair.id}/freebusy.ics")

    def local(d: date, hh: int, mm: int = 0) -> datetime:
        return datetime.combine(d, time(hh, mm), tzinfo=PARIS).astimezone(UTC)

    for response in (room_feed, single_feed, pair_feed):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/calendar")
        for secret in (agent.email, other.email, "Camille", "Dominique", "mailto:", "VEVENT"):
            assert secret not in response.text, secret
        assert str(meeting) not in response.text
        assert str(cancelled) not in response.text
    busy = {}
    for name, workspace, response in (
        ("room", room, room_feed),
        ("single", single, single_feed),
        ("pair", pair, pair_feed),
    ):
        parsed = parse(response.content)
        [strict] = parsed.strict.freebusy
        [loose] = parsed.loose.walk("VFREEBUSY")
        today = datetime.now(PARIS).date()
        assert strict.dtstart == loose.decoded("DTSTART") == local(today, 0)
        assert strict.dtend == local(today + timedelta(days=61), 0)
        assert strict.uid == f"freebusy-{workspace.id}@pass-tiers-lieux"  # not a booking's
        assert all(p.free_busy_type and p.free_busy_type.value == "BUSY" for p in strict.freebusy)
        busy[name] = [(p.start, p.end) for p in strict.freebusy]
    assert busy["room"] == [(local(day, 10), local(day, 12))]
    # Morning and afternoon full: one period, 08:30 to 18:00 local.
    assert busy["single"] == [(local(later, 8, 30), local(later, 18))]
    assert busy["pair"] == []
    assert re.search(r"FREEBUSY;FBTYPE=BUSY[^:]*:\d{8}T\d{6}Z/\d{8}T\d{6}Z\r\n", room_feed.text)


async def test_free_busy_supports_conditional_requests(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue = await make_venue()
    desk = await make_workspace(venue, capacity=1)
    path = f"/calendars/workspaces/{desk.id}/freebusy.ics"
    _, headers = await _agent(settings)

    first = await client.get(path)
    same = await client.get(path, headers={"If-None-Match": first.headers["etag"]})
    await _book(client, headers, desk, next_weekday(1))
    changed = await client.get(path, headers={"If-None-Match": first.headers["etag"]})

    assert first.status_code == 200
    assert parse(first.content).strict.freebusy[0].freebusy == []
    assert same.status_code == 304
    assert changed.status_code == 200
    assert len(parse(changed.content).strict.freebusy[0].freebusy) == 1


@pytest.mark.parametrize("case", ["unknown", "inactive-workspace", "applied-venue", "suspended"])
async def test_free_busy_only_for_open_workspaces(client: httpx.AsyncClient, case: str) -> None:
    venue = await make_venue()
    desk = await make_workspace(venue)
    workspace_id = desk.id
    if case == "unknown":
        workspace_id = uuid.uuid4()
    elif case == "inactive-workspace":
        await Workspace.update({Workspace.active: False}).where(Workspace.id == desk.id)
    else:
        status = "applied" if case == "applied-venue" else "suspended"
        await Venue.update({Venue.status: status}).where(Venue.id == venue.id)

    response = await client.get(f"/calendars/workspaces/{workspace_id}/freebusy.ics")

    assert response.status_code == 404, response.text
    assert response.json()["type"] == P + "not-found"
