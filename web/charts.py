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
    drawn_height = max(round(span_y * scale + 2 * MAP_PADDING), 120)

    def place(lat: float, lon: float) -> tuple[float, float]:
        # Centred across the width when the venues spread more north-south than east-west.
        x = (width - span_x * scale) / 2 + (lon - left) * squeeze * scale
        return x, MAP_PADDING + (top - lat) * scale

    spots = _apart(
        [place(lat, lon) for lat, lon in zip(lats, lons, strict=True)], width, drawn_height
    )
    points = []
    for number, (venue, (x, y)) in enumerate(zip(venues, spots, strict=True), start=1):
        points.append(
            Point(
                id=venue["id"],
                name=str(venue["name"]),
                commune=str(venue["commune"]),
                status=str(venue.get("status") or "approved"),
                number=number,
                x=round(x, 1),
                y=round(y, 1),
            )
        )
    where = place(*centre) if centre is not None else None
    return VenueMap(
        points,
        width,
        drawn_height,
        (round(where[0], 1), round(where[1], 1)) if where is not None else None,
    )


PIN_GAP = 24  # a pin's diameter and a little: numbers must not hide one another


def _apart(spots: list[tuple[float, float]], width: int, height: int) -> list[tuple[float, float]]:
    """Nudge pins that would overlap (venues a street apart) until each number shows.

    A few rounds of pushing each close pair apart along the line between them; the
    map stays true to within a pin's width, which is all a schematic map promises.
    """
    moved = [list(spot) for spot in spots]
    for _ in range(40):
        crowded = False
        for i in range(len(moved)):
            for j in range(i + 1, len(moved)):
                dx = moved[j][0] - moved[i][0]
                dy = moved[j][1] - moved[i][1]
                gap = math.hypot(dx, dy)
                if gap >= PIN_GAP:
                    continue
                crowded = True
                if gap < 0.01:  # the same spot: side by side
                    dx, dy, gap = 1.0, 0.0, 1.0
                push = (PIN_GAP - gap) / 2 + 0.5
                moved[i][0] -= dx / gap * push
                moved[i][1] -= dy / gap * push
                moved[j][0] += dx / gap * push
                moved[j][1] += dy / gap * push
        for spot in moved:
            spot[0] = min(max(spot[0], PIN_GAP / 2), width - PIN_GAP / 2)
            spot[1] = min(max(spot[1], PIN_GAP / 2), height - PIN_GAP / 2)
        if not crowded:
            break
    return [(x, y) for x, y in moved]
