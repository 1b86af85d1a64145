"""Small SVG charts drawn on the server: no JavaScript, nothing fetched from elsewhere.

Each function returns safe SVG markup for a template; every label is escaped. The figures are
always shown in a table beside the chart too, so the chart is a picture, not the only record.
"""

import itertools
import math

from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

PALETTE = [
    "#0d6efd",
    "#198754",
    "#dc3545",
    "#fd7e14",
    "#6f42c1",
    "#20c997",
    "#d63384",
    "#0dcaf0",
    "#6c757d",
    "#ffc107",
    "#6610f2",
    "#495057",
]
FONT = 'font-family="system-ui, sans-serif" font-size="12"'
_ids = itertools.count(1)


def _join(parts):
    """Concatenate markup: safe parts stay as they are, anything else is escaped."""
    return mark_safe("".join(conditional_escape(part) for part in parts))


def _number(value):
    if value is None:
        return ""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def nice_ceiling(value):
    """The smallest 1, 2 or 5 times a power of ten at or above `value` (at least 1)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover


def _ticks(top):
    """About five evenly spaced values from 0 to `top` inclusive."""
    step = nice_ceiling(top / 5) if top > 5 else 1
    return [step * n for n in range(int(top // step) + 1)]


def _svg(width, height, title, body):
    title_id = f"chart-{next(_ids)}"
    return format_html(
        '<svg class="report-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" '
        'width="{}" role="img" aria-labelledby="{}" {}>'
        '<title id="{}">{}</title>{}</svg>',
        width,
        height,
        width,
        title_id,
        mark_safe(FONT),
        title_id,
        title,
        body,
    )


def _legend(names, *, x, y, width):
    """One row (wrapping) of coloured squares with the series names."""
    parts, column, row = [], 0, 0
    for index, name in enumerate(names):
        item_width = 24 + 7 * len(name)
        if column and column + item_width > width:
            column, row = 0, row + 1
        left, top = x + column, y + row * 18
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="12" height="12" fill="{}"></rect>'
                '<text x="{}" y="{}">{}</text>',
                left,
                top,
                PALETTE[index % len(PALETTE)],
                left + 16,
                top + 10,
                name,
            )
        )
        column += item_width
    return _join(parts), (row + 1) * 18


def bar_chart(categories, series, *, title, width=900, label_width=260, label_chars=40):
    """Horizontal grouped bars: `categories` (labels) down the side, one bar per series in each.

    `series`: (name, values) pairs, one value per category.
    """
    names = [name for name, _ in series]
    bar, gap = 12, 10
    group = bar * len(series) + gap
    top = max(
        [value or 0 for _, values in series for value in values] + [1],
    )
    top = nice_ceiling(top)
    plot_left, plot_width = label_width, width - label_width - 40
    legend, legend_height = _legend(names, x=plot_left, y=4, width=plot_width)
    plot_top = legend_height + 14
    height = plot_top + group * len(categories) + 24
    parts = [legend]
    for tick in _ticks(top):
        x = plot_left + plot_width * tick / top
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#dee2e6"></line>'
                '<text x="{}" y="{}" text-anchor="middle" fill="#6c757d">{}</text>',
                f"{x:.1f}",
                plot_top - 4,
                f"{x:.1f}",
                height - 20,
                f"{x:.1f}",
                height - 6,
                tick,
            )
        )
    for row, category in enumerate(categories):
        y = plot_top + row * group
        short = category if len(category) <= label_chars else category[: label_chars - 1] + "…"
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end">{}<title>{}</title></text>',
                plot_left - 6,
                y + group / 2,
                short,
                category,
            )
        )
        for index, (name, values) in enumerate(series):
            value = values[row] or 0
            length = plot_width * value / top
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
                    "<title>{}: {} {}</title></rect>"
                    '<text x="{}" y="{}" font-size="10" fill="#212529">{}</text>',
                    plot_left,
                    y + index * bar,
                    f"{length:.1f}",
                    bar - 2,
                    PALETTE[index % len(PALETTE)],
                    category,
                    value,
                    name.lower(),
                    f"{plot_left + length + 3:.1f}",
                    y + index * bar + bar - 4,
                    value,
                )
            )
    return _svg(width, height, title, _join(parts))


def line_chart(x_labels, series, *, title, y_max=None, width=900, height=280):
    """Lines over `x_labels`, one per series: (name, values) with None where there is no point.

    A missing value breaks the line; a lone point still shows as a dot.
    """
    names = [name for name, _ in series]
    values = [v for _, vs in series for v in vs if v is not None]
    top = y_max if y_max is not None else nice_ceiling(max(values, default=1))
    left, right = 44, 32
    plot_width = width - left - right
    legend, legend_height = _legend(names, x=left, y=height + 4, width=plot_width)
    plot_top, plot_bottom = 12, height - 40
    plot_height = plot_bottom - plot_top
    count = max(len(x_labels), 1)
    step = plot_width / max(count - 1, 1)

    def point(index, value):
        x = left + (index * step if count > 1 else plot_width / 2)
        y = plot_bottom - plot_height * value / top
        return f"{x:.1f}", f"{y:.1f}"

    parts = []
    for tick in _ticks(top):
        _, y = point(0, tick)
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#dee2e6"></line>'
                '<text x="{}" y="{}" text-anchor="end" fill="#6c757d">{}</text>',
                left,
                y,
                width - right,
                y,
                left - 6,
                y,
                _number(tick),
            )
        )
    # Every label when they fit side by side, else every second, third...
    widest = 7 * max((len(label) for label in x_labels), default=0) + 8
    every = max(math.ceil(count / 12), math.ceil(widest / step)) if count > 1 else 1
    for index, label in enumerate(x_labels):
        if index % every:
            continue
        x, _ = point(index, 0)
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" fill="#6c757d">{}</text>',
                x,
                plot_bottom + 18,
                label,
            )
        )
    lines, dots = [], []
    for number, (name, points) in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        runs = [[]]
        for index, value in enumerate(points):
            if value is None:
                runs.append([])
                continue
            x, y = point(index, value)
            runs[-1].append(f"{x},{y}")
            dots.append(
                format_html(
                    '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{}, {}: {}</title></circle>',
                    x,
                    y,
                    colour,
                    name,
                    x_labels[index],
                    _number(value),
                )
            )
        lines.extend(
            format_html(
                '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"></polyline>',
                " ".join(run),
                colour,
            )
            for run in runs
            if len(run) > 1
        )
    parts.extend(lines + dots)
    parts.append(legend)
    return _svg(width, height + legend_height + 8, title, _join(parts))
