"""``carepool allocate``: the pooled budget shared out by need, explained and stress-tested."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from carepool.allocation import (
    Allocation,
    Formula,
    allocate,
    from_warehouse,
    load_formula,
    read_baseline,
    sensitivity,
)
from carepool.allocation.charts import tornado, waterfall
from carepool.allocation.formula import DEFAULT_FORMULA
from carepool.cli.support import emit, err, out, records, tuples, user_errors
from carepool.config import Settings
from carepool.errors import AllocationError
from carepool.geography import level_of
from carepool.indicators import model_years
from carepool.warehouse.connection import connect

#: The default pool: Greater Manchester's health and social care budget, about £6bn a year.
DEFAULT_TOTAL = 6_000_000_000
_YEAR = re.compile(r"^(\d{4})-(\d{2})$")

allocate_app = typer.Typer(
    help="Allocate the pooled budget to places by need, with pace of change; explain any "
    "place's figure; test how it moves with the formula's weights."
)

Total = Annotated[
    int, typer.Option("--total", help="the pool in whole pounds [default: 6000000000]")
]
Year = Annotated[
    str | None,
    typer.Option(help="financial year to allocate, e.g. 2026-27 [default: after the model's last]"),
]
Level = Annotated[
    str, typer.Option(help="places to allocate to: lad, msoa, ward, sub_icb, lsoa, ...")
]
PlaceLevel = Annotated[
    str | None,
    typer.Option(help="the level of PLACE: lad, msoa, ward, ... [default: from its code]"),
]
FormulaFile = Annotated[
    Path | None, typer.Option("--formula", help="a formula TOML file [default: carepool's]")
]
BaselineFile = Annotated[
    Path | None,
    typer.Option("--baseline", help="last year's allocations: CSV with place,allocation (pounds)"),
]
MinGrowth = Annotated[
    float | None, typer.Option(help="pace of change: minimum growth on baseline, e.g. 0.01")
]
MaxBelow = Annotated[
    float | None, typer.Option(help="pace of change: most a place may end below target, e.g. 0.05")
]
Convergence = Annotated[
    float | None, typer.Option(help="pace of change: share of the gap to target closed, 0-1")
]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]
AsCsv = Annotated[bool, typer.Option("--csv", help="print CSV")]
Chart = Annotated[Path | None, typer.Option("--chart", help="also write an HTML chart here")]


def _level_of(place: str) -> str:
    """The level a place code names (E02... is an MSOA), or local authorities."""
    return level_of(place) or "lad"


def check_year(year: str) -> str:
    match = _YEAR.match(year)
    if not match or (int(match[1]) + 1) % 100 != int(match[2]):
        raise AllocationError(f"year {year!r}: expected a financial year such as 2026-27")
    return year


def _next_year(settings: Settings) -> str:
    with connect(settings) as wh:
        years = model_years(wh)
    if not years:
        raise AllocationError("the model has no years; build it with `carepool build`")
    start = int(years[-1][:4]) + 1
    return f"{start}-{(start + 1) % 100:02d}"


@dataclass(frozen=True)
class Run:
    """An allocation run's settings, resolved and checked before anything is computed."""

    formula: Formula
    total: int
    year: str
    level: str
    baseline: dict[str, int] | None
    baseline_source: str


def _resolve(
    settings: Settings,
    total: int,
    year: str | None,
    level: str,
    formula_file: Path | None,
    baseline_file: Path | None,
    min_growth: float | None,
    max_below_target: float | None,
    convergence: float | None,
) -> Run:
    if total <= 0:
        raise AllocationError(f"--total must be a positive number of pounds, got {total:,}")
    formula = load_formula(formula_file).with_pace(
        min_growth=min_growth, max_below_target=max_below_target, convergence=convergence
    )
    baseline = read_baseline(baseline_file) if baseline_file is not None else None
    return Run(
        formula=formula,
        total=total,
        year=check_year(year) if year is not None else _next_year(settings),
        level=level,
        baseline=baseline,
        baseline_source=str(baseline_file) if baseline_file is not None else "baseline",
    )


def default_run(settings: Settings) -> Run:
    """The default pool, formula and year, by local authority, without a baseline."""
    return _resolve(settings, DEFAULT_TOTAL, None, "lad", None, None, None, None, None)


def run_allocation(settings: Settings, run: Run) -> Allocation:
    with err.status(f"Allocating £{run.total:,} ({settings.engine})"), connect(settings) as wh:
        data = from_warehouse(wh, run.year, run.formula.variables(), [run.level])
    return allocate(
        run.formula,
        data,
        total=run.total,
        year=run.year,
        level=run.level,
        baseline=run.baseline,
        baseline_source=run.baseline_source,
    )


def _millions(value: Any) -> str:
    return "" if value is None or pd.isna(value) else f"£{value / 1e6:,.2f}m"


def _percent(value: Any, digits: int = 1) -> str:
    return "" if value is None or pd.isna(value) else f"{value:+.{digits}%}"


def print_allocation(allocation: Allocation, limit: int | None = None) -> None:
    """The place table, with the formula and population it came from."""
    meta = allocation.metadata
    frame = allocation.places
    with_baseline = meta["baseline"] is not None
    grid = Table(
        title=f"Allocation of £{meta['total']:,} for {meta['year']} by {meta['level']}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    grid.add_column("Place", no_wrap=True)
    grid.add_column("Name", overflow="fold")
    headings = ["Need index", "Target", "Baseline", "Allocation", "Growth", "vs target"]
    if not with_baseline:  # the allocation is the target
        headings = ["Population", "Need index", "Share", "Allocation"]
    for heading in (*headings, "Per head"):
        grid.add_column(heading, justify="right")
    shown = frame if limit is None else frame.head(limit)
    for row in tuples(shown):
        values = {
            "Population": f"{row.population:,}",
            "Need index": f"{row.need_index:.3f}",
            "Share": f"{row.target_share:.2%}",
            "Target": _millions(row.target),
            "Baseline": _millions(row.baseline),
            "Allocation": _millions(row.allocation) + ("*" if row.protected is True else ""),
            "Growth": _percent(row.growth),
            "vs target": _percent(row.distance_from_target),
        }
        cells = [str(row.place), str(row.name), *(values[h] for h in headings)]
        grid.add_row(*cells, "" if pd.isna(row.per_head) else f"£{row.per_head:,.0f}")
    out.print(grid)
    if limit is not None and len(frame) > limit:
        out.print(f"... {len(frame) - limit} more places (use --json or --csv for all)")
    formula = meta["formula"]
    out.print(
        f"Formula {formula['id']} {formula['version']} ({formula['digest']}); population: "
        f"{meta['population']}. Need index: weighted population per head (1 = average). "
        "Exact pounds: --json or --csv."
        + (" * held at its pace-of-change protection." if with_baseline else "")
    )


@allocate_app.callback(invoke_without_command=True)
@user_errors
def allocate_command(
    ctx: typer.Context,
    total: Total = DEFAULT_TOTAL,
    year: Year = None,
    level: Level = "lad",
    formula: FormulaFile = None,
    baseline: BaselineFile = None,
    min_growth: MinGrowth = None,
    max_below_target: MaxBelow = None,
    convergence: Convergence = None,
    as_json: AsJson = False,
    as_csv: AsCsv = False,
) -> None:
    """Each place's target share and allocation in whole pounds (they sum to the total)."""
    if ctx.invoked_subcommand is not None:
        return
    settings = Settings.from_env()
    run = _resolve(
        settings,
        total,
        year,
        level,
        formula,
        baseline,
        min_growth,
        max_below_target,
        convergence,
    )
    allocation = run_allocation(settings, run)
    if not emit(allocation.places, as_json, as_csv):
        print_allocation(allocation)


@allocate_app.command("explain")
@user_errors
def explain_command(
    place: Annotated[str, typer.Argument(help="the place's code, e.g. E08000003")],
    total: Total = DEFAULT_TOTAL,
    year: Year = None,
    level: PlaceLevel = None,
    formula: FormulaFile = None,
    baseline: BaselineFile = None,
    min_growth: MinGrowth = None,
    max_below_target: MaxBelow = None,
    convergence: Convergence = None,
    as_json: AsJson = False,
    chart: Chart = None,
) -> None:
    """The steps from an equal share per head to one place's allocation, and its components."""
    settings = Settings.from_env()
    run = _resolve(
        settings,
        total,
        year,
        level or _level_of(place),
        formula,
        baseline,
        min_growth,
        max_below_target,
        convergence,
    )
    explained = run_allocation(settings, run).explain(place)
    if chart is not None:
        err.print(f"Waterfall chart: {waterfall(explained, chart)}")
    if as_json:
        typer.echo(json.dumps(explained, indent=2))
        return
    print_explanation(explained)


def print_explanation(explained: dict[str, Any]) -> None:
    summary = explained["summary"]
    grid = Table(
        title=f"{explained['name']} ({explained['place']}): how its allocation is made up",
        title_justify="left",
    )
    for heading, justify in (("Step", "left"), ("Change", "right"), ("Amount", "right")):
        grid.add_column(heading, justify=justify)  # type: ignore[arg-type]
    grid.add_column("Per head", justify="right")
    for step in explained["steps"]:
        change = "" if step["step"] == "equal_per_head" else f"{step['change']:+,}"
        per_head = "" if step["per_head"] is None else f"£{step['per_head']:,.2f}"
        grid.add_row(step["label"], change, f"£{step['amount']:,}", per_head)
    out.print(grid)
    parts = Table(title="Components of the target", title_justify="left")
    for heading in ("Component", "Share of pool", "Place's share", "Target"):
        parts.add_column(heading, justify="left" if heading == "Component" else "right")
    for c in explained["components"]:
        parts.add_row(
            c["component_name"],
            f"{c['share_of_pool']:.1%}",
            f"{c['target_share']:.4%}",
            f"£{c['target']:,}",
        )
    out.print(parts)
    meta = explained["metadata"]
    out.print(
        f"Population {summary['population']:,} ({meta['population']}); need index "
        f"{summary['need_index']:.3f}; formula {meta['formula']['id']} "
        f"{meta['formula']['version']}. Method: docs/methods/allocation.md."
    )


@allocate_app.command("sensitivity")
@user_errors
def sensitivity_command(
    place: Annotated[
        str | None, typer.Argument(help="one place's code [default: every place]")
    ] = None,
    total: Total = DEFAULT_TOTAL,
    year: Year = None,
    level: PlaceLevel = None,
    formula: FormulaFile = None,
    change: Annotated[float, typer.Option(help="how far each weight moves")] = 0.10,
    as_json: AsJson = False,
    as_csv: AsCsv = False,
    chart: Chart = None,
) -> None:
    """How each place's target moves when each weight or component share moves by ±10%."""
    settings = Settings.from_env()
    if level is None:
        level = _level_of(place) if place is not None else "lad"
    run = _resolve(settings, total, year, level, formula, None, None, None, None)
    with err.status(f"Testing sensitivity ({settings.engine})"), connect(settings) as wh:
        data = from_warehouse(wh, run.year, run.formula.variables(), [run.level])
    table = sensitivity(run.formula, data, total=run.total, level=run.level, change=change)
    if place is not None:
        if place not in set(table["place"]):
            raise AllocationError(f"no place {place!r} at level {run.level!r}")
        table = table[table["place"] == place].reset_index(drop=True)
    if chart is not None:
        if place is None:
            raise AllocationError("--chart draws one place: name it, e.g. E08000003")
        err.print(f"Tornado chart: {tornado(table, place, chart)}")
    if as_json:
        typer.echo(json.dumps(records(table), indent=2))
        return
    if as_csv:
        emit(table, False, True)
        return
    print_sensitivity(table, change)


def print_sensitivity(table: pd.DataFrame, change: float) -> None:
    for (place, name), rows in table.groupby(["place", "name"], sort=True):
        grid = Table(title=f"{name} ({place})", title_justify="left")
        grid.add_column("Weight", overflow="fold")
        grid.add_column("Value", justify="right")
        grid.add_column(f"-{change:.0%}", justify="right")
        grid.add_column(f"+{change:.0%}", justify="right")
        for row in tuples(rows):
            grid.add_row(
                str(row.description),
                f"{row.base_value:.3g}",
                f"{row.low_change:+,}",
                f"{row.high_change:+,}",
            )
        out.print(grid)
    out.print("Change in the place's target (£) when one weight moves and the rest are held.")


@allocate_app.command("formula")
@user_errors
def formula_command(
    formula: FormulaFile = None,
    as_json: AsJson = False,
) -> None:
    """Print the default formula (TOML, to copy and edit), or check and summarise one."""
    if formula is None and not as_json:
        typer.echo(
            resources.files("carepool.allocation").joinpath(DEFAULT_FORMULA).read_text(), nl=False
        )
        return
    spec = load_formula(formula)
    summary = [
        {
            "id": c.id,
            "name": c.name,
            "share": c.share,
            "cost_curve": c.curve_source,
            "services": list(c.services),
            "need": [{"variable": v.variable, "weight": v.weight} for v in c.need],
            "inequalities_weight": c.inequalities_weight,
            "market_forces": c.market_forces,
        }
        for c in spec.components
    ]
    if as_json:
        typer.echo(json.dumps({"id": spec.id, "version": spec.version, "components": summary}))
        return
    out.print(f"{escape(spec.path)}: formula {spec.id} {spec.version} is valid.")
    for c in summary:
        out.print(f"  {c['id']}: share {c['share']:g}, cost curve {c['cost_curve']}")
