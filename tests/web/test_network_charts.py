"""The dashboard's SVG geometry: bars in proportion, venues where the map says they are."""

from __future__ import annotations

import math

from web import charts


def test_bars_are_in_proportion_to_the_largest_value() -> None:
    chart = charts.bar_chart(
        [{"l": "Lille", "v": 30}, {"l": "Roubaix", "v": 15}, {"l": "Croix", "v": 0}],
        label="l",
        value="v",
    )
    lille, roubaix, croix = chart.bars
    assert lille.width == charts.CHART_WIDTH - charts.LABEL_WIDTH - charts.VALUE_ROOM
    assert roubaix.width == lille.width / 2
    assert croix.width == 0
    assert [b.y for b in chart.bars] == [0, 26, 52]
    assert chart.height == 3 * 26 - charts.BAR_GAP


def test_a_fixed_maximum_scales_percentages_and_an_empty_chart_says_so() -> None:
    chart = charts.bar_chart(
        [{"m": "juin", "p": 50, "t": "50 %"}], label="m", value="p", text="t", maximum=100
    )
    assert chart.bars[0].width == (charts.CHART_WIDTH - charts.LABEL_WIDTH - charts.VALUE_ROOM) / 2
    assert chart.bars[0].text == "50 %"
    assert charts.bar_chart([], label="l", value="v").empty


def test_the_map_puts_north_up_and_east_right_inside_the_box() -> None:
    venues = [
        {
            "id": 1,
            "name": "Nord",
            "commune": "A",
            "status": "approved",
            "latitude": 50.8,
            "longitude": 3.1,
        },
        {
            "id": 2,
            "name": "Sud",
            "commune": "B",
            "status": "approved",
            "latitude": 50.5,
            "longitude": 3.0,
        },
        {
            "id": 3,
            "name": "Est",
            "commune": "C",
            "status": "applied",
            "latitude": 50.6,
            "longitude": 3.3,
        },
    ]
    venue_map = charts.venue_map(venues)
    north, south, east = venue_map.points
    assert north.y < south.y
    assert east.x > north.x > south.x
    assert [p.number for p in venue_map.points] == [1, 2, 3]
    for point in venue_map.points:
        assert 0 <= point.x <= venue_map.width
        assert 0 <= point.y <= venue_map.height
    assert charts.venue_map([]).points == []


def test_the_map_keeps_close_pins_apart_and_frames_the_searched_centre() -> None:
    """Venues a street apart stay readable; the agent's search centre stays in the frame."""
    venues = [
        {"id": n, "name": f"V{n}", "commune": "Lille", "latitude": lat, "longitude": 3.06}
        for n, lat in enumerate((50.6370, 50.6371, 50.6371, 50.70), start=1)
    ]
    drawn = charts.venue_map(venues, centre=(50.55, 3.2), width=360, height=300)
    points = drawn.points
    for a in points:
        for b in points:
            if a is not b:
                assert math.hypot(a.x - b.x, a.y - b.y) >= charts.PIN_GAP - 0.5
        assert a.status == "approved"  # search results carry no status
    assert drawn.centre is not None
    assert 0 <= drawn.centre[0] <= drawn.width
    assert 0 <= drawn.centre[1] <= drawn.height
    assert drawn.centre[1] > max(p.y for p in points)  # further south than every venue
