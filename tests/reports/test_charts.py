"""The server-drawn SVG charts: well-formed, labelled, and escaping every label."""

import xml.etree.ElementTree as ET

import pytest

from reports.charts import bar_chart, line_chart, nice_ceiling

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
