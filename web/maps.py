"""The street map over a list of venues: Leaflet markers numbered like the list, with popups.

The page keeps its server-drawn SVG (web/charts.py) for browsers without JavaScript and as
the map's text equivalent; `tile_map` adds what the script (static/tile-map.js) draws on
tiles: the tile server from the settings and, per venue, its number, place and popup lines
(today's hours and today's free desk seats), all escaped for a `<script>` data block.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from booking.services.directory import PublicVenue
from service.kernel.i18n import N_, NP_
from service.kernel.settings import Settings
from web.i18n import translate


@dataclass(frozen=True)
class TileMap:
    id: str
    tiles: str
    attribution: str
    # The markers as JSON, safe inside <script type="application/json">.
    data: str
    # The words the script shows (tiles that do not load, a cluster's label).
    words: str


def popup_lines(lang: str, venue: PublicVenue | None) -> list[str]:
    if venue is None:
        return []
    if not venue.today:
        return [translate(lang, N_("Closed today"))]
    lines = [translate(lang, N_("Open today")) + " " + venue.today]
    if venue.kinds.get("desk"):
        lines.append(
            translate(
                lang,
                NP_("%(num)s desk seat free today", "%(num)s desk seats free today"),
                num=venue.free_seats_today,
            )
        )
    return lines


def _script_json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def tile_map(
    settings: Settings,
    lang: str,
    map_id: str,
    venues: Sequence[Mapping[str, Any]],
    facts: Mapping[uuid.UUID, PublicVenue],
    href: Callable[[Mapping[str, Any]], str],
    *,
    first: int = 1,
) -> TileMap | None:
    """The street map of `venues` (in the list's order, numbered from `first`); None without tiles."""
    if not settings.map_tile_url or not venues:
        return None
    markers = []
    for number, venue in enumerate(venues, start=first):
        label = translate(
            lang,
            N_("%(number)s. %(name)s, %(commune)s"),
            number=number,
            name=venue["name"],
            commune=venue["commune"],
        )
        markers.append(
            {
                "n": number,
                "label": label,
                "lat": float(venue["latitude"]),
                "lon": float(venue["longitude"]),
                "href": href(venue),
                "lines": popup_lines(lang, facts.get(venue["id"])),
            }
        )
    words = {
        "noTiles": translate(
            lang,
            N_(
                "The street map could not be loaded: the venues keep their place and number,"
                " without streets."
            ),
        ),
        "cluster": translate(lang, N_("%(num)s venues here: zoom in")),
        "map": translate(lang, N_("Street map of the venues")),
        "zoomIn": translate(lang, N_("Zoom in")),
        "zoomOut": translate(lang, N_("Zoom out")),
    }
    return TileMap(
        id=map_id,
        tiles=settings.map_tile_url,
        attribution=settings.map_tile_attribution,
        data=_script_json(markers),
        words=_script_json(words),
    )
