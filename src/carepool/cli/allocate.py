"""``carepool allocate``: the pooled budget shared out by need, explained and stress-tested."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich import box
from rich.table import Table

from carepool.allocation import (
    DEFAULT_POPULATION,
    DEFAULT_TOTAL,
    NHS_ENGLAND_SOURCE,
    Allocation,
    AllocationRequest,
    Comparison,
    Run,
    compare_with_nhs_england,
    default_formula_text,
    formula_summary,
    level_of_place,
    resolve,
    run_allocation,
    sensitivity_table,
    tornado,
    waterfall,
)
from carepool.cli.support import (
    ShareLibrary,
    chart_library,
    emit,
    err,
    gbp,
    new_file,
    out,
    records,
    tuples,
    user_errors,
)
from carepool.config import Settings
from carepool.errors import AllocationError
from carepool.geography import resolve_region
from carepool.warehouse import connect, location_of, read_manifest

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
Population = Annotated[
    str,
    typer.Option(
        help="count each place's people as its residents or as its GP registered patients "
        "(registered: NHS England's lists, Greater Manchester only)",
        metavar="resident|registered",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]
AsCsv = Annotated[bool, typer.Option("--csv", help="print CSV")]
Chart = Annotated[
    Path | None,
    typer.Option("--chart", help="also write an HTML chart here", callback=new_file),
]


def _request(
    total: int,
    year: str | None,
    level: str,
    formula_file: Path | None,
    baseline_file: Path | None = None,
    min_growth: float | None = None,
    max_below_target: float | None = None,
    convergence: float | None = None,
    population: str = DEFAULT_POPULATION,
) -> AllocationRequest:
    return AllocationRequest(
        total=total,
        year=year,
        level=level,
        formula_file=formula_file,
        baseline_file=baseline_file,
        min_growth=min_growth,
        max_below_target=max_below_target,
        convergence=convergence,
        population=population,
    )


def allocate_places(settings: Settings, request: AllocationRequest) -> tuple[Allocation, Run]:
    """Resolve the request and allocate, with a spinner while the engine works."""
    with connect(settings) as wh, err.status(f"Reading need ({settings.engine})") as status:
        run = resolve(wh, request)
        status.update(f"Allocating £{run.total:,} ({settings.engine})")
        return run_allocation(wh, run), run


def _millions(value: Any) -> str:
    return "" if value is None or pd.isna(value) else gbp(value / 1e6, 2, "m")


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
        grid.add_row(*cells, "" if pd.isna(row.per_head) else gbp(row.per_head))
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
    population: Population = DEFAULT_POPULATION,
    as_json: AsJson = False,
    as_csv: AsCsv = False,
    region: Annotated[
        str | None,
        typer.Option(
            help="the region the built model must be (gm, england, a code or a list, as "
            "`carepool build --region`): a clear error if it is another"
        ),
    ] = None,
) -> None:
    """Each place's target share and allocation in whole pounds (they sum to the total); by
    ICB, beside NHS England's published need index."""
    if ctx.invoked_subcommand is not None:
        return
    request = _request(
        total, year, level, formula, baseline, min_growth, max_below_target, convergence, population
    )
    settings = Settings.from_env()
    manifest = read_manifest(location_of(settings))
    if region is not None:
        require_region(manifest, region)
    allocation, _ = allocate_places(settings, request)
    comparison = None
    if level == "icb":
        modelled = manifest.get("lad_codes") or []
        comparison = compare_with_nhs_england(allocation.places, list(modelled))
    places = allocation.places
    if comparison is not None:
        extra = comparison.places[["place", "nhse_need_index", "difference"]].rename(
            columns={"difference": "nhse_difference"}
        )
        places = places.merge(extra, on="place", how="left")
    if emit(places, as_json, as_csv):
        return
    print_allocation(allocation)
    if comparison is not None:
        print_comparison(comparison)
    elif level == "icb":
        out.print(
            "NHS England's need index is compared for the ICBs the model holds whole, when "
            "there are two or more (a single ICB's index is 1 on both sides)."
        )
    else:
        out.print(
            "NHS England publishes need indices by ICB: --level icb sets the model's beside "
            "them (by council and neighbourhood, only Greater Manchester's localities are "
            "vendored: carepool validate --level lad)."
        )


def require_region(manifest: dict[str, Any], spec: str) -> None:
    """An error unless the built model (its ``manifest``) is the region ``spec`` names."""
    wanted = resolve_region(spec)
    built = tuple(sorted(manifest.get("lad_codes") or ()))
    if built != tuple(sorted(wanted.lad_codes)):
        held = manifest.get("region_name", manifest.get("region", "nothing"))
        raise AllocationError(
            f"--region {spec}: the built model is {held} ({len(built)} councils), not "
            f"{wanted.name} ({len(wanted.lad_codes)} councils); build it first: "
            f"carepool build --region {spec}"
        )


def print_comparison(comparison: Comparison) -> None:
    """The model's need index by ICB beside NHS England's."""
    grid = Table(
        title="Need index by ICB: the model's beside NHS England's (core services, 2025/26), "
        "each over the compared ICBs' average",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    for heading in ("ICB", "Name"):
        grid.add_column(heading, no_wrap=heading == "ICB", overflow="fold")
    for heading in ("Model", "NHS England", "Difference"):
        grid.add_column(heading, justify="right")
    for row in tuples(comparison.places):
        grid.add_row(
            str(row.place),
            str(row.name),
            f"{row.need_index:.3f}",
            f"{row.nhse_need_index:.3f}",
            f"{row.difference:+.3f}",
        )
    out.print(grid)
    r = comparison.correlation
    out.print(
        f"{len(comparison.places)} ICBs; mean absolute difference "
        f"{comparison.mean_absolute_difference:.3f}"
        + ("" if r is None else f"; correlation {r:.2f}")
        + f". {NHS_ENGLAND_SOURCE}: the model's is 1 for their average resident, NHS "
        "England's for their average registered patient; ICBs the model holds only part "
        "of are left out. NHS England's also carries the market-forces factor and "
        "ambulance costs, which the model does not.",
        highlight=False,
    )


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
    population: Population = DEFAULT_POPULATION,
    as_json: AsJson = False,
    chart: Chart = None,
    share_library: ShareLibrary = False,
) -> None:
    """The steps from an equal share per head to one place's allocation, and its components."""
    library = chart_library(share_library, chart)
    request = _request(
        total,
        year,
        level or level_of_place(place),
        formula,
        baseline,
        min_growth,
        max_below_target,
        convergence,
        population,
    )
    allocation, _ = allocate_places(Settings.from_env(), request)
    explained = allocation.explain(place)
    if chart is not None:
        err.print(f"Waterfall chart: {waterfall(explained, chart, library)}")
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
        per_head = "" if step["per_head"] is None else gbp(step["per_head"], 2)
        grid.add_row(step["label"], change, gbp(step["amount"]), per_head)
    out.print(grid)
    parts = Table(title="Components of the target", title_justify="left")
    for heading in ("Component", "Share of pool", "Place's share", "Target"):
        parts.add_column(heading, justify="left" if heading == "Component" else "right")
    for c in explained["components"]:
        parts.add_row(
            c["component_name"],
            f"{c['share_of_pool']:.1%}",
            f"{c['target_share']:.4%}",
            gbp(c["target"]),
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
    population: Population = DEFAULT_POPULATION,
    as_json: AsJson = False,
    as_csv: AsCsv = False,
    chart: Chart = None,
    share_library: ShareLibrary = False,
) -> None:
    """How each place's target moves when each weight or component share moves by ±10%."""
    library = chart_library(share_library, chart)
    settings = Settings.from_env()
    if level is None:
        level = level_of_place(place) if place is not None else "lad"
    with connect(settings) as wh, err.status(f"Reading need ({settings.engine})") as status:
        run = resolve(wh, _request(total, year, level, formula, population=population))
        status.update(f"Testing sensitivity ({settings.engine})")
        table = sensitivity_table(wh, run, place, change)
    if chart is not None:
        if place is None:
            raise AllocationError("--chart draws one place: name it, e.g. E08000003")
        err.print(f"Tornado chart: {tornado(table, place, chart, library=library)}")
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
        typer.echo(default_formula_text(), nl=False)
        return
    summary = formula_summary(formula)
    if as_json:
        fields = ("id", "version", "components")
        typer.echo(json.dumps({name: summary[name] for name in fields}))
        return
    out.print(f"{summary['path']}: formula {summary['id']} {summary['version']} is valid.")
    for c in summary["components"]:
        out.print(f"  {c['id']}: share {c['share']:g}, cost curve {c['cost_curve']}")
