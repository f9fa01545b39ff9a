"""Charts as HTML files: written self-contained or sharing one copy of the plotting library,
and point labels placed so that none covers another.

**One file, or a folder of them.** A chart file carries Plotly's JavaScript (about 4.7 MB) so
that it opens anywhere, offline, on its own. Someone writing a folder of charts (one per
borough, say) wants the library once: :data:`SHARED` writes ``plotly.min.js`` beside the
chart (once per folder) and the chart refers to it, a few kilobytes each.

**Labels that can be read.** Plotly draws a point's text where it is told and does not move
it out of another's way, so ten boroughs near zero would print ten names on top of each
other. :func:`place_labels` gives each point the first of eight positions around it whose
text box, estimated from the text's length at the chart's size, overlaps no label already
placed, no other point and no edge of the plot; a point with no free position is left
without a label (its name is in the hover text). Points are placed in the order given, so
the most important (the flagged ones) go first.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from carepool.errors import CarepoolError

#: How a chart file gets the plotting library: inside it, or from a shared file beside it.
Library = Literal["inline", "shared"]
INLINE: Library = "inline"
SHARED: Library = "shared"
#: The shared copy's file name, as Plotly writes and refers to it.
SHARED_FILE = "plotly.min.js"

#: The size charts are drawn at, in pixels: fixed, so that label boxes can be estimated.
WIDTH, HEIGHT = 1000, 650
#: The plot area's margins (Plotly's defaults for a titled chart with axis titles).
MARGIN = {"l": 80, "r": 40, "t": 100, "b": 80}
FONT_SIZE = 12
#: An average character's width and a line's height at :data:`FONT_SIZE`, in pixels.
CHAR_WIDTH, LINE_HEIGHT = 7.0, 15.0
MARKER_RADIUS = 6.0
#: Plotly's text positions, in the order tried, with where each puts the text's box:
#: (horizontal, vertical) alignment of the box against the point.
POSITIONS: dict[str, tuple[int, int]] = {
    "top center": (0, 1),
    "bottom center": (0, -1),
    "middle right": (1, 0),
    "middle left": (-1, 0),
    "top right": (1, 1),
    "top left": (-1, 1),
    "bottom right": (1, -1),
    "bottom left": (-1, -1),
}


def write_html(
    figure: Any, path: Path, error: type[CarepoolError], library: Library = INLINE
) -> Path:
    """Write ``figure`` to ``path`` as a whole HTML page; a file system's refusal is
    ``error`` naming the path."""
    include: bool | str = True if library == INLINE else "directory"
    # written beside the target and renamed over it: a failed write leaves the old chart (or
    # nothing) in place, never half a file
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    try:
        figure.write_html(partial, include_plotlyjs=include, full_html=True)
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise error(f"{path}: cannot write the chart: {exc.strerror or exc}") from None
    return path


def padded_range(values: Sequence[float], keep: Sequence[float] = (0.0,)) -> list[float]:
    """An axis range that fits ``values`` and ``keep`` (zero, a threshold) with a margin of
    a tenth of the span on each side: the data fill the chart, whatever their scale."""
    points = [float(v) for v in values] + [float(k) for k in keep]
    low, high = min(points), max(points)
    span = high - low or max(abs(high), 1.0)
    return [low - span / 10, high + span / 10]


@dataclass(frozen=True)
class Box:
    left: float
    bottom: float
    right: float
    top: float

    def overlaps(self, other: Box) -> bool:
        return (
            self.left < other.right
            and other.left < self.right
            and self.bottom < other.top
            and other.bottom < self.top
        )

    def inside(self, width: float, height: float) -> bool:
        return self.left >= 0 and self.bottom >= 0 and self.right <= width and self.top <= height


def plot_area() -> tuple[float, float]:
    """The plot area's width and height in pixels at the charts' fixed size."""
    return WIDTH - MARGIN["l"] - MARGIN["r"], HEIGHT - MARGIN["t"] - MARGIN["b"]


def label_box(x: float, y: float, text: str, position: str) -> Box:
    """The box ``text`` takes at ``position`` around a point at pixel ``(x, y)``."""
    width, height = CHAR_WIDTH * len(text), LINE_HEIGHT
    across, up = POSITIONS[position]
    gap = MARKER_RADIUS + 2
    left = _offset(x, width, across, gap)
    bottom = _offset(y, height, up, gap)
    return Box(left, bottom, left + width, bottom + height)


def _offset(at: float, size: float, side: int, gap: float) -> float:
    """Where a box of ``size`` starts along one axis: centred on ``at`` (side 0), or clear of
    the marker after it (1) or before it (-1)."""
    if side == 0:
        return at - size / 2
    return at + gap if side > 0 else at - gap - size


def to_pixels(
    xs: Sequence[float], ys: Sequence[float], x_range: Sequence[float], y_range: Sequence[float]
) -> list[tuple[float, float]]:
    """Data coordinates as pixels within the plot area (origin bottom left)."""
    width, height = plot_area()
    return [
        (
            (x - x_range[0]) / (x_range[1] - x_range[0]) * width,
            (y - y_range[0]) / (y_range[1] - y_range[0]) * height,
        )
        for x, y in zip(xs, ys, strict=True)
    ]


def place_labels(
    xs: Sequence[float],
    ys: Sequence[float],
    texts: Sequence[str],
    x_range: Sequence[float],
    y_range: Sequence[float],
) -> list[str | None]:
    """Each point's text position (a key of :data:`POSITIONS`), or ``None`` where every
    position would cover another label, another point or the plot's edge."""
    width, height = plot_area()
    points = to_pixels(xs, ys, x_range, y_range)
    markers = [
        Box(px - MARKER_RADIUS, py - MARKER_RADIUS, px + MARKER_RADIUS, py + MARKER_RADIUS)
        for px, py in points
    ]
    placed: list[Box] = []
    chosen: list[str | None] = []
    for i, ((px, py), text) in enumerate(zip(points, texts, strict=True)):
        choice = None
        for position in POSITIONS:
            box = label_box(px, py, text, position)
            if not box.inside(width, height):
                continue
            if any(box.overlaps(other) for other in placed):
                continue
            if any(box.overlaps(m) for j, m in enumerate(markers) if j != i):
                continue
            choice = position
            placed.append(box)
            break
        chosen.append(choice)
    return chosen
