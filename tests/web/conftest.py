"""Browser fixtures: one Chromium per session, a demo-seeded live server per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, BrowserContext, async_playwright

from service.app.seed import seed
from tests.web.browser import PHONE, block_tiles, launch
from web.assets import ensure_frontend


@pytest.fixture
async def live_server_env(database_url: str) -> dict[str, str]:
    """The live server runs the demo (its accounts sign in) on the seeded test database."""
    await seed()
    return {"APP_ENV": "demo"}


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await launch(playwright)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def phone(browser: Browser, live_server: str) -> AsyncIterator[BrowserContext]:
    """A fresh phone-sized browser profile (cookies, service workers) on the live server."""
    context = await browser.new_context(
        base_url=live_server, viewport=PHONE, locale="fr-FR", timezone_id="Europe/Paris"
    )
    context.set_default_timeout(15_000)
    await block_tiles(context)
    try:
        yield context
    finally:
        await context.close()


@pytest.fixture(scope="session", autouse=True)
def frontend() -> None:
    """The browser packages (jsQR for the scanner), installed once from their lock file."""
    ensure_frontend()
