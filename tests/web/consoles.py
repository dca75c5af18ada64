"""What the venue and organisation console browser tests share: last month closed, pages checked."""

from __future__ import annotations

import uuid
from datetime import date

from playwright.async_api import Browser, Page

from billing import rendering
from billing.close import close_period
from billing.jobs import network_identity
from billing.tables import Document
from service.kernel.settings import Settings
from tests.web.browser import check_accessibility, sign_in
from web.consoles import previous_month, today

DESKTOP = {"width": 1280, "height": 800}


async def close_last_month(settings: Settings, **party: uuid.UUID) -> date:
    """Close last month on the demo data and render the documents of one party (or all)."""
    month = previous_month(today())
    await close_period(month, network_identity(settings))
    query = Document.select(Document.id).where(Document.period == month)
    for column, value in party.items():
        query = query.where(getattr(Document, column) == value)
    for row in await query:
        await rendering.render(row["id"])
    return month


async def check_on_desktop(
    browser: Browser, live_server: str, email: str, pages: dict[str, str]
) -> None:
    """Each page at 1280×800 too: axe-core and a screenshot (`name-desktop.png`)."""
    context = await browser.new_context(
        base_url=live_server, viewport=DESKTOP, locale="fr-FR", timezone_id="Europe/Paris"
    )
    context.set_default_timeout(15_000)
    try:
        page: Page = await context.new_page()
        await sign_in(page, email)
        for name, path in pages.items():
            await page.goto(path)
            await check_accessibility(page, f"{name}-desktop")
    finally:
        await context.close()
