"""The organisation admin's story in a real browser (phone-sized, then desktop), on the demo.

Every page is checked with axe-core and screenshotted into test-artifacts/.
"""

from __future__ import annotations

from facturx import get_xml_from_pdf
from playwright.async_api import Browser, BrowserContext, expect

from billing.tables import Document
from booking.tables import User
from service.kernel.settings import Settings
from tests.web.browser import ORG_ADMIN, check_accessibility, sign_in
from tests.web.consoles import check_on_desktop, close_last_month

CSV = (
    "email;display_name;monthly_allowance_units\n"
    "yanis.import@mel.example;Yanis Importé;6\n"
    "ceci-n-est-pas-une-adresse;Ligne Fautive;\n"
    "zoe.import@mel.example;Zoé Importée;\n"
)


async def test_org_admin_invites_imports_deactivates_and_downloads_an_invoice(
    phone: BrowserContext, browser: Browser, live_server: str, settings: Settings
) -> None:
    admin = await User.objects().where(User.email == ORG_ADMIN).first()
    assert admin is not None
    assert admin.organisation is not None
    await close_last_month(settings, organisation=admin.organisation)
    invoice = (
        await Document.objects()
        .where((Document.kind == "invoice") & (Document.organisation == admin.organisation))
        .first()
    )
    assert invoice is not None, "the demo organisation has no invoice for last month"
    page = await phone.new_page()

    await sign_in(page, ORG_ADMIN)
    await expect(page).to_have_url(f"{live_server}/organisation")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Agents")
    await check_accessibility(page, "org-agents")

    # Invite one agent: the link is shown once.
    invite = page.locator("form[action='/organisation/agents']")
    await invite.get_by_label("Adresse e-mail").fill("daniele.nouvelle@mel.example")
    await invite.get_by_label("Nom").fill("Danièle Nouvelle")
    await invite.get_by_role("button", name="Inviter").click()
    link = page.get_by_label("Lien d'invitation")
    await expect(link).to_be_visible()
    assert "/invitation/" in await link.input_value()
    await check_accessibility(page, "org-agents-invited")
    invited = await User.objects().where(User.email == "daniele.nouvelle@mel.example").first()
    assert invited is not None
    assert invited.organisation == admin.organisation

    # A CSV with one bad row: two agents invited, the bad row shown with its line.
    await page.get_by_label("Fichier CSV").set_input_files(
        {"name": "agents.csv", "mimeType": "text/csv", "buffer": CSV.encode()}
    )
    await page.get_by_role("button", name="Importer").click()
    await expect(page.get_by_text("2 agents invités.")).to_be_visible()
    await expect(page.get_by_text("1 ligne refusée :")).to_be_visible()
    bad_row = page.locator("tr.import-error")
    await expect(bad_row).to_have_count(1)
    await expect(bad_row.locator("td").first).to_have_text("3")
    await check_accessibility(page, "org-agents-import")
    assert await User.exists().where(User.email == "zoe.import@mel.example")

    # Deactivate the agent invited above.
    await page.get_by_role("button", name="Désactiver Danièle Nouvelle").click()
    await expect(page.get_by_role("status").first).to_contain_text("Agent désactivé")
    await invited.refresh()
    assert invited.active is False
    await expect(page.get_by_role("button", name="Réactiver Danièle Nouvelle")).to_be_visible()

    await page.get_by_role("link", name="Forfaits et règles").click()
    await expect(page.get_by_label("Forfait mensuel par agent (demi-journées)")).to_be_visible()
    await check_accessibility(page, "org-policy")
    await page.get_by_role("link", name="Réservations").click()
    await expect(page.get_by_role("heading", name="Par agent", exact=False)).to_be_visible()
    await check_accessibility(page, "org-usage")

    # Last month's invoice as Factur-X: a PDF carrying its CII XML.
    await page.get_by_role("link", name="Factures").click()
    await expect(page.get_by_text(invoice.number)).to_be_visible()
    await check_accessibility(page, "org-invoices")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name=f"Facture {invoice.number} en PDF Factur-X").click()
    content = (await (await download_info.value).path()).read_bytes()
    assert content.startswith(b"%PDF")
    _, xml = get_xml_from_pdf(content, check_xsd=False)
    assert invoice.number.encode() in xml
    async with page.expect_download() as plain_info:
        await page.get_by_role("link", name=f"Facture {invoice.number} en PDF simple").click()
    assert (await (await plain_info.value).path()).read_bytes().startswith(b"%PDF")

    await check_on_desktop(
        browser,
        live_server,
        ORG_ADMIN,
        {
            "org-agents": "/organisation",
            "org-policy": "/organisation/policy",
            "org-usage": f"/organisation/usage?month={invoice.period:%Y-%m}",
            "org-invoices": "/organisation/invoices",
        },
    )
