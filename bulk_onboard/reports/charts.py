"""report.html's chart, drawn by matplotlib as SVG markup to inline in the page.

matplotlib is imported inside the function: it takes a noticeable fraction of a second to load, and
only the report needs it. A Figure with its own SVG canvas keeps pyplot's global state (and any
GUI backend) out of the process. Text stays <text> (svg.fonttype none), so the page's fonts draw
it, the file stays small, and the SVG writer XML-escapes it like any other text.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

INK: Final = "#1f2328"
MUTED: Final = "#57606a"
FIGURE_SIZE_IN: Final = (4.8, 3.3)  # narrow enough to stay legible at a phone's width
_RC: Final[dict[RcKeyType, Any]] = {
    "svg.fonttype": "none",
    # Element ids are hashes salted with this: a fixed salt makes the same run give the same file.
    "svg.hashsalt": "bulk-onboard-report",
    "font.family": "sans-serif",
    # Measured with the first (matplotlib ships it); the browser draws with the first it has.
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 11,
    "text.color": INK,
    "text.parse_math": False,  # a `$` in a label is text, not TeX
    "axes.edgecolor": MUTED,
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
}
# No date (same run, same file) and no RDF block naming matplotlib: nothing the reader needs.
_NO_METADATA: Final = {"Date": None, "Creator": None, "Format": None, "Type": None}


def histogram_svg(
    counts: Sequence[int], labels: Sequence[str], colours: Sequence[str], *, axis_label: str
) -> str:
    """Bars of `counts`, one per label and colour, first at the bottom, each with its count,
    as <svg>.

    The bars lie flat so that the labels stay level and the chart keeps a shape that is still
    legible at a phone's width.
    """
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, StrMethodFormatter

    with matplotlib.rc_context(_RC):
        figure = Figure(figsize=FIGURE_SIZE_IN, layout="constrained")
        FigureCanvasSVG(figure)  # the figure's canvas from now on: no backend is looked up
        axes = figure.add_subplot()
        positions = range(len(counts))
        bars = axes.barh(positions, counts, height=0.75, color=list(colours))
        axes.bar_label(bars, labels=[f"{n:,}" if n else "" for n in counts], padding=3)
        axes.set_yticks(positions, labels)
        axes.set_ylabel(axis_label)
        axes.set_xlabel("mailboxes")
        axes.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        axes.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        axes.margins(x=0.2)  # room for the count beside the longest bar
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata=_NO_METADATA)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]  # the XML prolog and DOCTYPE have no place inside HTML
