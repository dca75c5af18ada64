"""The venue admin's story in a real browser (phone-sized, then desktop), on the demo data.

Every page is checked with axe-core and screenshotted into test-artifacts/.
"""

from __future__ import annotations

import re
from datetime import timedelta

from facturx import get_xml_from_pdf
from playwright.async_api import Browser, BrowserContext, expect

from billing.tables import Document
from booking.tables import Closure, User, Workspace
from passes.tables import DoorDevice
from service.kernel.settings import Settings
from tests.web.browser import VENUE_ADMIN, check_accessibility, sign_in
from tests.web.consoles import check_on_desktop, close_last_month
from web.consoles import today


async def test_venue_admin_manages_the_venue_and_reads_a_statement(
    phone: BrowserContext, browser: Browser, live_server: str, settings: Settings
) -> None:
    admin = await User.objects().where(User.email == VENUE_ADMIN).first()
    assert admin is not None
    assert admin.venue is not None
    await close_last_month(settings, venue=admin.venue)
    statement = (
        await Document.objects()
        .where((Document.kind == "statement") & (Document.venue == admin.venue))
        .first()
    )
    assert statement is not None, "the demo venue has no statement for last month"
    page = await phone.new_page()

    await sign_in(page, VENUE_ADMIN)
    await expect(page).to_have_url(f"{live_server}/venue")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mes espaces")
    await expect(page.get_by_role("heading", name="Tarifs en vigueur")).to_be_visible()
    await check_accessibility(page, "venue-workspaces")

    # A workspace.
    form = page.locator("form[action='/venue/workspaces']")
    await form.get_by_label("Nom").fill("Salle des Possibles")
    await form.get_by_label("Type").select_option("meeting_room")
    await form.get_by_label("Capacité (places)").fill("12")
    await form.get_by_label("Réservé par").select_option("hour")
    await form.get_by_label("Visioconférence").check()
    await form.get_by_role("button", name="Ajouter l'espace").click()
    await expect(page.get_by_role("status")).to_contain_text("Espace ajouté")
    workspace = await Workspace.objects().where(Workspace.name == "Salle des Possibles").first()
    assert workspace is not None
    assert (workspace.venue, workspace.capacity, workspace.equipment) == (
        admin.venue,
        12,
        ["video_conference"],
    )
    await page.get_by_role("link", name="Modifier Salle des Possibles").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Modifier un espace")
    await check_accessibility(page, "venue-workspace-edit")

    # A closure, a fortnight ahead.
    await page.get_by_role("link", name="Horaires et fermetures").click()
    await check_accessibility(page, "venue-hours")
    day = today() + timedelta(days=14)
    closure_form = page.locator("form[action='/venue/closures']")
    await closure_form.get_by_label("Premier jour").fill(day.isoformat())
    await closure_form.get_by_label("Dernier jour").fill(day.isoformat())
    await closure_form.get_by_label("Raison").fill("Inventaire annuel")
    await closure_form.get_by_role("button", name="Ajouter la fermeture").click()
    await expect(page.get_by_role("status").first).to_contain_text("Fermeture ajoutée")
    await expect(page.get_by_text("Inventaire annuel")).to_be_visible()
    assert await Closure.exists().where((Closure.venue == admin.venue) & (Closure.starts_on == day))

    # A door-device token, shown once.
    await page.get_by_role("link", name="Appareils d'accueil").click()
    await page.get_by_label("Nom de l'appareil").fill("Tablette du hall")
    await page.get_by_role("button", name="Créer un jeton").click()
    await expect(page.get_by_role("heading", name="Jeton de « Tablette du hall »")).to_be_visible()
    token_field = page.get_by_label("Jeton de l'appareil")
    await expect(token_field).to_be_visible()
    token = await token_field.input_value()
    assert token.startswith("tldev_")
    await expect(page.get_by_text("/scan/device")).to_be_visible()
    await check_accessibility(page, "venue-devices-token")
    await page.get_by_role("link", name="Appareils d'accueil").click()
    await expect(page.get_by_text("Tablette du hall")).to_be_visible()
    assert token not in await page.content()
    assert await DoorDevice.exists().where(DoorDevice.name == "Tablette du hall")
    await check_accessibility(page, "venue-devices")

    # Last month's statement: its lines, the visits behind them, its Factur-X PDF.
    await page.get_by_role("link", name="Relevés").click()
    await check_accessibility(page, "venue-statements")
    await page.get_by_role("link", name=f"Voir le relevé {statement.number}").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(statement.number)
    lines = page.locator("section[aria-labelledby='lines-title'] tbody tr")
    assert await lines.count() >= 1
    visits = page.locator("section[aria-labelledby='usage-title'] tbody tr")
    assert await visits.count() >= 1
    # Agents appear by pseudonym only.
    pseudonym = await visits.first.locator("code").inner_text()
    assert re.fullmatch(r"[0-9A-F]{10}", pseudonym)
    await check_accessibility(page, "venue-statement")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Télécharger le PDF (Factur-X)").click()
    download = await download_info.value
    path = await download.path()
    content = path.read_bytes()
    assert content.startswith(b"%PDF")
    _, xml = get_xml_from_pdf(content, check_xsd=False)
    assert statement.number.encode() in xml

    await check_on_desktop(
        browser,
        live_server,
        VENUE_ADMIN,
        {
            "venue-workspaces": "/venue",
            "venue-workspace-edit": f"/venue/workspaces/{workspace.id}",
            "venue-hours": "/venue/hours",
            "venue-devices": "/venue/devices",
            "venue-statements": "/venue/statements",
            "venue-statement": f"/venue/statements/{statement.id}",
        },
    )
