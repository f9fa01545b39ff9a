"""Prevention charts (offline HTML): the cost-effectiveness acceptability curve, each
partner's cash flow by year, and the efficient frontier of budget against benefit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from carepool.charts import HEIGHT, INLINE, MARGIN, WIDTH, Library, padded_range, write_html
from carepool.errors import AppraisalError
from carepool.prevention.portfolio import Portfolio
from carepool.prevention.service import InterventionAppraisal


def _layout(title: str, x: str, y: str) -> dict[str, object]:
    return {
        "title": title,
        "xaxis_title": x,
        "yaxis_title": y,
        "width": WIDTH,
        "height": HEIGHT,
        "margin": MARGIN,
        "template": "plotly_white",
    }


def acceptability_chart(
    results: Sequence[InterventionAppraisal], path: Path, library: Library = INLINE
) -> Path:
    """The chance each intervention is cost-effective against the threshold per QALY."""
    import plotly.graph_objects as go

    figure = go.Figure()
    for result in results:
        if not result.ceac:
            raise AppraisalError("the acceptability curve needs the Monte Carlo: --draws 1 or more")
        thresholds, chances = zip(*result.ceac, strict=True)
        figure.add_trace(
            go.Scatter(
                x=list(thresholds),
                y=[100 * p for p in chances],
                mode="lines",
                name=result.intervention.name,
                hovertemplate="£%{x:,.0f} per QALY: %{y:.0f}%<extra>%{fullData.name}</extra>",
            )
        )
    if results:
        figure.add_vline(x=results[0].threshold, line={"dash": "dot", "color": "#999"})
    figure.update_layout(
        **_layout(
            "Cost-effectiveness acceptability: the chance each intervention is worth its cost",
            "Threshold, £ per QALY",
            "Chance cost-effective, %",
        )
    )
    # padded so that the axes' zeros do not meet at the corner
    figure.update_yaxes(range=[-5, 105])
    figure.update_xaxes(range=padded_range([float(t) for t, _ in results[0].ceac]), tickprefix="£")
    return write_html(figure, path, AppraisalError, library)


def cash_flow_chart(
    results: Sequence[InterventionAppraisal],
    path: Path,
    names: Mapping[str, str] | None = None,
    library: Library = INLINE,
) -> Path:
    """Each partner's savings less costs, year by year (undiscounted, at the central values),
    over the interventions appraised."""
    import plotly.graph_objects as go

    names = names or {p.partner: p.name for r in results for p in r.by_partner}
    net: dict[str, dict[int, float]] = {}
    for result in results:
        for partner, year, cost, saving in result.cash_flows:
            flows = net.setdefault(partner, {})
            flows[year] = flows.get(year, 0.0) + saving - cost
    figure = go.Figure()
    for partner, by_year in net.items():
        years = sorted(by_year)
        figure.add_trace(
            go.Bar(
                x=[f"year {y}" for y in years],
                y=[by_year[y] for y in years],
                name=names.get(partner, partner),
            )
        )
    what = results[0].intervention.name if len(results) == 1 else "The interventions appraised"
    figure.update_layout(
        barmode="relative",
        **_layout(
            f"{what}: each partner's savings less costs by year",
            "Year from the start",
            "£ (savings less costs)",
        ),
    )
    # no "£" on the ticks: Plotly would write £−20k, where carepool writes −£20k (the axis
    # title says the unit)
    return write_html(figure, path, AppraisalError, library)


def frontier_chart(
    frontier: Sequence[tuple[float, Portfolio]], path: Path, library: Library = INLINE
) -> Path:
    """Net health benefit of the best portfolio at each yearly budget."""
    import plotly.graph_objects as go

    if not frontier:
        raise AppraisalError("the frontier chart needs budgets: --frontier N")
    budgets = [b for b, _ in frontier]
    benefit = [p.objective for _, p in frontier]
    figure = go.Figure(
        go.Scatter(
            x=budgets,
            y=benefit,
            mode="lines+markers",
            name="best portfolio",
            hovertemplate="£%{x:,.0f} a year: %{y:,.1f} QALYs<extra></extra>",
        )
    )
    figure.update_layout(
        **_layout(
            "The efficient frontier: net health benefit of the best portfolio at each budget",
            "Budget a year, £",
            "Net health benefit, QALYs",
        )
    )
    figure.update_xaxes(range=padded_range([0.0, *budgets]), tickprefix="£")
    figure.update_yaxes(range=padded_range([0.0, *benefit]))
    return write_html(figure, path, AppraisalError, library)
