"""The pages over HTTP: sign-in, sessions, CSRF, access, and the agent's actions and refusals."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from booking.tables import Booking, User, Workspace
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.factories import (
    PASSWORD,
    auth,
    make_booking,
    make_organisation,
    make_user,
    make_venue,
    make_workspace,
    next_weekday,
)
from web.pages import landing_of
from web.session import SESSION_COOKIE, session_cookie


async def csrf_token(client: httpx.AsyncClient) -> str:
    if "csrftoken" not in client.cookies:
        await client.get("/")
    return str(client.cookies["csrftoken"])


async def post_form(client: httpx.AsyncClient, url: str, data: dict[str, str]) -> httpx.Response:
    return await client.post(url, data={**data, "_csrf_token": await csrf_token(client)})


async def sign_in(client: httpx.AsyncClient, user: User) -> httpx.Response:
    return await post_form(client, "/signin", {"email": user.email, "password": PASSWORD})


@pytest.fixture
async def desk() -> Workspace:
    return await make_workspace(await make_venue(), capacity=2)


@pytest.fixture
async def agent(client: httpx.AsyncClient) -> User:
    user = await make_user(Role.AGENT, display_name="Camille Test")
    response = await sign_in(client, user)
    assert response.status_code == 303, response.text
    return user


# Home, language, sign-in


async def test_home_is_french_first_and_remembers_english(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert '<html lang="fr">' in response.text
    assert 'href="#contenu"' in response.text  # skip link
    english = await client.get("/?lang=en")
    assert '<html lang="en">' in english.text
    assert "Sign in" in english.text
    assert client.cookies["lang"] == "en"
    assert '<html lang="en">' in (await client.get("/")).text


async def test_sign_in_sets_a_protected_cookie_and_lands_on_the_role_page(
    client: httpx.AsyncClient,
) -> None:
    user = await make_user(Role.AGENT)
    response = await sign_in(client, user)
    assert response.status_code == 303
    assert response.headers["location"] == "/agent"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # http base URL in tests
    assert (await client.get("/")).headers["location"] == "/agent"


async def test_every_role_lands_on_its_page_and_has_an_account_page(
    client: httpx.AsyncClient,
) -> None:
    admin = await make_user(Role.ORG_ADMIN, display_name="Alex Admin")
    response = await sign_in(client, admin)
    # Consoles add their landing pages; the account page stays for every role.
    assert response.headers["location"] == landing_of(Role.ORG_ADMIN)
    page = await client.get("/account")
    assert page.status_code == 200
    assert "Alex Admin" in page.text
    assert "Administrateur d&#39;organisation" in page.text


def test_the_cookie_is_secure_on_https() -> None:
    settings = Settings(mode="test", base_url="https://pass.example.org")
    assert session_cookie("t", 60, settings).secure is True


async def test_sign_in_errors_are_tied_to_their_fields(client: httpx.AsyncClient) -> None:
    response = await post_form(client, "/signin", {"email": "", "password": ""})
    assert response.status_code == 422
    assert 'aria-describedby="email-error"' in response.text
    assert 'aria-describedby="password-error"' in response.text
    assert 'id="email-error"' in response.text


async def test_wrong_password_is_refused_without_saying_which_part(
    client: httpx.AsyncClient,
) -> None:
    user = await make_user(Role.AGENT)
    response = await post_form(client, "/signin", {"email": user.email, "password": "wrong-one!"})
    assert response.status_code == 401
    assert "incorrect" in response.text
    assert SESSION_COOKIE not in client.cookies
    unknown = await post_form(
        client, "/signin", {"email": "nobody@example.org", "password": "wrong-one!"}
    )
    assert unknown.status_code == 401


async def test_sign_in_is_throttled_like_the_api(client: httpx.AsyncClient) -> None:
    user = await make_user(Role.AGENT)
    for _ in range(10):
        await post_form(client, "/signin", {"email": user.email, "password": "wrong-one!"})
    response = await sign_in(client, user)
    assert response.status_code == 429
    assert "Trop de tentatives" in response.text


async def test_demo_accounts_are_refused_outside_a_demo(client: httpx.AsyncClient) -> None:
    response = await post_form(
        client, "/signin", {"email": "agent@demo.test", "password": "demo-password"}
    )
    assert response.status_code == 401


async def test_forms_without_the_csrf_token_are_refused(client: httpx.AsyncClient) -> None:
    user = await make_user(Role.AGENT)
    await client.get("/")
    response = await client.post("/signin", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert SESSION_COOKIE not in client.cookies
    forged = await client.post(
        "/signin", data={"email": user.email, "password": PASSWORD, "_csrf_token": "x" * 64}
    )
    assert forged.status_code == 403


# Access


async def test_anonymous_visitors_are_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    for path in ("/agent", "/agent/bookings", "/agent/pass", "/agent/pass.svg", "/account"):
        response = await client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/"


async def test_wrong_role_gets_a_403_page(client: httpx.AsyncClient) -> None:
    staff = await make_user(Role.VENUE_STAFF)
    await sign_in(client, staff)
    response = await client.get("/agent/pass")
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "Accès refusé" in response.text


async def test_the_api_ignores_the_session_cookie(
    client: httpx.AsyncClient, agent: User, settings: Settings
) -> None:
    assert (await client.get("/api/v1/me")).status_code == 401
    bearer = await client.get("/api/v1/me", headers=auth(settings, agent))
    assert bearer.status_code == 200


async def test_sign_out_kills_the_session_even_if_the_cookie_was_copied(
    client: httpx.AsyncClient, agent: User
) -> None:
    copied = client.cookies[SESSION_COOKIE]
    response = await post_form(client, "/signout", {})
    assert response.status_code == 303
    assert response.headers["location"] == "/?signed_out=1"
    assert SESSION_COOKIE not in client.cookies
    client.cookies.set(SESSION_COOKIE, copied)
    assert (await client.get("/agent")).status_code == 303


async def test_a_deactivated_agent_loses_the_session(
    client: httpx.AsyncClient, agent: User
) -> None:
    await User.update({User.active: False}).where(User.id == agent.id)
    assert (await client.get("/agent")).status_code == 303


async def test_an_unknown_page_is_a_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/agent/nothing-here")).status_code == 404


# Finding and booking


async def test_the_landing_page_lists_tomorrows_free_desks_and_the_allowance(
    client: httpx.AsyncClient, agent: User, desk: Workspace
) -> None:
    day = next_weekday()
    response = await client.get("/agent", params={"date": day.isoformat()})
    assert response.status_code == 200
    assert str(desk.id) in response.text
    assert "0 demi-journée utilisée sur" in response.text
    tomorrow = datetime.now(ZoneInfo("Europe/Paris")).date() + timedelta(days=1)
    default = await client.get("/agent")
    assert f'name="date" type="date" value="{tomorrow.isoformat()}"' in default.text


async def test_search_refuses_bad_and_past_dates(
    client: httpx.AsyncClient, agent: User, desk: Workspace
) -> None:
    bad = await client.get("/agent", params={"date": "not-a-date"})
    assert bad.status_code == 422
    assert 'aria-describedby="date-error"' in bad.text
    past = await client.get("/agent", params={"date": "2020-01-06"})
    assert past.status_code == 422
    assert "Cette date est déjà passée." in past.text
    wrong_slot = await client.get("/agent", params={"slot": "night"})
    assert wrong_slot.status_code == 422


async def test_booking_from_the_page_then_seeing_it_in_my_bookings(
    client: httpx.AsyncClient, agent: User, desk: Workspace
) -> None:
    day = next_weekday()
    response = await post_form(
        client,
        "/agent/bookings",
        {"workspace_id": str(desk.id), "date": day.isoformat(), "slot": "day"},
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith("/agent/bookings?done=booked")
    booking = await Booking.objects().where(Booking.agent == agent.id).first()
    assert booking is not None
    assert booking.status == "confirmed"
    mine = await client.get("/agent/bookings?done=booked")
    assert "Réservation confirmée" in mine.text
    assert f"booking-{booking.id}" in mine.text
    landing = await client.get("/agent", params={"date": day.isoformat()})
    assert "2 demi-journées utilisées" in landing.text


async def test_booking_refusals_are_explained(
    client: httpx.AsyncClient, agent: User, desk: Workspace
) -> None:
    day = next_weekday()
    form = {"workspace_id": str(desk.id), "date": day.isoformat(), "slot": "day"}
    assert (await post_form(client, "/agent/bookings", form)).status_code == 303
    twice = await post_form(client, "/agent/bookings", form)
    assert twice.status_code == 409
    assert "déjà une réservation" in twice.text
    unknown = await post_form(
        client, "/agent/bookings", {**form, "workspace_id": "00000000-0000-0000-0000-000000000000"}
    )
    assert unknown.status_code == 404
    garbage = await post_form(client, "/agent/bookings", {**form, "workspace_id": "nope"})
    assert garbage.status_code == 422
    assert await Booking.count().where(Booking.agent == agent.id) == 1


async def test_a_full_desk_is_refused_with_a_message(
    client: httpx.AsyncClient, agent: User
) -> None:
    full = await make_workspace(await make_venue(), capacity=1)
    day = next_weekday()
    await make_booking(await make_user(Role.AGENT), full, day)
    response = await post_form(
        client,
        "/agent/bookings",
        {"workspace_id": str(full.id), "date": day.isoformat(), "slot": "day"},
    )
    assert response.status_code == 409
    assert "Plus aucune place" in response.text


# My bookings: cancel, calendar, feed


async def test_cancel_asks_first_then_cancels_once(
    client: httpx.AsyncClient, agent: User, desk: Workspace
) -> None:
    booking = await make_booking(agent, desk, next_weekday(3))
    confirm = await client.get(f"/agent/bookings/{booking.id}/cancel")
    assert confirm.status_code == 200
    assert "Oui, annuler" in confirm.text
    done = await post_form(client, f"/agent/bookings/{booking.id}/cancel", {})
    assert done.status_code == 303
    assert done.headers["location"] == "/agent/bookings?done=cancelled"
    status = await Booking.select(Booking.status).where(Booking.id == booking.id).first()
    assert status is not None
    assert status["status"] == "cancelled"
    again = await post_form(client, f"/agent/bookings/{booking.id}/cancel", {})
    assert again.status_code == 409
    assert "ne peut plus être annulée" in again.text


async def test_another_agents_booking_is_not_found(
    client: httpx.AsyncClient, agent: User, desk: Workspace
) -> None:
    other = await make_booking(await make_user(Role.AGENT), desk, next_weekday())
    for response in (
        await client.get(f"/agent/bookings/{other.id}/cancel"),
        await post_form(client, f"/agent/bookings/{other.id}/cancel", {}),
        await client.get(f"/agent/bookings/{other.id}/calendar.ics"),
    ):
        assert response.status_code == 404
    status = await Booking.select(Booking.status).where(Booking.id == other.id).first()
    assert status is not None
    assert status["status"] == "confirmed"


async def test_add_to_calendar_downloads_the_invitation(
    client: httpx.AsyncClient, agent: User, desk: Workspace
) -> None:
    booking = await make_booking(agent, desk, next_weekday())
    response = await client.get(f"/agent/bookings/{booking.id}/calendar.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert "BEGIN:VEVENT" in response.text


async def test_the_feed_url_is_shown_once_and_serves_my_bookings(
    client: httpx.AsyncClient, agent: User, desk: Workspace
) -> None:
    await make_booking(agent, desk, next_weekday())
    response = await post_form(client, "/agent/calendar-feed", {})
    assert response.status_code == 201
    url = re.search(r'id="feed-url" type="text" readonly value="([^"]+)"', response.text)
    assert url is not None
    path = httpx.URL(url.group(1)).path
    feed = await client.get(path)
    assert feed.status_code == 200
    assert "BEGIN:VEVENT" in feed.text
    later = await client.get("/agent/bookings")
    assert url.group(1) not in later.text
    assert "1 abonnement actif" in later.text


# The pass


async def test_pass_page_shows_the_qr_and_the_holder(
    client: httpx.AsyncClient, agent: User
) -> None:
    response = await client.get("/agent/pass")
    assert response.status_code == 200
    assert "Camille Test" in response.text
    assert 'src="/agent/pass.svg"' in response.text
    image = await client.get("/agent/pass.svg")
    assert image.headers["content-type"] == "image/svg+xml"
    assert image.content.startswith(b"<?xml")


async def test_the_service_worker_and_manifest_are_served_for_the_whole_site(
    client: httpx.AsyncClient,
) -> None:
    worker = await client.get("/sw.js")
    assert worker.status_code == 200
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["service-worker-allowed"] == "/"
    manifest = await client.get("/manifest.webmanifest")
    assert manifest.json()["start_url"] == "/agent/pass"
    css = await client.get("/static/web.css")
    assert css.status_code == 200


async def test_an_organisation_admin_cannot_open_the_agent_pages(
    client: httpx.AsyncClient,
) -> None:
    admin = await make_user(Role.ORG_ADMIN, organisation=await make_organisation())
    await sign_in(client, admin)
    assert (await client.get("/agent")).status_code == 403
    response = await post_form(client, "/agent/calendar-feed", {})
    assert response.status_code == 403
