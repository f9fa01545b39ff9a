"""The burden-shift monitor: is one partner's saving another partner's cost?

The fear in a pooled budget is that a council cuts home care and the NHS pays in delayed
discharges, or that social care cuts show up as A&E attendances. For each *link* between a
service one partner pays for and a cost another partner bears, the monitor compares two
periods, place by place, from two sources:

* the **ledger**: spend on the partner's lines for the service, the last two quarters with
  spend (for example council adult social care against NHS acute);
* the **warehouse**: the activity behind them, the last two financial years (home care hours
  against delayed-discharge bed days).

A place is flagged when the first falls and the second rises, each by at least the threshold
(default 2%). The evidence is returned as a table (and drawn by :func:`chart`). The links and
the studies behind them are listed in docs/methods/ledger.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from carepool.charts import (
    FONT_SIZE,
    HEIGHT,
    INLINE,
    MARGIN,
    MARKER_RADIUS,
    WIDTH,
    Library,
    padded_range,
    place_labels,
    write_html,
)
from carepool.errors import ConfigError
from carepool.ledger import Ledger
from carepool.warehouse import Tables

DEFAULT_THRESHOLD = 0.02


@dataclass(frozen=True)
class Link:
    """A service whose cut may push cost onto another partner's service."""

    name: str
    cut_service: str
    cut_partner_kind: str
    cut_activity: str
    rise_service: str
    rise_partner_kind: str
    rise_activity: str
    evidence: str


LINKS: tuple[Link, ...] = (
    Link(
        name="home care cut, delayed discharges up",
        cut_service="adult_social_care",
        cut_partner_kind="council",
        cut_activity="asc_home_care_hours",
        rise_service="acute",
        rise_partner_kind="nhs_commissioner",
        rise_activity="delayed_discharge_days",
        evidence="Gaughan, Gravelle and Siciliani, Health Economics 2015; House of Commons "
        "Library CBP-7415 (2017)",
    ),
    Link(
        name="social care cut, A&E attendances up",
        cut_service="adult_social_care",
        cut_partner_kind="council",
        cut_activity="asc_home_care_hours",
        rise_service="acute",
        rise_partner_kind="nhs_commissioner",
        rise_activity="ae_attendances",
        evidence="Crawford, Stoye and Zaranko, IFS WP W18/15 (2018) and IFS (2020)",
    ),
)

COLUMNS = [
    "link",
    "place",
    "source",
    "before",
    "after",
    "cut_measure",
    "cut_before",
    "cut_after",
    "cut_change",
    "rise_measure",
    "rise_before",
    "rise_after",
    "rise_change",
    "flagged",
    "evidence",
]


def warehouse_activity(warehouse: Tables, measures: Sequence[str]) -> pd.DataFrame:
    """Activity by local authority and financial year, from the warehouse's person-years."""
    t = warehouse.table("person_year")
    frame = warehouse.to_pandas(
        t.group_by(["lad_code", "year"]).aggregate(**{m: t[m].sum() for m in sorted(set(measures))})
    )
    return frame.rename(columns={"lad_code": "place"})


def _change(before: float, after: float) -> float | None:
    return None if before <= 0 else after / before - 1


def _row(
    link: Link,
    place: str,
    source: str,
    periods: tuple[str, str],
    cut: tuple[float, float],
    rise: tuple[float, float],
    measures: tuple[str, str],
    threshold: float,
) -> dict[str, Any]:
    cut_change, rise_change = _change(*cut), _change(*rise)
    flagged = (
        cut_change is not None
        and rise_change is not None
        and cut_change <= -threshold
        and rise_change >= threshold
    )
    return {
        "link": link.name,
        "place": place,
        "source": source,
        "before": periods[0],
        "after": periods[1],
        "cut_measure": measures[0],
        "cut_before": cut[0],
        "cut_after": cut[1],
        "cut_change": cut_change,
        "rise_measure": measures[1],
        "rise_before": rise[0],
        "rise_after": rise[1],
        "rise_change": rise_change,
        "flagged": flagged,
        "evidence": link.evidence,
    }


def burden_shift(
    ledger: Ledger,
    fund_id: str,
    *,
    actor: str,
    warehouse: Tables | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> pd.DataFrame:
    """The monitor's evidence table for a fund, read as ``actor``: the ledger's spend by
    quarter and, given a warehouse, the activity behind it by year."""
    if not 0 < threshold < 1:
        raise ConfigError(f"threshold: expected a fraction between 0 and 1, got {threshold}")
    spend = ledger.quarterly_spend(fund_id, actor=actor)
    activity = None
    if warehouse is not None:
        measures = [m for link in LINKS for m in (link.cut_activity, link.rise_activity)]
        activity = warehouse_activity(warehouse, measures)
    places = sorted({line.place for line in ledger.spec(fund_id).lines})
    return flag_shifts(spend, activity, places, threshold=threshold)


def flag_shifts(
    spend: pd.DataFrame,
    activity: pd.DataFrame | None,
    places: Sequence[str],
    *,
    links: Sequence[Link] = LINKS,
    threshold: float = DEFAULT_THRESHOLD,
) -> pd.DataFrame:
    """The evidence table: one row per link, place and source, flagged where a cost shifts.

    ``spend``: pence by place, service, partner kind and quarter (as
    :meth:`~carepool.ledger.Ledger.quarterly_spend` gives it); ``activity``: the measures by
    place and financial year.
    """
    rows: list[dict[str, Any]] = []
    quarters = sorted(spend.loc[spend["pence"] > 0, "quarter"].unique())
    years = sorted(activity["year"].unique()) if activity is not None and len(activity) else []
    for link in links:
        for place in places:
            if len(quarters) >= 2:
                before, after = quarters[-2], quarters[-1]
                here = spend[spend["place"] == place]

                def total(service: str, kind: str, q: str, here: pd.DataFrame = here) -> float:
                    hit = here[
                        (here["service"] == service)
                        & (here["partner_kind"] == kind)
                        & (here["quarter"] == q)
                    ]
                    return float(hit["pence"].sum()) / 100

                rows.append(
                    _row(
                        link,
                        place,
                        "ledger",
                        (before, after),
                        (
                            total(link.cut_service, link.cut_partner_kind, before),
                            total(link.cut_service, link.cut_partner_kind, after),
                        ),
                        (
                            total(link.rise_service, link.rise_partner_kind, before),
                            total(link.rise_service, link.rise_partner_kind, after),
                        ),
                        (
                            f"{link.cut_service} spend (£, {link.cut_partner_kind})",
                            f"{link.rise_service} spend (£, {link.rise_partner_kind})",
                        ),
                        threshold,
                    )
                )
            if activity is not None and len(years) >= 2:
                before, after = years[-2], years[-1]
                here = activity[activity["place"] == place].set_index("year")
                if before in here.index and after in here.index:
                    rows.append(
                        _row(
                            link,
                            place,
                            "activity",
                            (before, after),
                            (
                                float(here.loc[before, link.cut_activity]),
                                float(here.loc[after, link.cut_activity]),
                            ),
                            (
                                float(here.loc[before, link.rise_activity]),
                                float(here.loc[after, link.rise_activity]),
                            ),
                            (link.cut_activity, link.rise_activity),
                            threshold,
                        )
                    )
    return pd.DataFrame(rows, columns=COLUMNS)


def chart(
    evidence: pd.DataFrame,
    path: Path,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    names: Mapping[str, str] | None = None,
    library: Library = INLINE,
) -> Path:
    """Each place's change in the cut measure against the change in the rising one (HTML).

    The axes fit the data (and the threshold), not a fixed ±100%; the region where a place is
    flagged (cut and rise both beyond ``threshold``) is shaded. Points are labelled with the
    place's name from ``names`` (its code where it has none) wherever the label covers no
    other; every point's hover text has its name, code, both changes and the finding.
    """
    import plotly.graph_objects as go

    names = names or {}
    rows = evidence.assign(
        x=100 * evidence["cut_change"].astype(float),
        y=100 * evidence["rise_change"].astype(float),
        name=[names.get(str(p), str(p)) for p in evidence["place"]],
    ).dropna(subset=["x", "y"])
    edge = 100 * threshold
    x_range = padded_range(rows["x"].tolist(), keep=(0.0, -edge))
    y_range = padded_range(rows["y"].tolist(), keep=(0.0, edge))
    # flagged places are labelled first: if any label must give way, it is not theirs
    order = rows.sort_values(["flagged", "x"], ascending=[False, True], kind="stable")
    labels = place_labels(
        order["x"].tolist(), order["y"].tolist(), order["name"].tolist(), x_range, y_range
    )
    rows = rows.assign(position=pd.Series(labels, index=order.index, dtype=object))
    figure = go.Figure()
    figure.add_shape(
        type="rect",
        x0=x_range[0],
        x1=-edge,
        y0=edge,
        y1=y_range[1],
        fillcolor="#f5b7b1",
        opacity=0.3,
        line_width=0,
        layer="below",
    )
    for value, axis in ((-edge, "x"), (edge, "y")):
        line = {"line": {"dash": "dot", "color": "#999", "width": 1}, "layer": "below"}
        if axis == "x":
            figure.add_vline(x=value, **line)
        else:
            figure.add_hline(y=value, **line)
    # one symbol per link, filled for the ledger's spend and open for the warehouse's
    # activity; the colour says flagged or not, so the legend is drawn apart in grey
    symbols = dict(zip(sorted(rows["link"].unique()), SYMBOLS, strict=False))
    for (link, source), group in rows.groupby(["link", "source"], sort=True):
        shown = group["position"].notna()
        symbol = symbols.get(link, "circle") + ("" if source == "ledger" else "-open")
        figure.add_trace(
            go.Scatter(
                x=group["x"],
                y=group["y"],
                mode="markers+text",
                text=[n if s else "" for n, s in zip(group["name"], shown, strict=True)],
                textposition=[p or "top center" for p in group["position"]],
                hovertext=[_hover(r) for r in group.to_dict("records")],
                hoverinfo="text",
                marker={
                    "color": [FLAGGED if f else NOT_FLAGGED for f in group["flagged"]],
                    "size": 2 * MARKER_RADIUS,
                    "symbol": symbol,
                    "line": {"width": 2},
                },
                showlegend=False,
            )
        )
        figure.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                marker={"color": NOT_FLAGGED, "size": 2 * MARKER_RADIUS, "symbol": symbol},
                name=f"{link} ({'spend' if source == 'ledger' else 'activity'})",
            )
        )
    figure.add_trace(
        go.Scatter(
            x=[None],
            y=[None],
            mode="markers",
            marker={"color": FLAGGED, "size": 2 * MARKER_RADIUS, "symbol": "square"},
            name="flagged",
        )
    )
    periods = sorted({f"{r['before']} → {r['after']}" for r in rows.to_dict("records")})
    figure.update_layout(
        title=(
            "Burden shifting: one partner's cut against another partner's rising cost"
            + (
                f"<br><sup>{'; '.join(periods)}; flagged in red: the cut and the "
                f"linked cost both moved by at least {100 * threshold:g}% (the shaded region)</sup>"
                if periods
                else ""
            )
        ),
        xaxis={"title": "change in the service cut (%)", "range": x_range, "zeroline": True},
        yaxis={"title": "change in the linked cost (%)", "range": y_range, "zeroline": True},
        width=WIDTH,
        height=HEIGHT,
        margin=MARGIN,
        font={"size": FONT_SIZE},
        legend={"orientation": "h", "y": -0.15},
    )
    return write_html(figure, path, ConfigError, library)


#: Marker symbols, one per link; flagged places in red.
SYMBOLS = ("circle", "diamond", "square", "triangle-up", "cross")
FLAGGED, NOT_FLAGGED = "#c0392b", "#7f8c8d"


def _hover(row: Mapping[Any, Any]) -> str:
    finding = "flagged" if row["flagged"] else "not flagged"
    return (
        f"<b>{row['name']}</b> ({row['place']}), {row['before']} → {row['after']}<br>"
        f"{row['cut_measure']}: {row['x']:+.1f}%<br>"
        f"{row['rise_measure']}: {row['y']:+.1f}%<br>{finding}"
    )
