"""The agent's story in a real browser (Debian's Chromium, phone-sized), on the demo data.

Each page is checked with axe-core (no serious or critical violation) and screenshotted
into test-artifacts/ for people to look at.
"""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import zxingcpp
from PIL import Image
from playwright.async_api import Browser, BrowserContext, Page, expect

from booking.tables import Booking, User, Workspace
from passes.verify import Reason
from service.app.seed import DEMO_PASSWORD
from tests.web.browser import (
    AGENT,
    STAFF,
    artifact,
    check_accessibility,
    show_marker,
    sign_in,
    street_map,
)

LIVE = ("confirmed", "checked_in", "completed")


async def free_day_for(agent_id: uuid.UUID) -> date:
    """Tomorrow, unless the demo agent is already booked then or nothing opens (Sunday)."""
    day = datetime.now(ZoneInfo("Europe/Paris")).date() + timedelta(days=1)
    while day.weekday() == 6 or await Booking.exists().where(
        (Booking.agent == agent_id) & (Booking.local_date == day) & Booking.status.is_in(LIVE)
    ):
        day += timedelta(days=1)
    return day


async def test_agent_books_tomorrow_and_shows_a_pass_that_works_offline(
    phone: BrowserContext, live_server: str
) -> None:
    agent = await User.objects().where(User.email == AGENT).first()
    assert agent is not None
    # Arrange: room in the allowance whatever day of the month the test runs.
    await User.update({User.monthly_allowance_units: 40}).where(User.id == agent.id)
    day = await free_day_for(agent.id)
    page = await phone.new_page()

    await check_accessibility(await _goto(page, "/"), "home")
    await sign_in(page, AGENT)
    await expect(page).to_have_url(f"{live_server}/agent")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Trouver un poste")
    await expect(page.get_by_text(re.compile(r"demi-journées? utilisées? sur 40"))).to_be_visible()
    if day != datetime.now(ZoneInfo("Europe/Paris")).date() + timedelta(days=1):
        await page.goto(f"/agent?date={day.isoformat()}")
    await check_accessibility(page, "agent-find")

    # Tap two: the first "Réserver" of the list.
    first = page.get_by_role("button", name="Réserver").first
    label = await first.get_attribute("aria-label")
    await first.click()
    await expect(page).to_have_url(re.compile(r"/agent/bookings\?done=booked#booking-"))
    await expect(page.get_by_role("status")).to_contain_text("Réservation confirmée")
    booking = (
        await Booking.objects()
        .where((Booking.agent == agent.id) & (Booking.local_date == day))
        .first()
    )
    assert booking is not None, f"no booking on {day} after clicking {label}"
    assert booking.status == "confirmed"
    workspace = await Workspace.objects().where(Workspace.id == booking.workspace).first()
    assert workspace is not None
    assert label is not None
    assert workspace.name in label
    await expect(page.locator(f"#booking-{booking.id}")).to_be_visible()
    await check_accessibility(page, "agent-bookings")

    await page.locator(f"#booking-{booking.id}").get_by_role("link", name="Annuler").click()
    await expect(page.get_by_role("button", name="Oui, annuler la réservation")).to_be_visible()
    await check_accessibility(page, "agent-cancel")
    await page.get_by_role("link", name="Non, la garder").click()

    await page.get_by_role("link", name="Mon pass").click()
    await expect(page.get_by_text("Camille Desrousseaux").first).to_be_visible()
    qr = page.get_by_role("img", name="QR code du pass")
    await expect(qr).to_be_visible()
    await check_accessibility(page, "agent-pass")

    # The QR as drawn on the phone decodes to a token the server accepts at the door.
    shot = Image.open(io.BytesIO(await qr.screenshot()))
    decoded = zxingcpp.read_barcode(shot)
    assert decoded is not None, "zxing-cpp found no QR code on the pass page"
    token = decoded.text
    assert token.startswith("TL1:")
    verdict = await _scan_at_the_door(live_server, token)
    token_refusals = {r.value for r in Reason}
    assert verdict["serial"] is not None, verdict
    assert verdict["reason"] not in token_refusals, verdict
    serial_shown = await page.locator(".facts dd").nth(2).inner_text()
    assert str(verdict["serial"]) == serial_shown.strip()

    # Offline: once the service worker holds the pass, it shows without network.
    await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    await page.wait_for_function(
        "caches.open('tl-pass-v1').then(c => c.match('/agent/pass.svg')).then(r => !!r)"
    )
    await phone.set_offline(True)
    try:
        await page.reload()
        await expect(page.get_by_text("Camille Desrousseaux").first).to_be_visible()
        await expect(page.get_by_role("img", name="QR code du pass")).to_be_visible()
        width = await page.get_by_role("img", name="QR code du pass").evaluate(
            "img => img.complete ? img.naturalWidth : 0"
        )
        assert width > 0, "the QR image did not load from the cache"
        await page.screenshot(path=artifact("agent-pass-offline.png"), full_page=True)
    finally:
        await phone.set_offline(False)


async def _goto(page: Page, path: str) -> Page:
    await page.goto(path)
    return page


async def _scan_at_the_door(base: str, token: str) -> dict[str, object]:
    """The venue's front desk scans the token through the API (the server's verifier)."""
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        signed_in = await http.post(
            "/api/v1/auth/token", json={"email": STAFF, "password": DEMO_PASSWORD}
        )
        signed_in.raise_for_status()
        headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        me = (await http.get("/api/v1/me", headers=headers)).json()
        response = await http.post(
            f"/api/v1/venues/{me['venue_id']}/scans",
            headers=headers,
            json={
                "scan_id": str(uuid.uuid4()),
                "token": token,
                "scanned_at": datetime.now(UTC).isoformat(),
                "direction": "in",
            },
        )
        assert response.status_code == 201, response.text
        result: dict[str, object] = response.json()
        return result


async def test_agent_books_a_meeting_room_for_an_hour_near_a_commune_on_the_map(
    phone: BrowserContext, browser: Browser, live_server: str
) -> None:
    agent = await User.objects().where(User.email == AGENT).first()
    assert agent is not None
    await User.update({User.monthly_allowance_units: 40}).where(User.id == agent.id)
    day = await free_day_for(agent.id)
    page = await phone.new_page()
    await sign_in(page, AGENT)
    await page.goto(f"/agent?date={day.isoformat()}")

    # Choosing a meeting room swaps the slot for hours, by CSS alone.
    await expect(page.get_by_label("Créneau")).to_be_visible()
    await expect(page.get_by_label("De", exact=True)).to_be_hidden()
    await page.get_by_label("Type d'espace").select_option("meeting_room")
    await expect(page.get_by_label("Créneau")).to_be_hidden()
    await page.get_by_label("De", exact=True).fill("10:00")
    await page.get_by_label("À", exact=True).fill("11:00")
    await page.get_by_label("Près de").fill("roubaix")
    await page.get_by_label("Distance").select_option("15")
    await page.get_by_role("button", name="Chercher").click()
    await expect(page.get_by_role("status")).to_contain_text("avec une salle libre")
    await expect(page.get_by_label("Près de")).to_have_value("Roubaix")

    # The map: numbered pins, nearest first, each leading to its place in the list.
    pins = page.locator(".results-map svg a")
    assert await pins.count() >= 2
    distances = [
        float(text.removeprefix("à ").removesuffix(" km").replace(",", "."))
        for text in await page.locator(".results .distance").all_inner_texts()
    ]
    assert distances == sorted(distances)
    assert all(d <= 15 for d in distances)
    await check_accessibility(page, "agent-find-room-map")
    target = await pins.first.get_attribute("href")
    assert target is not None
    # The street map draws the same numbers; marker 1's popup leads to entry 1 of the list.
    drawn = await street_map(page, "results-street-map")
    assert len(drawn["labels"]) == await pins.count()
    marker = await show_marker(page, "results-street-map", 1)
    await marker.focus()
    await page.keyboard.press("Enter")
    await page.locator("#results-street-map .leaflet-popup-content a").click()
    await expect(page.locator(target)).to_be_in_viewport()
    await page.goto(page.url.split("#")[0])

    # Tap two: book the nearest room for the hour.
    first = page.locator(".results").get_by_role("button", name="Réserver").first
    label = await first.get_attribute("aria-label")
    await first.click()
    await expect(page).to_have_url(re.compile(r"/agent/bookings\?done=booked#booking-"))
    booking = (
        await Booking.objects()
        .where((Booking.agent == agent.id) & (Booking.local_date == day) & (Booking.unit == "hour"))
        .first()
    )
    assert booking is not None, f"no room booking on {day} after clicking {label}"
    paris = ZoneInfo("Europe/Paris")
    assert booking.starts_at.astimezone(paris).time().isoformat() == "10:00:00"
    assert booking.ends_at.astimezone(paris).time().isoformat() == "11:00:00"
    row = page.locator(f"#booking-{booking.id}")
    await expect(row).to_be_visible()
    workspace = await Workspace.objects().where(Workspace.id == booking.workspace).first()
    assert workspace is not None
    await expect(row).to_contain_text(workspace.name)
    await page.screenshot(path=artifact("agent-room-booked.png"), full_page=True)

    # The same search on a desktop screen, for people to look at.
    desktop = await browser.new_context(
        base_url=live_server, viewport={"width": 1280, "height": 800}, locale="fr-FR"
    )
    try:
        wide = await desktop.new_page()
        await sign_in(wide, AGENT)
        await wide.goto(
            f"/agent?date={day.isoformat()}&kind=meeting_room&start=14:00&end=16:00"
            "&near=Lille&radius=15"
        )
        await check_accessibility(wide, "agent-find-room-map-desktop")
    finally:
        await desktop.close()
