"""Geometry of the server-rendered SVG: bar charts and the venues' map (network, agent search).

No chart library and no map tiles: the pages must draw without internet (tests, many
deployments), and a few rectangles and circles are all the network's indicators need.
Templates draw what these functions compute; the numbers also go to a table beside each
chart, which is what screen readers read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# Small enough a viewBox that its 14-unit text stays readable once shrunk to a phone's width.
BAR_HEIGHT = 20
BAR_GAP = 6
LABEL_WIDTH = 160
CHART_WIDTH = 430
VALUE_ROOM = 48


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as people read it (e.g. "42 %")
    y: int
    width: float


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    label_width: int
    bar_height: int

    @property
    def empty(self) -> bool:
        return not self.bars


def bar_chart(
    rows: list[dict[str, Any]],
    *,
    label: str,
    value: str,
    text: str | None = None,
    limit: int = 12,
    maximum: float | None = None,
) -> BarChart:
    """Horizontal bars, one per row (the first `limit`), scaled to the largest value."""
    rows = rows[:limit]
    top = maximum if maximum is not None else max((float(r[value]) for r in rows), default=0.0)
    room = CHART_WIDTH - LABEL_WIDTH - VALUE_ROOM
    bars = [
        Bar(
            label=str(r[label]),
            value=float(r[value]),
            text=str(r[text] if text else r[value]),
            y=i * (BAR_HEIGHT + BAR_GAP),
            width=round(room * float(r[value]) / top, 1) if top > 0 else 0.0,
        )
        for i, r in enumerate(rows)
    ]
    height = max(len(bars) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP, BAR_HEIGHT)
    return BarChart(bars, CHART_WIDTH, height, LABEL_WIDTH, BAR_HEIGHT)


MAP_WIDTH = 640
MAP_HEIGHT = 440
MAP_PADDING = 28


@dataclass(frozen=True)
class Point:
    id: Any
    name: str
    commune: str
    status: str
    number: int
    x: float
    y: float


@dataclass(frozen=True)
class VenueMap:
    points: list[Point]
    width: int
    height: int
    # Where a search was centred (x, y), drawn as a cross; None on the network's map.
    centre: tuple[float, float] | None = None


def venue_map(
    venues: list[dict[str, Any]],
    *,
    centre: tuple[float, float] | None = None,
    width: int = MAP_WIDTH,
    height: int = MAP_HEIGHT,
) -> VenueMap:
    """Venues placed by longitude and latitude (equirectangular, true to scale near them).

    Numbered in the order given, so that a list in the same order is the map's text.
    `centre` is a (latitude, longitude) kept inside the frame too; a narrower `width`
    keeps pins and their numbers readable on a phone.
    """
    if not venues:
        return VenueMap([], width, 120)
    lats = [float(v["latitude"]) for v in venues]
    lons = [float(v["longitude"]) for v in venues]
    frame_lats = lats + ([centre[0]] if centre else [])
    frame_lons = lons + ([centre[1]] if centre else [])
    top, left = max(frame_lats), min(frame_lons)
    # Degrees of longitude shrink with the latitude; this keeps distances honest on screen.
    squeeze = math.cos(math.radians(sum(frame_lats) / len(frame_lats)))
    span_x = max((max(frame_lons) - left) * squeeze, 0.01)
    span_y = max(top - min(frame_lats), 0.01)
    # As large as fits the box, the same scale both ways.
    scale = min((width - 2 * MAP_PADDING) / span_x, (height - 2 * MAP_PADDING) / span_y)
    drawn_height = round(span_y * scale + 2 * MAP_PADDING)

    def place(lat: float, lon: float) -> tuple[float, float]:
        # Centred across the width when the venues spread more north-south than east-west.
        x = (width - span_x * scale) / 2 + (lon - left) * squeeze * scale
        return round(x, 1), round(MAP_PADDING + (top - lat) * scale, 1)

    points = []
    for number, (venue, lat, lon) in enumerate(zip(venues, lats, lons, strict=True), start=1):
        x, y = place(lat, lon)
        points.append(
            Point(
                id=venue["id"],
                name=str(venue["name"]),
                commune=str(venue["commune"]),
                status=str(venue.get("status") or "approved"),
                number=number,
                x=x,
                y=y,
            )
        )
    return VenueMap(
        points, width, max(drawn_height, 120), place(*centre) if centre is not None else None
    )
