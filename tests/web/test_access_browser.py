"""Access in the browser: strangers go to sign in, wrong roles get a 403 page, CSRF, sign-out."""

from __future__ import annotations

import re

from playwright.async_api import BrowserContext, expect

from tests.web.browser import AGENT, STAFF, check_accessibility, sign_in


async def test_anonymous_visitors_are_sent_to_the_sign_in_form(
    phone: BrowserContext, live_server: str
) -> None:
    page = await phone.new_page()
    for path in ("/agent", "/agent/bookings", "/agent/pass", "/account"):
        await page.goto(path)
        await expect(page).to_have_url(f"{live_server}/")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")


async def test_a_wrong_password_is_said_next_to_the_field(
    phone: BrowserContext, live_server: str
) -> None:
    page = await phone.new_page()
    await page.goto("/")
    await page.get_by_label("Adresse e-mail").fill(AGENT)
    await page.get_by_label("Mot de passe").fill("not-the-password")
    await page.get_by_role("button", name="Se connecter").click()
    email = page.get_by_label("Adresse e-mail")
    await expect(email).to_have_attribute("aria-invalid", "true")
    await expect(email).to_have_accessible_description(re.compile("incorrect"))
    await check_accessibility(page, "home-error")


async def test_venue_staff_land_on_the_scanner_and_may_not_open_agent_pages(
    phone: BrowserContext, live_server: str
) -> None:
    page = await phone.new_page()
    await sign_in(page, STAFF)
    await expect(page).to_have_url(f"{live_server}/scan")
    await page.get_by_role("link", name="Mon compte").click()
    await expect(page.get_by_text("Accueil d'un lieu")).to_be_visible()
    await check_accessibility(page, "account")
    response = await page.goto("/agent/pass")
    assert response is not None
    assert response.status == 403
    await expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")
    await check_accessibility(page, "forbidden")


async def test_forms_posted_without_the_csrf_token_are_refused(
    phone: BrowserContext, live_server: str
) -> None:
    page = await phone.new_page()
    await sign_in(page, AGENT)
    await expect(page).to_have_url(f"{live_server}/agent")
    # Same cookies as the page, but no token: what a forged cross-site form would send.
    forged = await page.request.post("/agent/calendar-feed", form={"x": "1"})
    assert forged.status == 403
    signout = await page.request.post("/signout", max_redirects=0)
    assert signout.status == 403
    await page.goto("/agent")
    await expect(page).to_have_url(f"{live_server}/agent")


async def test_sign_out_ends_the_session_and_forgets_the_offline_pass(
    phone: BrowserContext, live_server: str
) -> None:
    page = await phone.new_page()
    await sign_in(page, AGENT)
    await page.goto("/agent/pass")
    await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    await page.wait_for_function(
        "caches.open('tl-pass-v1').then(c => c.match('/agent/pass')).then(r => !!r)"
    )
    await page.get_by_role("button", name="Se déconnecter").click()
    await expect(page).to_have_url(f"{live_server}/?signed_out=1")
    await expect(page.get_by_role("status")).to_have_text("Vous êtes déconnecté.")
    await page.wait_for_function("caches.has('tl-pass-v1').then(kept => !kept)")
    await page.goto("/agent")
    await expect(page).to_have_url(f"{live_server}/")


async def test_the_pages_read_in_english(phone: BrowserContext, live_server: str) -> None:
    page = await phone.new_page()
    await sign_in(page, AGENT)
    await page.get_by_role("link", name="Read in English").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Find a desk")
    await page.get_by_role("link", name="My pass").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("My pass")
    await check_accessibility(page, "agent-pass-en")
