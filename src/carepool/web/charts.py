"""The portal's charts as Plotly figure JSON (drawn in the browser by ``static/app.mjs``;
each page also shows the same figures as a table, so nothing depends on the chart).

Figures are plain dictionaries in Plotly's schema: cheaper to build per page than figure
objects, and the map's are built once per publication (:class:`carepool.web.views.Views`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from functools import cache
from typing import Any

from carepool.reference import dataset_path

#: Five steps of a sequential palette that is distinguishable in colour-blindness and in
#: grey (viridis, as matplotlib and Plotly give it), light (low) to dark (high).
SEQUENTIAL = ("#fde725", "#5ec962", "#21918c", "#3b528b", "#440154")
SUPPRESSED_COLOUR = "#b1b4b6"
FONT = {"family": "GDS Transport, arial, sans-serif", "size": 14, "color": "#0b0c0c"}
#: The region's middle latitude: a degree of longitude is cos(53.5°) of a degree of latitude.
MID_LATITUDE = 53.5


def dumps(figure: dict[str, Any]) -> str:
    """Figure JSON safe inside a ``<script type="application/json">`` element."""
    text = json.dumps(figure, separators=(",", ":"), allow_nan=False, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": title, "x": 0},
        "font": FONT,
        "margin": {"l": 60, "r": 20, "t": 50, "b": 60},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        **extra,
    }


def waterfall(steps: Sequence[dict[str, Any]], title: str) -> dict[str, Any]:
    """How a place's allocation is built up from an equal share per head, step by step, in
    £ millions; the axis starts near the smallest running total so the steps show."""
    labels = [str(s["label"]) for s in steps] + ["Allocation"]
    values = [float(s["change_pounds"]) / 1e6 for s in steps] + [0.0]
    measures = ["absolute", *(["relative"] * (len(steps) - 1)), "total"]
    running = [float(s["running_total_pounds"]) / 1e6 for s in steps]
    low, high = min(running), max(running)
    pad = max((high - low) * 0.6, high * 0.01)
    return {
        "data": [
            {
                "type": "waterfall",
                "x": labels,
                "y": values,
                "measure": measures,
                "connector": {"line": {"color": "#505a5f"}},
                "increasing": {"marker": {"color": "#00703c"}},
                "decreasing": {"marker": {"color": "#d4351c"}},
                "totals": {"marker": {"color": "#1d70b8"}},
                "hovertemplate": "%{x}: £%{y:,.2f}m<extra></extra>",
            }
        ],
        "layout": _layout(
            title,
            margin={"l": 90, "r": 20, "t": 50, "b": 60},
            yaxis={
                "title": {"text": "£ millions"},
                "tickformat": ",.1f",
                "automargin": True,
                "range": [max(low - pad, 0), high + pad / 2],
            },
        ),
    }


def against_england(rows: Sequence[dict[str, Any]], title: str) -> dict[str, Any]:
    """A spine of outcomes: each indicator's difference from England, per cent, for the
    place and the region; marked by whether the place differs significantly."""
    names, place, region, colours = [], [], [], []
    palette = {"better": "#00703c", "worse": "#d4351c"}
    for row in rows:
        if row["difference"] is None:
            continue
        names.append(row["name"])
        place.append(row["difference"])
        region.append(row["region_difference"])
        colours.append(palette.get(str(row["comparison"]).lower(), "#1d70b8"))
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "markers",
                "name": "Region",
                "x": region,
                "y": names,
                "marker": {"symbol": "line-ns-open", "size": 18, "color": "#0b0c0c"},
                "hovertemplate": "Region: %{x:+.1f}%<extra></extra>",
            },
            {
                "type": "scatter",
                "mode": "markers",
                "name": "This place",
                "x": place,
                "y": names,
                "marker": {"size": 12, "color": colours},
                "hovertemplate": "%{y}: %{x:+.1f}% against England<extra></extra>",
            },
        ],
        "layout": _layout(
            title,
            height=max(300, 40 * len(names) + 120),
            margin={"l": 20, "r": 20, "t": 50, "b": 60},
            xaxis={"title": {"text": "% difference from England"}, "zeroline": True},
            yaxis={"autorange": "reversed", "automargin": True},
        ),
    }


def fund_by_service(rows: Sequence[dict[str, Any]], title: str) -> dict[str, Any]:
    """Budget and spend by service, in £ millions."""
    services = [str(r["service"]).replace("_", " ").capitalize() for r in rows]
    return {
        "data": [
            {
                "type": "bar",
                "name": name,
                "x": services,
                "y": [float(r[column]) / 100 / 1e6 for r in rows],
                "marker": {"color": colour},
                "hovertemplate": "%{x}: £%{y:,.1f}m<extra>" + name + "</extra>",
            }
            for name, column, colour in (
                ("Budget", "budget_pence", "#1d70b8"),
                ("Spent", "actual_pence", "#f47738"),
            )
        ],
        "layout": _layout(
            title,
            barmode="group",
            yaxis={"title": {"text": "£ millions"}, "tickformat": ",.0f", "automargin": True},
        ),
    }


@cache
def _neighbourhood_shapes() -> dict[str, tuple[str, list[list[tuple[float, float]]]]]:
    """Each neighbourhood's name and outer rings, from the vendored boundaries."""
    data = json.loads(dataset_path("boundaries_msoa21_gm").read_text(encoding="utf-8"))
    shapes: dict[str, tuple[str, list[list[tuple[float, float]]]]] = {}
    for feature in data["features"]:
        props, geometry = feature["properties"], feature["geometry"]
        polygons = (
            [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        )
        rings = [[(float(x), float(y)) for x, y in polygon[0]] for polygon in polygons]
        shapes[props["msoa21_code"]] = (props["msoa21_name"], rings)
    return shapes


def unmapped(codes: Sequence[str]) -> int:
    """How many of these neighbourhoods (MSOA codes) have no vendored boundary: boundaries are
    vendored for Greater Manchester only, and a map of anywhere else must say what it
    leaves out."""
    shapes = _neighbourhood_shapes()
    return sum(code not in shapes for code in codes)


def bins(values: Sequence[float | None]) -> list[float]:
    """Quintile cut points of the shown values (four cuts, five bins)."""
    shown = sorted(v for v in values if v is not None and not math.isnan(v))
    if not shown:
        return []
    return [shown[min(len(shown) - 1, int(len(shown) * q / 5))] for q in range(1, 5)]


def neighbourhood_map(
    rows: Sequence[dict[str, Any]], measure: str, label: str, title: str
) -> dict[str, Any]:
    """The neighbourhoods of the region, coloured in fifths of ``measure``; each links to its
    place's page. Drawn on plain axes (equirectangular, scaled for the latitude): no map
    tiles, no network."""
    shapes = _neighbourhood_shapes()
    values = [r.get(measure) for r in rows]
    cuts = bins(values)
    shown = [abs(float(v)) for v in values if v is not None and not math.isnan(float(v))]
    digits = 3 if shown and max(shown) < 10 else 1  # an index near 1 needs its decimals
    groups: dict[int, list[dict[str, Any]]] = {}
    for row, value in zip(rows, values, strict=True):
        if row["neighbourhood"] not in shapes:
            continue
        group = (
            -1
            if value is None or (isinstance(value, float) and math.isnan(value))
            else sum(value >= c for c in cuts)
        )
        groups.setdefault(group, []).append(row)
    data: list[dict[str, Any]] = []
    for group in sorted(groups):
        xs: list[float | None] = []
        ys: list[float | None] = []
        for row in groups[group]:
            for ring in shapes[row["neighbourhood"]][1]:
                xs += [p[0] for p in ring] + [None]
                ys += [p[1] for p in ring] + [None]
        if group < 0:
            name, colour = "Not shown (small numbers)", SUPPRESSED_COLOUR
        else:
            low = "lowest" if group == 0 else f"{cuts[group - 1]:,.{digits}f}"
            high = f"{cuts[group]:,.{digits}f}" if group < len(cuts) else "highest"
            name, colour = f"{low} to {high}", SEQUENTIAL[group]
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": xs,
                "y": ys,
                "fill": "toself",
                "fillcolor": colour,
                "line": {"color": "#ffffff", "width": 0.5},
                "name": name,
                "hoverinfo": "skip",
            }
        )
    centres = [
        (_centre(shapes[r["neighbourhood"]][1]), r) for r in rows if r["neighbourhood"] in shapes
    ]
    data.append(
        {
            "type": "scatter",
            "mode": "markers",
            "x": [c[0] for c, _ in centres],
            "y": [c[1] for c, _ in centres],
            "marker": {"size": 6, "color": "rgba(0,0,0,0)"},
            "showlegend": False,
            "customdata": [[f"/places/{r['place']}#n-{r['neighbourhood']}"] for _, r in centres],
            "text": [
                f"{r['name']} ({r['place_name']}): "
                + ("not shown" if r.get(measure) is None else f"{r[measure]:,.{digits}f}")
                for _, r in centres
            ],
            "hovertemplate": "%{text}<extra>" + label + "</extra>",
        }
    )
    return {
        "data": data,
        "layout": _layout(
            title,
            height=620,
            xaxis={"visible": False},
            yaxis={
                "visible": False,
                "scaleanchor": "x",
                "scaleratio": 1 / math.cos(math.radians(MID_LATITUDE)),
            },
            legend={"title": {"text": label}},
            hovermode="closest",
        ),
    }


def _centre(rings: list[list[tuple[float, float]]]) -> tuple[float, float]:
    ring = max(rings, key=len)
    return (
        round(sum(p[0] for p in ring) / len(ring), 5),
        round(sum(p[1] for p in ring) / len(ring), 5),
    )
