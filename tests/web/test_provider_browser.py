"""Sign-in with the identity provider in Chromium: our page, the provider's, and back; then
sign-out at both. The provider is pyop over https on a local port (tests/oidc_provider.py)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, expect
from redis.asyncio import Redis

from booking.services import federation
from booking.tables import User
from service.app.serving import free_port, served
from service.kernel.settings import Settings
from tests.conftest import live_env
from tests.factories import make_organisation
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, LocalProvider, running_provider
from tests.web.browser import PHONE, check_accessibility
from web.controllers.provider_sign_in import CALLBACK_PATH

SIRET = "21590350100017"


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def op(tmp_path: Path, port: int) -> Iterator[LocalProvider]:
    base = f"http://127.0.0.1:{port}"
    with running_provider(tmp_path, [f"{base}{CALLBACK_PATH}"], [f"{base}/?signed_out=1"]) as p:
        p.people["camille"] = {
            "given_name": "Camille",
            "usual_name": "Martin",
            "email": "camille.martin@lille.example.fr",
            "uid": "agent-123",
            "siret": SIRET,
        }
        p.people["dominique"] = {
            "given_name": "Dominique",
            "usual_name": "Leroy",
            "email": "dominique@entreprise.example",
            "uid": "agent-456",
            "siret": "11111111111111",
        }
        yield p


@pytest.fixture
def provider_server(
    settings: Settings, redis: Redis, op: LocalProvider, port: int
) -> Iterator[str]:
    here = replace(settings, base_url=f"http://127.0.0.1:{port}")
    env = {
        **live_env(here),
        "OIDC_ISSUER": op.issuer,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_CA_FILE": str(op.ca_file),
    }
    with served(env, timeout=60, port=port) as server:
        yield server.url


@pytest.fixture
async def visitor(browser: Browser, provider_server: str) -> AsyncIterator[BrowserContext]:
    # The provider's certificate is self-signed for 127.0.0.1: Chromium is told to accept it.
    context = await browser.new_context(
        base_url=provider_server,
        viewport=PHONE,
        locale="fr-FR",
        timezone_id="Europe/Paris",
        ignore_https_errors=True,
    )
    context.set_default_timeout(15_000)
    try:
        yield context
    finally:
        await context.close()


async def test_an_agent_joins_with_the_provider_and_signs_out_at_both(
    visitor: BrowserContext, provider_server: str, op: LocalProvider
) -> None:
    organisation = await make_organisation(name="Ville de Lille")
    await federation.set_enrolment_rule(organisation.id, True, [SIRET], [])
    page = await visitor.new_page()

    await page.goto("/")
    await check_accessibility(page, "home-with-provider")
    await page.get_by_role("link", name="Se connecter avec ProConnect").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Fournisseur d'identité de test"
    )
    await page.get_by_label("Compte").select_option("camille")
    await page.get_by_role("button", name="Se connecter").click()

    await expect(page).to_have_url(f"{provider_server}/agent")
    agent = await User.objects().where(User.email == "camille.martin@lille.example.fr").first()
    assert agent is not None
    assert agent.organisation == organisation.id

    await page.get_by_role("button", name="Se déconnecter").click()
    # Back from the provider's sign-out, which hands our `state` back.
    await expect(page).to_have_url(re.compile(re.escape(f"{provider_server}/?signed_out=1&state=")))
    assert op.logouts == 1
    await expect(page.get_by_text("Vous êtes déconnecté.")).to_be_visible()


async def test_an_unknown_siret_is_told_whom_to_ask(
    visitor: BrowserContext, provider_server: str
) -> None:
    page = await visitor.new_page()

    await page.goto("/signin/oidc")
    await page.get_by_label("Compte").select_option("dominique")
    await page.get_by_role("button", name="Se connecter").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Votre employeur n'est pas encore dans le réseau"
    )
    await expect(page.get_by_role("alert")).to_contain_text("11111111111111")
    await check_accessibility(page, "provider-no-organisation")
    assert await User.count() == 0
