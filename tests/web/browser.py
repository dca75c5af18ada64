"""Debian's Chromium for browser tests: installed on first use, launched headless.

Reusable by every browser test (the door scanner's launch adds a fake camera through
`extra_args`). The tests never skip for lack of a browser: they install it (apt, as
root, which is how both this machine and CI run).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from playwright.async_api import Browser, Playwright

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}


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
