"""The dashboard's SVG geometry: bars in proportion, venues where the map says they are."""

from __future__ import annotations

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
