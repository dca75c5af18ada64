"""The public directory `/lieux`: approved venues only, French first, JSON-LD, ETag."""

from __future__ import annotations

import json
import re
from datetime import date, time, timedelta

import httpx
from lxml import html as lxml_html

from booking.tables import Closure, OpeningHours, Venue
from service.kernel.identity import Role
from tests.factories import make_user, make_venue, make_workspace
from tests.web.test_pages import sign_in


async def _network() -> dict[str, Venue]:
    ruche = await make_venue(
        name="La Ruche",
        commune="Roubaix",
        insee_code="59512",
        postcode="59100",
        services=["wifi", "accessibility"],
        hours=False,
        description="Un tiers-lieu au bord du canal.",
        website="https://laruche.example",
    )
    await OpeningHours.insert(
        *[
            OpeningHours(venue=ruche.id, weekday=d, opens=time(8, 30), closes=time(12, 30))
            for d in range(7)
        ],
        *[
            OpeningHours(venue=ruche.id, weekday=d, opens=time(13, 30), closes=time(18))
            for d in range(7)
        ],
    )
    await make_workspace(ruche, kind="desk", capacity=12)
    await make_workspace(ruche, kind="meeting_room", booking_unit="hour", capacity=6)
    phare = await make_venue(name="Le Phare", commune="Lille", services=["wifi"])
    await make_workspace(phare, kind="lab", booking_unit="hour", capacity=4)
    return {
        "ruche": ruche,
        "phare": phare,
        "applied": await make_venue(name="Candidat Discret", status="applied"),
        "suspended": await make_venue(name="Lieu Suspendu", status="suspended"),
        "closed": await make_venue(name="Lieu Fermé", status="closed"),
    }


async def test_the_directory_lists_approved_venues_in_french_without_sign_in(
    client: httpx.AsyncClient,
) -> None:
    await _network()

    response = await client.get("/lieux")

    assert response.status_code == 200, response.text
    assert '<html lang="fr">' in response.text
    document = lxml_html.fromstring(response.text)
    names = [
        " ".join(h.text_content().split())
        for h in document.xpath('//ol[contains(@class, "directory-list")]/li/h2')
    ]
    assert names == ["1 Le Phare", "2 La Ruche"]  # by commune, then name
    for hidden in ("Candidat Discret", "Lieu Suspendu", "Lieu Fermé"):
        assert hidden not in response.text
    ruche = " ".join(
        document.xpath('//ol[contains(@class, "directory-list")]/li')[1].text_content().split()
    )
    assert "Ouvert aujourd'hui 08:30–12:30, 13:30–18:00" in ruche
    assert "12 places de bureau libres aujourd'hui" in ruche
    assert "Poste en espace partagé (1) · Salle de réunion (1)" in ruche
    assert "Accès de plain-pied" in ruche
    assert "Dimanche" in ruche  # the week
    assert document.xpath('//main//a[@href="/"]')  # sign in to book
    # The SVG map's numbered pins link to the list's entries, in the same order.
    pins = [
        a.get("aria-label") for a in document.xpath('//*[local-name()="svg"]//*[local-name()="a"]')
    ]
    assert pins == ["1. Le Phare, Lille", "2. La Ruche, Roubaix"]


async def test_filters_by_commune_and_kind(client: httpx.AsyncClient) -> None:
    await _network()

    roubaix = await client.get("/lieux", params={"commune": "roubaix"})
    labs = await client.get("/lieux", params={"kind": "lab"})
    nothing = await client.get("/lieux", params={"commune": "Roubaix", "kind": "lab"})
    bogus = await client.get("/lieux", params={"kind": "<script>"})
    bad_page = await client.get("/lieux", params={"page": "0"})
    not_a_number = await client.get("/lieux", params={"page": "deux"})

    assert "La Ruche" in roubaix.text
    assert "Le Phare" not in roubaix.text
    assert "Le Phare" in labs.text
    assert "La Ruche" not in labs.text
    assert "Aucun lieu ne correspond à ces filtres." in nothing.text
    assert bogus.status_code == 422
    assert "<script>" not in bogus.text
    assert bad_page.status_code == 422
    assert not_a_number.status_code == 422


async def test_a_closure_today_says_closed_and_no_free_seat(client: httpx.AsyncClient) -> None:
    venues = await _network()
    today = date.today()
    await Closure(
        venue=venues["ruche"].id,
        starts_on=today - timedelta(days=1),
        ends_on=today + timedelta(days=1),
        reason="Travaux secrets",
    ).save()

    page = await client.get("/lieux", params={"commune": "Roubaix"})

    assert "Fermé aujourd'hui" in page.text
    assert "libres aujourd'hui" not in page.text
    assert "Travaux secrets" not in page.text


async def test_a_venue_page_carries_schema_org_json_ld(client: httpx.AsyncClient) -> None:
    venues = await _network()
    slug = (
        venues["ruche"].slug
        or (await Venue.select(Venue.slug).where(Venue.id == venues["ruche"].id).first())["slug"]
    )

    response = await client.get(f"/lieux/{slug}")

    assert response.status_code == 200, response.text
    [script] = lxml_html.fromstring(response.text).xpath('//script[@type="application/ld+json"]')
    place = json.loads(script.text)
    assert place["@context"] == "https://schema.org"
    assert place["@type"] == "Place"
    assert place["name"] == "La Ruche"
    assert place["url"] == f"http://testserver.local/lieux/{slug}"
    assert place["address"] == {
        "@type": "PostalAddress",
        "streetAddress": venues["ruche"].address,
        "postalCode": "59100",
        "addressLocality": "Roubaix",
        "addressCountry": "FR",
    }
    assert place["geo"] == {"@type": "GeoCoordinates", "latitude": 50.6372, "longitude": 3.0633}
    specs = place["openingHoursSpecification"]
    assert len(specs) == 14
    assert specs[0] == {
        "@type": "OpeningHoursSpecification",
        "dayOfWeek": "https://schema.org/Monday",
        "opens": "08:30",
        "closes": "12:30",
    }
    assert {s["dayOfWeek"] for s in specs} >= {"https://schema.org/Sunday"}
    assert place["sameAs"] == "https://laruche.example"
    assert "noindex" not in response.text
    assert 'href="/"' in response.text  # sign in to book


async def test_json_ld_cannot_be_broken_out_of(client: httpx.AsyncClient) -> None:
    venue = await make_venue(name="</script><script>alert(1)</script>", commune="Lille")
    slug = (await Venue.select(Venue.slug).where(Venue.id == venue.id).first())["slug"]

    response = await client.get(f"/lieux/{slug}")

    assert response.status_code == 200
    assert "<script>alert(1)" not in response.text
    [script] = lxml_html.fromstring(response.text).xpath('//script[@type="application/ld+json"]')
    assert json.loads(script.text)["name"] == "</script><script>alert(1)</script>"


async def test_suspended_closed_and_applied_venues_are_not_public(
    client: httpx.AsyncClient,
) -> None:
    venues = await _network()
    for key in ("applied", "suspended", "closed"):
        slug = (await Venue.select(Venue.slug).where(Venue.id == venues[key].id).first())["slug"]
        response = await client.get(f"/lieux/{slug}")
        assert response.status_code == 404, key
    assert (await client.get("/lieux/nulle-part")).status_code == 404


async def test_a_venue_admin_previews_their_page_before_approval(
    client: httpx.AsyncClient,
) -> None:
    venues = await _network()
    applied = venues["applied"]
    slug = (await Venue.select(Venue.slug).where(Venue.id == applied.id).first())["slug"]
    await sign_in(client, await make_user(Role.VENUE_ADMIN, venue=venues["phare"]))
    other = await client.get(f"/lieux/{slug}")
    client.cookies.clear()
    await sign_in(client, await make_user(Role.VENUE_ADMIN, venue=applied))

    own = await client.get(f"/lieux/{slug}")

    assert other.status_code == 404
    assert own.status_code == 200
    assert "Aperçu" in own.text
    assert "cette page n'est pas publique" in own.text
    assert '<meta name="robots" content="noindex">' in own.text
    assert own.headers["cache-control"] == "private, no-cache"
    console = await client.get("/venue")
    assert f'href="/lieux/{slug}"' in console.text


async def test_pages_are_cached_with_an_etag(client: httpx.AsyncClient) -> None:
    venues = await _network()

    first = await client.get("/lieux")
    again = await client.get("/lieux", headers={"If-None-Match": first.headers["etag"]})
    await Venue.update({Venue.name: "La Ruche Nouvelle"}).where(Venue.id == venues["ruche"].id)
    changed = await client.get("/lieux", headers={"If-None-Match": first.headers["etag"]})

    assert first.headers["cache-control"] == "public, max-age=300"
    assert "Cookie" in first.headers["vary"]
    assert again.status_code == 304
    assert again.content == b""
    assert changed.status_code == 200
    assert "La Ruche Nouvelle" in changed.text
    assert re.fullmatch(r'"[0-9a-f]{32}"', changed.headers["etag"])


async def test_map_assets_are_the_npm_packages_files_and_nothing_else(
    client: httpx.AsyncClient,
) -> None:
    script = await client.get("/map-assets/leaflet.js")
    style = await client.get("/map-assets/markercluster.css")

    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert b"Leaflet" in script.content[:500]
    assert style.headers["content-type"].startswith("text/css")
    for name in ("package.json", "..%2Fpackage-lock.json", "leaflet.js.map"):
        assert (await client.get(f"/map-assets/{name}")).status_code == 404, name


async def test_an_imported_application_without_siret_shows_in_the_console(
    client: httpx.AsyncClient,
) -> None:
    await make_venue(name="Importé Sans Siret", siret=None, contact_email="", status="applied")
    await sign_in(client, await make_user(Role.NETWORK_ADMIN))

    page = await client.get("/network/venues")

    assert page.status_code == 200
    assert "Importé Sans Siret" in page.text
    assert "pas encore de SIRET (importé)" in page.text
    assert "SIRET None" not in page.text
    assert 'href="mailto:"' not in page.text
