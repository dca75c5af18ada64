"""Browser-side packages from the npm registry (web/frontend), installed from their lock file.

The door scanner decodes QR codes in the browser with jsQR, and the street maps are drawn by
Leaflet with leaflet.markercluster (served from the app, never from a CDN); `ensure_frontend()` runs
`npm ci` when node_modules is missing or older than package-lock.json, so `tierslieux
demo`, `tierslieux serve` and the tests set it up on a fresh machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

FRONTEND = Path(__file__).parent / "frontend"
NODE_MODULES = FRONTEND / "node_modules"
LOCK = FRONTEND / "package-lock.json"
# npm writes this file last in `npm ci`: its age tells whether node_modules follows the lock.
_INSTALLED = NODE_MODULES / ".package-lock.json"
JSQR = NODE_MODULES / "jsqr" / "dist" / "jsQR.js"
# What the street map needs, by the name it is served under (/map-assets/{name}).
MAP_ASSETS = {
    "leaflet.js": NODE_MODULES / "leaflet" / "dist" / "leaflet.js",
    "leaflet.css": NODE_MODULES / "leaflet" / "dist" / "leaflet.css",
    "markercluster.js": NODE_MODULES
    / "leaflet.markercluster"
    / "dist"
    / "leaflet.markercluster.js",
    "markercluster.css": NODE_MODULES / "leaflet.markercluster" / "dist" / "MarkerCluster.css",
    "markercluster-default.css": NODE_MODULES
    / "leaflet.markercluster"
    / "dist"
    / "MarkerCluster.Default.css",
}


class FrontendMissing(RuntimeError):
    """The browser packages are not installed and npm cannot install them."""


def frontend_is_current() -> bool:
    return (
        JSQR.exists()
        and all(path.exists() for path in MAP_ASSETS.values())
        and _INSTALLED.exists()
        and _INSTALLED.stat().st_mtime >= LOCK.stat().st_mtime
    )


def ensure_frontend() -> None:
    """Install web/frontend's packages with `npm ci` unless they already match the lock file."""
    if frontend_is_current():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise FrontendMissing(
            "The door scanner and the street maps need Node.js and npm to install their "
            "packages (jsQR, Leaflet) "
            "(apt-get install npm, or https://nodejs.org)."
        )
    result = subprocess.run(
        [npm, "ci", "--prefix", str(FRONTEND), "--no-audit", "--no-fund"],
        capture_output=True,
        text=True,
        check=False,
    )
    if (
        result.returncode != 0
        or not JSQR.exists()
        or not all(p.exists() for p in MAP_ASSETS.values())
    ):
        raise FrontendMissing(f"npm ci failed ({result.returncode}):\n{result.stderr[-3000:]}")
    # Mark the install as at least as new as the lock (even a lock dated in the future).
    stamp = max(time.time(), LOCK.stat().st_mtime)
    os.utime(_INSTALLED, (stamp, stamp))
