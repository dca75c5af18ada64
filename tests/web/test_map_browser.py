"""The street maps in Chromium, tiles blocked: numbered markers like the list, the SVG fallback.

No tile server is reachable from the tests (and OpenStreetMap's is not a fixture): every
request off the machine is aborted, so the maps draw their markers on a plain ground and say
that the streets could not be loaded. With JavaScript off, the server-drawn SVG is the map.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.web.browser import (
    NETWORK_ADMIN,
    block_tiles,
    check_accessibility,
    show_marker,
    sign_in,
    street_map,
)

DESKTOP = {"width": 1280, "height": 900}
SCREENSHOT = Path(__file__).resolve().parents[2] / "test-artifacts" / "public-map.png"


@pytest.fixture
async def desktop(browser: Browser, live_server: str) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(
        base_url=live_server, viewport=DESKTOP, locale="fr-FR", timezone_id="Europe/Paris"
    )
    context.set_default_timeout(15_000)
    await block_tiles(context)
    try:
        yield context
    finally:
        await context.close()


async def _list_names(page: Page) -> list[str]:
    return [
        " ".join(text.split())
        for text in await page.locator(".directory-list > li > h2 a").all_inner_texts()
    ]


async def test_the_public_map_numbers_the_venues_like_the_list(desktop: BrowserContext) -> None:
    page = await desktop.new_page()
    await page.goto("/lieux")

    drawn = await street_map(page, "directory-street-map")
    names = await _list_names(page)
    communes = [
        text.rsplit(" ", 1)[-1]
        for text in await page.locator(".directory-list > li > p.muted").first.all_inner_texts()
    ]
    assert communes
    # Count and order: marker n is the list's entry n.
    assert len(drawn["labels"]) == len(names) >= 10
    assert [re.sub(r"^\d+\. (.*), [^,]+$", r"\1", label) for label in drawn["labels"]] == names
    assert [int(label.split(".")[0]) for label in drawn["labels"]] == list(range(1, len(names) + 1))
    # Zoomed out, close venues are clustered; single markers and clusters add up to all of them.
    assert drawn["shown"] + drawn["clustered"] == len(names)
    # Tiles blocked: said on the page, markers still drawn.
    await expect(page.locator(".map-note")).to_contain_text("sans les rues")
    # The SVG stays for screen readers, out of the tab order.
    pins = page.locator("svg.venue-map a")
    assert await pins.count() == len(names)
    assert {await pins.nth(i).get_attribute("tabindex") for i in range(await pins.count())} == {
        "-1"
    }
    await check_accessibility(page, "public-map")
    await page.locator(".directory-map").screenshot(path=SCREENSHOT)

    # Keyboard: a marker is a button named like the list; Enter opens its popup.
    marker = await show_marker(page, "directory-street-map", 2)
    await expect(marker).to_have_attribute("role", "button")
    await expect(marker).to_have_attribute("aria-label", drawn["labels"][1])
    await marker.focus()
    await expect(marker).to_be_focused()
    await page.keyboard.press("Enter")
    popup = page.locator("#directory-street-map .leaflet-popup-content")
    await expect(popup).to_contain_text(drawn["labels"][1])
    await expect(popup).to_contain_text(re.compile("aujourd'hui"))
    await check_accessibility(page, "public-map-popup")
    await popup.get_by_role("link").click()
    await expect(page).to_have_url(re.compile(r"/lieux/[a-z0-9-]+$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(names[1])
    await check_accessibility(page, "public-venue")


async def test_without_javascript_the_svg_is_the_map(browser: Browser, live_server: str) -> None:
    context = await browser.new_context(
        base_url=live_server, viewport=DESKTOP, locale="fr-FR", java_script_enabled=False
    )
    await block_tiles(context)
    try:
        page = await context.new_page()
        await page.goto("/lieux")
        names = await _list_names(page)
        pins = page.locator("svg.venue-map a")
        await expect(page.locator("svg.venue-map")).to_be_visible()
        await expect(page.locator(".tile-map")).to_be_hidden()
        assert await pins.count() == len(names)
        assert await pins.first.get_attribute("tabindex") is None
        first = await pins.first.get_attribute("aria-label")
        assert first == f"1. {names[0]}, " + first.rsplit(", ", 1)[-1]
        # (axe-core runs as a script: with scripts off it cannot; the page is the one checked above.)
        await page.screenshot(path=SCREENSHOT.with_name("public-map-no-js.png"), full_page=True)
    finally:
        await context.close()


async def test_the_network_dashboard_draws_every_venue_on_the_street_map(
    desktop: BrowserContext,
) -> None:
    page = await desktop.new_page()
    await sign_in(page, NETWORK_ADMIN)
    await page.goto("/network")

    drawn = await street_map(page, "network-street-map")
    listed = await page.locator("figure.map .map-list li").count()

    assert len(drawn["labels"]) == listed > 0
    assert drawn["shown"] + drawn["clustered"] == listed
    marker = await show_marker(page, "network-street-map", 1)
    await marker.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#network-street-map .leaflet-popup-content a")).to_have_attribute(
        "href", re.compile(r"^/network/venues#venue-")
    )
    await check_accessibility(page, "network-street-map")
