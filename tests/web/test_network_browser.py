"""The network admin's month in a real browser (Debian's Chromium), on the demo data.

Every console page is checked with axe-core and screenshotted on a desktop (1280×800) and
on a phone (390×844) into test-artifacts/. The close runs on a real arq worker started here
(in burst mode), which picks up the job the page queued.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from billing.close import paris_today
from billing.tables import Document, Payout
from booking.tables import Venue
from passes.tables import Anomaly
from service.kernel.settings import Settings
from tests.web.browser import (
    NETWORK_ADMIN,
    PHONE,
    VENUE_ADMIN,
    artifact,
    block_tiles,
    check_accessibility,
    sign_in,
)
from tests.workers import run_worker

DESKTOP = {"width": 1280, "height": 800}
PAGES = {
    "network-dashboard": "/network",
    "network-venues": "/network/venues",
    "network-rates": "/network/rates",
    "network-anomalies": "/network/anomalies",
    "network-close": "/network/close",
    "network-invoices": "/network/invoices",
    "network-payouts": "/network/payouts",
}


@pytest.fixture
async def desktop(browser: Browser, live_server: str) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(
        base_url=live_server,
        viewport=DESKTOP,
        locale="fr-FR",
        timezone_id="Europe/Paris",
        accept_downloads=True,
    )
    context.set_default_timeout(15_000)
    await block_tiles(context)
    try:
        yield context
    finally:
        await context.close()


def menu(page: Page, name: str) -> Locator:
    return page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name=name, exact=True
    )


def euros(text: str) -> int:
    """« 1 234,50 € » in cents."""
    digits = re.sub(r"[^\d,-]", "", text)
    whole, _, cents = digits.partition(",")
    return int(whole) * 100 + int(cents or 0)


async def test_network_admin_runs_the_month_from_the_console(
    desktop: BrowserContext, live_server: str, settings: Settings
) -> None:
    page = await desktop.new_page()
    await sign_in(page, NETWORK_ADMIN)
    await expect(page).to_have_url(f"{live_server}/network")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord du réseau")
    await expect(page.get_by_role("img", name=re.compile("Visites par lieu"))).to_be_visible()
    await expect(page.get_by_role("link", name=re.compile(r"^1\. "))).to_have_count(1)
    await check_accessibility(page, "network-dashboard-desktop")

    # A pending application is approved.
    await menu(page, "Lieux").click()
    await expect(page.get_by_role("heading", name="Candidatures en attente")).to_be_visible()
    await page.get_by_role("button", name="Approuver Tiers-lieu du Romarin").click()
    await expect(page.get_by_role("status")).to_contain_text("Lieu approuvé")
    romarin = await Venue.select(Venue.status).where(Venue.name == "Tiers-lieu du Romarin").first()
    assert romarin == {"status": "approved"}
    await check_accessibility(page, "network-venues-desktop")

    # The demo's anomaly is accepted: its visit becomes billable before the close.
    await menu(page, "Anomalies").click()
    await expect(page.get_by_text("Lieu complet")).to_be_visible()
    await check_accessibility(page, "network-anomalies-desktop")
    await page.get_by_label("Motif de la décision").fill("Accueil assuré malgré la salle pleine.")
    await page.get_by_role("button", name="Accepter (facturer la visite)").click()
    await expect(page.get_by_role("status").first).to_contain_text("la visite sera facturée")
    assert await Anomaly.count().where(Anomaly.status == "open") == 0

    # The trail shows both acts, filtered to the venues' ones; the page passes axe-core.
    await menu(page, "Journal d'audit").click()
    await expect(page.locator("td code", has_text="anomaly.")).not_to_have_count(0)
    await page.get_by_label(re.compile("^Action")).fill("venue.")
    await page.get_by_role("button", name="Filtrer").click()
    await expect(page.locator("td code", has_text="venue.approve")).not_to_have_count(0)
    await expect(page.locator("td code", has_text="anomaly.")).to_have_count(0)
    await check_accessibility(page, "network-audit-desktop")

    # Last month: dry run, then the close, queued to the worker.
    last_month = (paris_today().replace(day=1) - timedelta(days=1)).replace(day=1)
    period = f"{last_month:%Y-%m}"
    await menu(page, "Clôture").click()
    await expect(page.get_by_label("Mois")).to_have_value(period)
    await page.get_by_role("button", name=re.compile("Simuler")).click()
    await expect(page.get_by_role("heading", name="Simulation")).to_be_visible()
    dry_invoiced = euros(await page.locator("#dry-invoiced").inner_text())
    assert dry_invoiced > 0
    await check_accessibility(page, "network-close-dry-run-desktop")
    await page.get_by_role("button", name=re.compile("^Clôturer")).click()
    await expect(page).to_have_url(re.compile(rf"/network/close\?month={period}&queued=1"))
    await expect(page.get_by_role("status").first).to_contain_text("Clôture en cours")
    assert await page.locator('meta[http-equiv="refresh"]').count() == 1
    await run_worker(settings)
    # The page refreshes itself and shows the result.
    await expect(page.get_by_role("heading", name=re.compile("^Résultat"))).to_be_visible(
        timeout=20_000
    )
    await check_accessibility(page, "network-close-result-desktop")
    invoiced = euros(await page.locator("#total-invoiced").inner_text())
    paid_out = euros(await page.locator("#total-paid-out").inner_text())
    share = euros(await page.locator("#total-share").inner_text())
    assert invoiced == dry_invoiced
    assert invoiced - paid_out == share
    documents = await Document.raw(
        "SELECT kind, sum(total_excl_cents) AS excl FROM document WHERE period = {} GROUP BY kind",
        last_month,
    )
    totals: dict[str, Any] = {row["kind"]: row["excl"] for row in documents}
    assert (totals["invoice"], totals["statement"]) == (invoiced, paid_out)
    for by in ("organisation", "venue", "commune"):
        footer = page.locator(f"#by-{by} tfoot td")
        assert euros(await footer.nth(1).inner_text()) == invoiced, by
        assert euros(await footer.nth(2).inner_text()) == paid_out, by
    async with page.expect_download() as summary:
        await page.get_by_role("link", name="Télécharger la synthèse par lieu (CSV)").click()
    assert (await summary.value).suggested_filename == f"synthese-{period}-venue.csv"

    # Payouts: prepare, then the SEPA file for the bank.
    await page.get_by_role("link", name="Préparer les virements").click()
    await page.get_by_role("button", name="Préparer les virements du mois").click()
    await expect(page.get_by_role("status")).to_contain_text("Virements préparés")
    await check_accessibility(page, "network-payouts-desktop")
    async with page.expect_download() as sepa:
        await page.get_by_role("button", name=re.compile("fichier SEPA")).click()
    download = await sepa.value
    assert download.suggested_filename == f"virements-{period}.xml"
    content = await asyncio.to_thread(Path(await download.path()).read_bytes)
    assert b"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03" in content
    assert await Payout.count().where(Payout.status == "in_file") > 0

    # Invoices with their payment status, rates.
    await menu(page, "Factures").click()
    await expect(page.get_by_role("heading", name=re.compile(r"^Factures \("))).to_be_visible()
    await check_accessibility(page, "network-invoices-desktop")
    await menu(page, "Tarifs").click()
    await expect(page.get_by_role("heading", name="Nouveau tarif")).to_be_visible()
    await check_accessibility(page, "network-rates-desktop")

    # piccolo-admin, as the same person.
    await menu(page, "Administration").click()
    await expect(page).to_have_url(re.compile(rf"^{live_server}/network/admin/"))
    await expect(page.get_by_role("link", name="anomaly", exact=True)).to_be_visible()
    await page.get_by_role("link", name="venue", exact=True).click()
    await expect(page).to_have_url(re.compile(r"#/venue"))
    # Rows of the venue table, each headed by its id.
    await expect(page.get_by_role("link", name=re.compile(r"^[0-9a-f]{8}-")).first).to_be_visible()
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=artifact("network-admin-desktop.png"))


async def test_every_console_page_on_a_phone(phone: BrowserContext, live_server: str) -> None:
    page = await phone.new_page()
    assert page.viewport_size == PHONE
    await sign_in(page, NETWORK_ADMIN)
    await expect(page).to_have_url(f"{live_server}/network")
    for name, path in PAGES.items():
        response = await page.goto(path)
        assert response is not None
        assert response.status == 200, f"{path}: {response.status}"
        await check_accessibility(page, f"{name}-phone")
    await _english(page)


async def _english(page: Page) -> None:
    await page.goto("/network?lang=en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Network dashboard")
    await check_accessibility(page, "network-dashboard-phone-en")


async def test_a_venue_admin_may_not_open_the_network_console(
    phone: BrowserContext, live_server: str
) -> None:
    page = await phone.new_page()
    await sign_in(page, VENUE_ADMIN)
    for path in ("/network", "/network/close", "/network/admin/"):
        response = await page.goto(path)
        assert response is not None
        assert response.status == 403, path
        await expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")
