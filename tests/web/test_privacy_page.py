"""The privacy notice at /confidentialite: public, in both languages, linked from every page."""

from __future__ import annotations

import re

import httpx

from service.kernel.identity import Role
from tests.factories import make_user
from tests.web.test_pages import sign_in

FOOTER_LINK = '<a href="/confidentialite">'


def _no_inline_code(html: str) -> None:
    """The page policy allows no inline script or style (docs/reliability.md)."""
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert "<style" not in html
    assert " style=" not in html


async def test_the_notice_is_public_and_french_first(client: httpx.AsyncClient) -> None:
    response = await client.get("/confidentialite")

    assert response.status_code == 200
    html = response.text
    assert '<html lang="fr">' in html
    assert "<h1>Confidentialité</h1>" in html
    for sentence in (
        "est responsable du traitement des données personnelles qu'il détient à votre sujet",
        "Les passages à la porte gardent le lien avec vous 90 jours, puis seul le décompte",
        "Les visites et réservations gardent votre nom 13 mois après la fin de leur mois",
        "Code de commerce, article L123-22",
        "« Télécharger mes données »",
        "RGPD, article 15",
        "facturation@tiers-lieux.invalid",
        "CNIL",
    ):
        assert sentence in html, sentence
    assert "Content-Security-Policy" in response.headers
    _no_inline_code(html)


async def test_the_notice_reads_in_english(client: httpx.AsyncClient) -> None:
    response = await client.get("/confidentialite?lang=en")

    assert response.status_code == 200
    html = response.text
    assert '<html lang="en">' in html
    for sentence in (
        "<h1>Privacy</h1>",
        "Door scans keep the link to you for 90 days, then only the count of entries stays.",
        "Visits and bookings keep your name for 13 months after the end of their month",
        "An invitation not accepted within 30 days is deleted",
        "Issued invoices and statements are kept ten years, unchanged",
        "GDPR article 15",
    ):
        assert sentence in html, sentence


async def test_every_page_links_the_notice_from_its_footer(client: httpx.AsyncClient) -> None:
    anonymous = ["/", "/confidentialite", "/invitation/not-a-token"]
    for path in anonymous:
        response = await client.get(path, headers={"Accept": "text/html"})
        assert FOOTER_LINK in response.text, (path, response.status_code)

    for role in (Role.AGENT, Role.ORG_ADMIN, Role.VENUE_ADMIN, Role.NETWORK_ADMIN):
        client.cookies.clear()
        answer = await sign_in(client, await make_user(role))
        assert answer.status_code == 303, answer.text
        for path in (answer.headers["location"], "/account", "/confidentialite"):
            response = await client.get(path)
            assert response.status_code == 200, (role, path)
            assert FOOTER_LINK in response.text, (role, path)
