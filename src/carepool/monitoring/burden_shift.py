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

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

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


def chart(evidence: pd.DataFrame, path: Path) -> Path:
    """Each place's change in the cut measure against the change in the rising one (HTML)."""
    import plotly.graph_objects as go

    figure = go.Figure()
    for (link, source), group in evidence.groupby(["link", "source"], sort=True):
        colours = ["#c0392b" if f else "#7f8c8d" for f in group["flagged"]]
        figure.add_trace(
            go.Scatter(
                x=100 * group["cut_change"].astype(float),
                y=100 * group["rise_change"].astype(float),
                mode="markers+text",
                text=group["place"],
                textposition="top center",
                marker={"color": colours, "size": 10},
                name=f"{link} ({source})",
            )
        )
    figure.add_shape(
        type="rect",
        x0=-100,
        x1=0,
        y0=0,
        y1=100,
        fillcolor="#f5b7b1",
        opacity=0.2,
        line_width=0,
        layer="below",
    )
    figure.update_layout(
        title="Burden shifting: one partner's cut against another partner's rising cost",
        xaxis_title="change in the service cut (%)",
        yaxis_title="change in the linked cost (%)",
    )
    try:
        figure.write_html(path, include_plotlyjs=True, full_html=True)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the chart: {exc.strerror or exc}") from None
    return path
