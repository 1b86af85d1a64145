"""The server-drawn SVG charts: well-formed, labelled, and escaping every label."""

import xml.etree.ElementTree as ET

import pytest

from reports.charts import MAX_SERIES, bar_chart, line_chart, nice_ceiling, small_multiples

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup):
    return ET.fromstring(str(markup))


@pytest.mark.parametrize(
    ("value", "expected"), [(0, 1), (1, 1), (3, 5), (7, 10), (12, 20), (48, 50), (51, 100)]
)
def test_nice_ceiling(value, expected):
    assert nice_ceiling(value) == expected


def test_bar_chart_draws_one_bar_per_value_with_its_figure():
    svg = parse(
        bar_chart(
            ["Acne scars", "Melasma"],
            [("Started", [4, 0]), ("Completed", [3, 0])],
            title="Courses per concern",
        )
    )

    assert svg.find(f"{SVG}title").text == "Courses per concern"
    bars = svg.findall(f"{SVG}rect/{SVG}title")
    assert [bar.text for bar in bars] == [
        "Acne scars: 4 started",
        "Acne scars: 3 completed",
        "Melasma: 0 started",
        "Melasma: 0 completed",
    ]
    widths = [float(rect.get("width")) for rect in svg.findall(f"{SVG}rect") if len(rect)]
    assert widths[0] / widths[1] == pytest.approx(4 / 3)
    assert widths[2] == 0


def test_line_chart_breaks_the_line_where_a_value_is_missing():
    svg = parse(
        line_chart(
            ["1", "2", "3", "4"],
            [("Acne scars", [1.0, 2.5, None, 4.0]), ("Melasma", [None, 3.0, None, None])],
            title="Progress",
            y_max=5,
        )
    )

    lines = svg.findall(f"{SVG}polyline")
    assert len(lines) == 1  # 1-2 for acne scars; lone points are dots only
    assert len(lines[0].get("points").split()) == 2
    dots = [dot.find(f"{SVG}title").text for dot in svg.findall(f"{SVG}circle")]
    assert dots == ["Acne scars, 1: 1", "Acne scars, 2: 2.5", "Acne scars, 4: 4", "Melasma, 2: 3"]


def test_chart_labels_are_escaped():
    markup = str(
        bar_chart(['<script>alert("x")</script>'], [("A & B", [1])], title="<b>T</b>")
        + line_chart(["<i>"], [("<img src=x>", [1])], title="&")
    )

    assert "<script>" not in markup and "<img" not in markup and "<b>" not in markup
    assert "&lt;script&gt;" in markup and "A &amp; B" in markup
    parse(markup.split("</svg>")[0] + "</svg>")


def test_an_empty_line_chart_still_draws():
    svg = parse(line_chart([], [], title="Nothing"))

    assert svg.findall(f"{SVG}polyline") == []


def test_eleven_series_are_drawn_as_small_multiples_of_at_most_five():
    series = [(f"Practitioner {n}", [n, n + 1, None, n]) for n in range(11)]

    charts = small_multiples(["W1", "W2", "W3", "W4"], series, title="Sessions per week")

    assert MAX_SERIES == 5
    assert len(charts) == 3
    drawn = [len(parse(chart).findall(f"{SVG}polyline")) for chart in charts]
    assert drawn == [5, 5, 1]
    titles = [parse(chart).find(f"{SVG}title").text for chart in charts]
    assert titles[0] == (
        "Sessions per week (1-5 of 11: Practitioner 0, Practitioner 1, Practitioner 2, "
        "Practitioner 3, Practitioner 4)"
    )
    # One scale for all of them, so they compare: up to the largest value of any series (11).
    ticks = [
        [t.text for t in parse(chart).findall(f"{SVG}text") if t.get("text-anchor") == "end"]
        for chart in charts
    ]
    assert ticks[0] == ticks[1] == ticks[2]
    assert ticks[0][-1] == "20"


def test_few_series_are_one_chart_and_none_is_no_chart():
    assert len(small_multiples(["a"], [("One", [1])], title="T")) == 1
    assert small_multiples(["a"], [], title="T") == []


def test_charts_carry_no_style_attribute_and_draw_readable_at_768_px():
    line = parse(line_chart(["a", "b"], [("One", [1, 2])], title="T"))
    bar = parse(bar_chart(["Acne scars"], [("Started", [3])], title="T"))

    for svg in (line, bar):
        assert all("style" not in element.attrib for element in svg.iter())
        assert svg.attrib["font-size"] == "13"
        # Drawn no wider than a 768 px page's column: the labels are shown at full size or
        # larger, never shrunk.
        assert float(svg.attrib["viewBox"].split()[2]) <= 720
    assert "report-chart-narrow" in line.attrib["class"]
