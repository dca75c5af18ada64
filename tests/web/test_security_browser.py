"""The pages run under their Content-Security-Policy without a single violation, in Chromium.

Each role signs in and opens every page of its menu (and the pass, the door scanner and
piccolo-admin);
the browser reports every blocked script, style or image through `securitypolicyviolation`
events and console errors. A control proves the listener hears a real violation.
"""

from __future__ import annotations

from playwright.async_api import Browser, ConsoleMessage, Page

from tests.web.browser import (
    AGENT,
    NETWORK_ADMIN,
    ORG_ADMIN,
    PHONE,
    STAFF,
    VENUE_ADMIN,
    sign_in,
)

LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"} in ${e.documentURI}`);
});
"""


async def _violations(page: Page) -> list[str]:
    found: list[str] = await page.evaluate("window.__violations || []")
    return found


async def _menu(page: Page) -> list[str]:
    hrefs: list[str] = await page.eval_on_selector_all(
        "nav .nav a[href^='/']", "links => links.map(a => a.getAttribute('href'))"
    )
    return hrefs


async def test_every_menu_page_runs_without_a_policy_violation(
    browser: Browser, live_server: str
) -> None:
    failures: list[str] = []
    visited: list[str] = []
    for email, extra in (
        (AGENT, ["/agent/pass"]),
        (STAFF, ["/scan"]),
        (ORG_ADMIN, []),
        (VENUE_ADMIN, []),
        (NETWORK_ADMIN, ["/network/admin/"]),
    ):
        context = await browser.new_context(
            base_url=live_server, viewport=PHONE, locale="fr-FR", timezone_id="Europe/Paris"
        )
        context.set_default_timeout(15_000)
        await context.add_init_script(LISTEN)
        console: list[str] = []

        def heard(message: ConsoleMessage, into: list[str] = console) -> None:
            if "Content Security Policy" in message.text:
                into.append(message.text)

        try:
            page = await context.new_page()
            page.on("console", heard)
            await page.goto("/")
            failures += await _violations(page)
            await sign_in(page, email)
            await page.wait_for_load_state("networkidle")
            for path in [*await _menu(page), *extra]:
                response = await page.goto(path)
                assert response is not None
                assert response.status == 200, f"{email} {path}: {response.status}"
                await page.wait_for_load_state("networkidle")
                visited.append(path)
                failures += [f"{email} {path}: {v}" for v in await _violations(page)]
            failures += [f"{email} console: {text}" for text in console]
        finally:
            await context.close()
    assert failures == [], "\n".join(failures)
    assert {"/agent", "/agent/pass", "/scan", "/organisation", "/venue", "/network"} <= set(visited)


async def test_the_listener_hears_an_inline_handler_being_refused(
    browser: Browser, live_server: str
) -> None:
    """The control: without it, a silent listener would pass the test above."""
    context = await browser.new_context(base_url=live_server, viewport=PHONE)
    await context.add_init_script(LISTEN)
    try:
        page = await context.new_page()
        await page.goto("/")
        await page.evaluate(
            """document.body.insertAdjacentHTML("beforeend",
                 '<img src="/static/icon.svg" alt="" onload="window.__ran = true">')"""
        )
        await page.wait_for_function("window.__violations.length > 0")
        assert "script-src-attr" in (await _violations(page))[0]
        assert await page.evaluate("window.__ran === undefined")
    finally:
        await context.close()
