"""Debian's Chromium for browser tests: installed on first use, launched headless.

Reusable by every browser test (the door scanner's launch adds a fake camera through
`extra_args`). The tests never skip for lack of a browser: they install it (apt, as
root, which is how both this machine and CI run).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, BrowserContext, Locator, Page, Playwright

from service.app.seed import DEMO_PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}
# The demo's accounts (service/app/seed.py), by role.
AGENT = "agent@demo.test"
STAFF = "accueil@demo.test"
VENUE_ADMIN = "lieu@demo.test"
ORG_ADMIN = "orga@demo.test"
NETWORK_ADMIN = "reseau@demo.test"
_axe = Axe()


def ensure_chromium() -> Path:
    """The Chromium binary, installed with apt-get when missing."""
    if CHROMIUM.exists():
        return CHROMIUM
    if shutil.which("apt-get") is None:
        raise RuntimeError("Chromium is missing and apt-get is not available to install it.")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
    ):
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr[-3000:]}"
            )
    if not CHROMIUM.exists():
        raise RuntimeError(f"apt-get installed chromium but {CHROMIUM} is still missing.")
    return CHROMIUM


async def launch(playwright: Playwright, extra_args: list[str] | None = None) -> Browser:
    """Headless Debian Chromium; `extra_args` for e.g. a fake camera fed from a file."""
    return await playwright.chromium.launch(
        executable_path=str(ensure_chromium()),
        headless=True,
        args=["--no-sandbox", *(extra_args or [])],
    )


def artifact(name: str) -> Path:
    """Where a test keeps a screenshot or a trace (gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


async def check_accessibility(page: Page, name: str) -> None:
    """No serious or critical axe-core violation; a full-page screenshot either way."""
    await page.screenshot(path=artifact(f"{name}.png"), full_page=True)
    results = await _axe.run(page)
    serious = [
        v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")
    ]
    assert serious == [], f"{name}: " + "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(n["target"][0] for n in v["nodes"][:5])
        for v in serious
    )


async def sign_in(page: Page, email: str) -> None:
    """Sign in through the home page's form with a demo account."""
    await page.goto("/")
    await page.get_by_label("Adresse e-mail").fill(email)
    await page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()


async def block_tiles(context: BrowserContext) -> None:
    """No map tiles in the tests (no internet, and OSM's servers are not a test fixture)."""
    await context.route(re.compile(r"^https?://(?!127\.0\.0\.1|localhost)"), lambda r: r.abort())


async def street_map(page: Page, map_id: str) -> dict[str, Any]:
    """What the street map holds once drawn: every marker's number and name, in order, and
    what the first view shows (single markers and the venues inside clusters)."""
    await page.wait_for_function(
        "id => window.tileMaps && window.tileMaps[id]", arg=map_id, timeout=15_000
    )
    return await page.evaluate(
        """id => {
            const t = window.tileMaps[id];
            const layers = t.markers.getLayers();
            const root = document.getElementById(id);
            const clustered = [...root.querySelectorAll(".marker-cluster")]
                .reduce((n, c) => n + Number(c.textContent.trim()), 0);
            return {
                // Numbered as the list: sorted by number (the cluster tree keeps its own order).
                labels: layers.map(l => l.options.title)
                    .sort((a, b) => parseInt(a, 10) - parseInt(b, 10)),
                shown: root.querySelectorAll(".tile-pin").length,
                clustered: clustered,
            };
        }""",
        map_id,
    )


async def show_marker(page: Page, map_id: str, number: int) -> Locator:
    """Zoom (or spread a cluster) until marker `number` is on screen; its element."""
    await page.evaluate(
        """([id, n]) => new Promise(done => {
            const t = window.tileMaps[id];
            const marker = t.markers.getLayers()
                .find(l => l.options.title.startsWith(n + ". "));
            t.markers.zoomToShowLayer(marker, () => setTimeout(done, 400));
        })""",
        [map_id, number],
    )
    return page.locator(f'#{map_id} .tile-pin[data-number="{number}"]')
