"""report.html's chart: a horizontal bar chart written as SVG markup to inline in the page.

Why by hand: the chart is ten bars, their labels, their counts and an axis. matplotlib drew it
in 0.45 s of import and 0.2 s of drawing, most of `report`'s fixed cost for a small run; a
plotting library that loads in tens of ms (pygal) still brings its own stylesheet and script
hooks to strip for the page's Content-Security-Policy. Here it is rectangles and <text>, laid
out from the counts, drawn with the page's fonts, every text escaped, the same bytes each time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from markupsafe import escape

INK: Final = "#1f2328"
MUTED: Final = "#57606a"
GRID: Final = "#d0d7de"
WIDTH: Final = 480  # px of the viewBox; the page scales it to its column, a phone's included
BAR_PITCH: Final = 24  # px from one bar to the next
BAR_SHARE: Final = 0.75  # of the pitch a bar fills
FONT_PX: Final = 11
CHAR_PX: Final = 6.6  # a generous mean advance of the sans-serif font at FONT_PX
TICKS: Final = 4  # about this many steps on the count axis
_TOP, _BOTTOM, _RIGHT = 8, 40, 16  # margins: none above, tick labels and the axis title below


def histogram_svg(
    counts: Sequence[int], labels: Sequence[str], colours: Sequence[str], *, axis_label: str
) -> str:
    """Bars of `counts`, one per label and colour, first at the bottom, each with its count,
    as <svg>.

    The bars lie flat so that the labels stay level and the chart keeps a shape that is still
    legible at a phone's width.
    """
    label_px = max((len(label) for label in labels), default=0) * CHAR_PX
    left = round(22 + label_px + 8)  # the rotated axis title, the labels, a gap
    plot_w = WIDTH - left - _RIGHT
    plot_h = BAR_PITCH * len(counts)
    height = _TOP + plot_h + _BOTTOM
    step, top = _scale(max(counts, default=0))
    # Room beside the longest bar for its count, as a share of the plot.
    x_max = top * 1.2
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" font-family="DejaVu Sans, Arial, Helvetica, '
        f'sans-serif" font-size="{FONT_PX}" fill="{INK}">'
    ]
    for tick in range(0, top + 1, step):
        x = left + plot_w * tick / x_max
        parts.append(
            f'<line x1="{x:.1f}" y1="{_TOP}" x2="{x:.1f}" y2="{_TOP + plot_h}" '
            f'stroke="{GRID if tick else MUTED}" stroke-width="1"/>'
            f'<text x="{x:.1f}" y="{_TOP + plot_h + 15}" text-anchor="middle" '
            f'fill="{MUTED}">{tick:,}</text>'
        )
    bar_h = BAR_PITCH * BAR_SHARE
    for i, (count, label, colour) in enumerate(zip(counts, labels, colours, strict=True)):
        middle = _TOP + plot_h - BAR_PITCH * (i + 0.5)  # the first bar at the bottom
        w = plot_w * count / x_max
        parts.append(
            f'<rect x="{left}" y="{middle - bar_h / 2:.1f}" width="{w:.1f}" '
            f'height="{bar_h:.1f}" fill="{escape(colour)}"/>'
            f'<text x="{left - 6}" y="{middle:.1f}" text-anchor="end" '
            f'dominant-baseline="central">{escape(label)}</text>'
        )
        if count:
            parts.append(
                f'<text x="{left + w + 3:.1f}" y="{middle:.1f}" '
                f'dominant-baseline="central">{count:,}</text>'
            )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle">'
        "mailboxes</text>"
        f'<text transform="translate(12 {_TOP + plot_h / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle">{escape(axis_label)}</text></svg>'
    )
    return "".join(parts)


def _scale(largest: int) -> tuple[int, int]:
    """(step, last tick) of the count axis: whole numbers 1, 2 or 5 times 10^k apart, at most
    TICKS steps, the last tick at or past `largest`."""
    step = 1
    while largest > step * TICKS:
        # 1, 2, 5, 10, 20, 50, ...
        step = step * 5 // 2 if str(step)[0] == "2" else step * 2
    return step, max(-(-largest // step) * step, step)
