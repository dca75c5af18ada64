"""Security headers on pages, API answers and files; templates that the page policy allows."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from service.app.factory import app_resources, create_app
from service.kernel.identity import Role
from service.kernel.security_headers import API_POLICY, PAGE_POLICY, page_policy
from service.kernel.settings import Settings, SettingsError, load, tile_origin
from tests.factories import auth, make_user
from tests.web.test_pages import sign_in

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def test_the_page_policy_runs_only_our_own_scripts_and_styles() -> None:
    policy = directives(PAGE_POLICY)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in PAGE_POLICY
    assert "'unsafe-eval'" not in PAGE_POLICY


def _common(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"


async def test_pages_and_their_error_pages_send_the_page_policy(
    client: httpx.AsyncClient,
) -> None:
    user = await make_user(Role.AGENT)
    await sign_in(client, user)
    for path, status in (("/", 303), ("/agent", 200), ("/agent/pass", 200), ("/nowhere", 404)):
        response = await client.get(path)
        assert response.status_code == status, path
        # The page policy, with images from the street map's tile server (the default, OSM).
        assert response.headers["content-security-policy"] == page_policy(
            ["https://tile.openstreetmap.org"]
        ), path
        _common(response)
        # Served over http (BASE_URL http://): no HSTS, it would mean nothing.
        assert "strict-transport-security" not in response.headers


async def test_api_answers_and_files_are_never_sniffed_nor_framed(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    headers = auth(settings, await make_user(Role.AGENT))
    for path, status, headers_sent in (
        ("/api/v1/me", 200, headers),
        ("/api/v1/me", 401, {}),
        ("/api/v1/bookings/not-a-uuid", 404, headers),
    ):
        response = await client.get(path, headers=headers_sent)
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-security-policy"] == API_POLICY
        _common(response)
    for path in ("/static/web.css", "/static/pass.js", "/opendata/venues.csv"):
        response = await client.get(path)
        assert response.status_code == 200, path
        _common(response)


async def test_the_swagger_ui_gets_its_own_policy_and_is_still_never_framed(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/schema/swagger")

    assert response.status_code == 200
    assert "cdn.jsdelivr.net" in response.text  # why it needs a policy of its own
    policy = directives(response.headers["content-security-policy"])
    assert "https://cdn.jsdelivr.net" in policy["script-src"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    _common(response)


async def test_hsts_is_sent_when_the_service_is_served_over_https(
    settings: Settings, redis: Redis
) -> None:
    app = create_app(dataclasses.replace(settings, base_url="https://pass.example.org"))
    async with app_resources(app.state.settings)(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
            page = await http.get("/")
            api = await http.get("/api/v1/me")

    for response in (page, api):
        assert response.headers["strict-transport-security"] == (
            "max-age=31536000; includeSubDomains"
        )


# Data blocks (JSON, schema.org JSON-LD) are never run: the policy does not apply to them.
INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>"
)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: p.name)
def test_no_template_has_what_the_page_policy_would_block(template: Path) -> None:
    """Inline scripts, event handlers, style attributes and javascript: links would be
    refused by the browser: they belong in /static."""
    text = template.read_text()
    assert INLINE_SCRIPT.findall(text) == []
    assert EVENT_HANDLER.findall(text) == []
    assert re.findall(r"\sstyle\s*=", text) == []
    assert "<style" not in text
    assert "javascript:" not in text.lower()


def test_the_tile_server_setting_decides_where_page_images_may_come_from() -> None:
    assert tile_origin(load({}).map_tile_url) == "https://tile.openstreetmap.org"
    own = load({"MAP_TILE_URL": "https://{s}.tuiles.example.org/osm/{z}/{x}/{y}.png"})
    assert tile_origin(own.map_tile_url) == "https://*.tuiles.example.org"
    assert directives(page_policy([tile_origin(own.map_tile_url)]))["img-src"] == [
        "'self'",
        "https://*.tuiles.example.org",
    ]
    # No tiles: the pages keep the SVG map and the strict policy.
    assert load({"MAP_TILE_URL": ""}).map_tile_url == ""
    assert page_policy([]) == PAGE_POLICY
    for bad in (
        "ftp://tiles.example.org/{z}/{x}/{y}.png",
        "https://tiles.example.org/tile.png",
        "https://tiles.example.org; script-src *; x/{z}/{x}/{y}.png",
        "javascript:alert(1)//{z}{x}{y}",
    ):
        with pytest.raises(SettingsError):
            load({"MAP_TILE_URL": bad})
