"""The ``carepool`` command line: one Typer app, a thin shell over the domain packages."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from carepool import __version__
from carepool.allocation import Allocation
from carepool.allocation.formula import Formula
from carepool.cli.allocate import (
    allocate_app,
    default_run,
    print_allocation,
    run_allocation,
)
from carepool.cli.ledger import ledger_app, open_ledger, print_decisions, print_position
from carepool.cli.support import (
    emit,
    err,
    fmt,
    out,
    tuples,
    user_errors,
)
from carepool.config import Settings
from carepool.demo.posting import run_demo
from carepool.errors import ConfigError, WarehouseError
from carepool.geography import resolve_region
from carepool.indicators import (
    GAP_LEVELS,
    INDICATORS,
    gap_table,
    gaps_from_table,
    indicator_table,
)
from carepool.population import BuildRequest, build, model_summary, run_checks
from carepool.population.summary import Summary
from carepool.reference import data_digest, datasets
from carepool.stats.life_table import MIN_POPULATION
from carepool.stats.standardised import MIN_DSR_EVENTS
from carepool.warehouse import TABLES, Column, Kind, TableSchema, mixed_sources, read_manifest
from carepool.warehouse.connection import Warehouse, connect
from carepool.warehouse.loader import load_file

app = typer.Typer(
    help="carepool: the model of a devolved health and social care economy.",
    no_args_is_help=True,
    add_completion=False,
)
data_app = typer.Typer(help="Reference data shipped with carepool.", no_args_is_help=True)
app.add_typer(data_app, name="data")
indicators_app = typer.Typer(
    help="Outcome indicators for any place and period, benchmarked and disclosure-controlled."
)
app.add_typer(indicators_app, name="indicators")
app.add_typer(allocate_app, name="allocate")
app.add_typer(ledger_app, name="ledger")


@contextmanager
def step_progress(total: int, enabled: bool = True) -> Iterator[Callable[[str], None]]:
    """A Rich progress bar over named steps, on stderr (so ``--json`` stays clean)."""
    if not enabled:
        yield lambda _message: None
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task("Starting", total=total)
        first = [True]

        def advance(message: str) -> None:
            if not first[0]:
                progress.advance(task)
            first[0] = False
            progress.update(task, description=message)

        yield advance
        progress.update(task, completed=total, description="Done")


def _money(pence: int) -> str:
    return f"£{pence / 100:,.0f}"


def _run_build(settings: Settings, request: BuildRequest, quiet: bool = False) -> dict[str, Any]:
    resolve_region(request.region)  # a bad region fails before the progress bar starts
    with step_progress(total=4 + request.years, enabled=not quiet) as advance:
        return build(request, settings.warehouse_dir, progress=advance)


@app.command("build")
@user_errors
def build_command(
    region: Annotated[
        str, typer.Option(help="'gm' (Greater Manchester) or comma-separated LA codes")
    ] = "gm",
    scale: Annotated[float, typer.Option(help="share of the population to model, in (0, 1]")] = 1.0,
    seed: Annotated[
        int, typer.Option(help="random seed; the same seed gives the same tables")
    ] = 42,
    years: Annotated[
        int, typer.Option(help="consecutive financial years from 2024-25 (2 to 10)")
    ] = 2,
    force: Annotated[
        bool, typer.Option("--force", help="replace a warehouse that holds loaded extracts")
    ] = False,
) -> None:
    """Build the model and write the warehouse to $CAREPOOL_DATA_DIR/warehouse."""
    settings = Settings.from_env()
    try:
        loads = read_manifest(settings.warehouse_dir).get("loads")
    except WarehouseError:
        loads = None
    if loads and not force:
        tables = ", ".join(sorted({load["table"] for load in loads}))
        raise ConfigError(
            f"{settings.warehouse_dir} holds loaded extracts ({tables}); building would replace "
            "them. Use another CAREPOOL_DATA_DIR, or --force to replace them."
        )
    manifest = _run_build(settings, BuildRequest(region, scale, seed, years))
    out.print(
        f"Built {manifest['region_name']} (scale {manifest['scale']}, seed {manifest['seed']}, "
        f"{', '.join(manifest['years'])}) in {manifest['build_seconds']} s: "
        f"{manifest['tables']['residents']['rows']:,} residents -> {settings.warehouse_dir}"
    )


def _warn_if_mixed(manifest: dict[str, Any]) -> None:
    warning = mixed_sources(manifest)
    if warning:
        err.print(f"[bold yellow]Warning:[/] {escape(warning)}", highlight=False)


def _summary(settings: Settings) -> Summary:
    manifest = read_manifest(settings.warehouse_dir)
    _warn_if_mixed(manifest)
    with err.status(f"Summarising the model ({settings.engine})"), connect(settings) as engine:
        return model_summary(engine, manifest)


def print_summary(summary: Summary) -> None:
    out.print(
        f"[bold]{summary.region_name}[/] — {summary.year}, scale {summary.scale}, "
        f"seed {summary.seed}: [bold]{summary.residents:,}[/] residents in "
        f"{summary.places['lad']} local authorities, {summary.places['msoa']} MSOAs and "
        f"{summary.places['lsoa']:,} LSOAs; {summary.deaths:,} deaths; "
        f"public cost of the modelled services {_money(summary.cost_pence)} "
        f"(residents' own money a further {_money(summary.residents_pence)})"
    )
    boroughs = Table(title=f"Residents and public cost by local authority, {summary.year}")
    for name in ("Code", "Local authority", "Residents", "Public cost", "Per head"):
        boroughs.add_column(
            name, justify="right" if name in {"Residents", "Public cost", "Per head"} else "left"
        )
    for row in summary.by_lad:
        per_head = row["cost_pence"] / max(row["residents"], 1)
        boroughs.add_row(
            row["code"],
            row["name"],
            f"{row['residents']:,}",
            _money(row["cost_pence"]),
            _money(round(per_head)),
        )
    out.print(boroughs)
    services = Table(title=f"Activity and cost by service (all payers), {summary.year}")
    for name in ("Service", "Activity", "Cost", "Share"):
        services.add_column(name, justify="left" if name == "Service" else "right")
    total = max(summary.cost_pence + summary.residents_pence, 1)
    for row in summary.by_service:
        services.add_row(
            row["service"],
            f"{row['activity']:,}",
            _money(row["cost_pence"]),
            f"{100 * row['cost_pence'] / total:.1f}%",
        )
    out.print(services)
    payers = Table(title="Who pays")
    payers.add_column("Payer")
    payers.add_column("Cost", justify="right")
    labels = {
        "nhs": "NHS (ICB)",
        "council": "Councils",
        "self": "Residents (charges, self-funders)",
    }
    for row in summary.by_payer:
        payers.add_row(labels.get(row["payer_kind"], row["payer_kind"]), _money(row["cost_pence"]))
    out.print(payers)
    dep = Table(title="Residents by national deprivation quintile (IoD2025; 1 = most deprived)")
    for name in ("Quintile", "Residents", "Share"):
        dep.add_column(name, justify="right")
    for row in summary.deprivation:
        dep.add_row(str(row["imd_quintile"]), f"{row['residents']:,}", f"{100 * row['share']:.1f}%")
    out.print(dep)


@app.command("info")
@user_errors
def info_command(
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Summarise the model in the warehouse: residents, places, cost by service and borough."""
    summary = _summary(Settings.from_env())
    if as_json:
        typer.echo(json.dumps(summary.as_json(), indent=2))
    else:
        print_summary(summary)


def _checks(settings: Settings) -> list[dict[str, Any]]:
    manifest = read_manifest(settings.warehouse_dir)
    _warn_if_mixed(manifest)
    with err.status(f"Checking the model ({settings.engine})"), connect(settings) as engine:
        checks = run_checks(engine, manifest["lad_codes"], manifest["years"][0])
    return [c.as_dict() for c in checks]


def print_checks(checks: list[dict[str, Any]]) -> None:
    table = Table(title="Model against published targets")
    table.add_column("Check", no_wrap=True)
    for name in ("Model", "Target", "±"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("C/I", no_wrap=True)
    table.add_column("OK", no_wrap=True, min_width=4)
    for c in checks:
        table.add_row(
            c["check"],
            "n/a" if c["model"] is None else f"{c['model']:,.2f}",
            f"{c['target']:,.2f}",
            f"{c['tolerance']:,.2f}",
            "C" if c["basis"] == "calibrated" else "I",
            "[green]pass[/]" if c["ok"] else "[bold red]FAIL[/]",
        )
    out.print(table)
    failed = sum(not c["ok"] for c in checks)
    out.print(f"{len(checks) - failed} of {len(checks)} checks pass.", end="")
    if any(c["model"] is None for c in checks):
        out.print(" n/a: too few residents at this scale to estimate.", end="")
    out.print(
        " C: calibrated (the model was tuned to this figure); I: independent."
        " Units and sources: carepool validate --json."
    )


@app.command("validate")
@user_errors
def validate_command(
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON list of checks")] = False,
) -> None:
    """Compare the model with published targets; exit 1 if any check fails."""
    checks = _checks(Settings.from_env())
    if as_json:
        typer.echo(json.dumps(checks, indent=2))
    else:
        print_checks(checks)
    if not all(c["ok"] for c in checks):
        raise typer.Exit(1)


@app.command("demo")
@user_errors
def demo_command(
    region: Annotated[str, typer.Option(help="'gm' or comma-separated LA codes")] = "gm",
    scale: Annotated[float, typer.Option(help="share of the population to model")] = 1.0,
    seed: Annotated[int, typer.Option(help="random seed")] = 42,
) -> None:
    """The main job: build the model if needed, then summarise and validate it."""
    settings = Settings.from_env()
    request = BuildRequest(region, scale, seed)
    if _needs_build(settings.warehouse_dir, request):
        out.print(f"Building the model into {settings.warehouse_dir} ...")
        _run_build(settings, request)
    else:
        out.print(f"Using the model already built in {settings.warehouse_dir}.")
    print_summary(_summary(settings))
    print_checks(_checks(settings))
    print_headlines(settings)
    allocation, formula = print_demo_allocation(settings)
    print_demo_ledger(settings, allocation, formula)


#: The outcomes ``demo`` leads with: the priorities (cancer, mental health, learning
#: disabilities) and the gap in life expectancy.
HEADLINES = (
    "life_expectancy_male",
    "life_expectancy_female",
    "u75_mortality_all_causes",
    "u75_mortality_cancer",
    "cancer_early_stage",
    "talking_therapies_recovery",
    "ld_health_checks",
    "emergency_admissions",
    "care_closer_to_home",
)


def print_headlines(settings: Settings) -> None:
    """Headline outcomes for the region in the latest year, and their gaps."""
    with err.status("Computing headline outcomes and gaps"), connect(settings) as wh:
        table = indicator_table(wh, indicators=HEADLINES, levels=GAP_LEVELS)
    latest = table["period"].max()
    region = table[(table["level"] == "region") & (table["period"] == latest)]
    print_indicators(region)
    gaps = gaps_from_table(table)
    shown = gaps["measure"].isin(["region_minus_england", "sii"]) & (gaps["period"] == latest)
    print_gaps(gaps[shown], title=f"Gaps, {latest}: region against England; SII across deciles")


def print_demo_allocation(settings: Settings) -> tuple[Allocation, Formula]:
    """The default pool shared between the boroughs by the default formula."""
    run = default_run(settings)
    allocation = run_allocation(settings, run)
    print_allocation(allocation)
    out.print(
        "Explain a borough's figure: carepool allocate explain E08000003; "
        "sensitivity: carepool allocate sensitivity E08000003"
    )
    return allocation, run.formula


def print_demo_ledger(settings: Settings, allocation: Allocation, formula: Formula) -> None:
    """Open the pooled fund, allocate it, post a year of spend, print its position."""
    manifest = read_manifest(settings.warehouse_dir)
    spend_year = manifest["years"][-1]
    with open_ledger(settings) as ledger:
        with err.status("Posting a year of the pooled fund to the ledger"), connect(settings) as wh:
            model = f"{manifest['region']} scale {manifest['scale']} seed {manifest['seed']}"
            default = (manifest["region"], manifest["scale"], manifest["seed"]) == ("gm", 1.0, 42)
            run = run_demo(ledger, allocation, formula, wh, spend_year, "" if default else model)
        position = ledger.position(run.fund, actor="public")
        register = ledger.decisions(run.fund, actor="public")
        check = ledger.verify(run.fund)
    where = settings.database_url.split("@")[-1]
    replayed = (
        f"; all {run.replayed:,} requests were already posted, so the ledger replayed them"
        if run.replayed == run.requests
        else ""
    )
    out.print(
        f"Pooled fund {run.fund} in {where}: {run.requests:,} requests{replayed}. "
        f"Spend is the model's {run.spend_year} public cost, posted in equal monthly parts; "
        "public health has no modelled activity, so its lines show no spend."
    )
    print_position(position, by="place")
    print_position(position, by="service")
    print_decisions(register)
    out.print(
        f"Journal: {check.entries:,} entries, {'verified' if check.ok else 'NOT VERIFIED'}; "
        f"digest {check.digest}. Lines: carepool ledger position --user public; "
        "check anyone's copy: carepool ledger verify"
    )


def _needs_build(warehouse_dir: Path, request: BuildRequest) -> bool:
    """Whether ``demo`` must build: no complete warehouse, or one built differently.

    A warehouse holding a partner's loaded extract is never rebuilt (that would destroy the
    loaded data); asking for a different model there is an error.
    """
    try:
        manifest = read_manifest(warehouse_dir)
    except WarehouseError:
        return True
    wanted = resolve_region(request.region)
    differs = (
        manifest.get("lad_codes") != list(wanted.lad_codes)
        or float(manifest.get("scale", -1)) != request.scale
        or int(manifest.get("seed", -1)) != request.seed
    )
    complete = all((warehouse_dir / f"{t}.parquet").is_file() for t in manifest.get("tables", {}))
    stale = (
        manifest.get("carepool_version") != __version__
        or manifest.get("reference_digest") != data_digest()
    )
    if manifest.get("loads"):
        if stale and not differs and complete:
            err.print(
                "[bold yellow]Warning:[/] the model was built by another carepool version or "
                "from other reference data; it holds loaded extracts, so it is used as it is."
            )
        if differs or not complete:
            raise ConfigError(
                f"{warehouse_dir} holds loaded extracts "
                f"({', '.join(sorted({load['table'] for load in manifest['loads']}))}) and "
                "differs from the model asked for; demo will not overwrite it. Use another "
                "CAREPOOL_DATA_DIR, or `carepool build` to replace it on purpose."
            )
        return False
    if stale and not differs and complete:
        out.print("carepool or its reference data changed since the model was built.")
    return differs or not complete or stale


@app.command("load")
@user_errors
def load_command(
    table: Annotated[str, typer.Argument(help="warehouse table, e.g. residents or person_year")],
    file: Annotated[Path, typer.Argument(help="a CSV (with a header row) or Parquet file")],
) -> None:
    """Validate a partner's extract and load all of it, or nothing."""
    settings = Settings.from_env()
    with err.status(f"Checking {file.name} against the {table} table"):
        result = load_file(table, file, settings.warehouse_dir)
    out.print(f"Loaded {result.rows:,} rows from {file} into {table}.")


@app.command("schema")
@user_errors
def schema_command(
    table: Annotated[str | None, typer.Argument(help="a warehouse table; all if omitted")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Describe warehouse tables: columns, types and the rules `carepool load` applies."""
    names = [table] if table else list(TABLES)
    unknown = [n for n in names if n not in TABLES]
    if unknown:
        raise ConfigError(f"no warehouse table {unknown[0]!r}; tables: {', '.join(TABLES)}")
    if as_json:
        typer.echo(json.dumps([_schema_json(TABLES[n]) for n in names], indent=2))
        return
    for name in names:
        spec = TABLES[name]
        title = f"{spec.name}: {spec.doc} Key: {', '.join(spec.key)}."
        if not spec.loadable:
            title += " (built from reference data; not loadable)"
        grid = Table(title=title, title_justify="left")
        for heading in ("Column", "Type", "Rule", "Required", "Meaning"):
            grid.add_column(heading, overflow="fold")
        for column in spec.columns:
            grid.add_row(
                column.name,
                str(column.type),
                _rule(column, spec.pseudonymised_ids),
                "no" if column.nullable else "yes",
                column.doc,
            )
        out.print(grid)


def _rule(column: Column, pseudonyms: bool) -> str:
    if column.kind == Kind.CATEGORY:
        return "one of: " + ", ".join(column.categories)
    if column.kind == Kind.NHS_NUMBER and pseudonyms:
        return "NHS number (check digit) or pseudonym P:<16-64 hex>"
    return RULES.get(column.kind, "")


RULES = {
    Kind.LSOA: "LSOA 2021 code of the model",
    Kind.LAD: "local authority code of the model",
    Kind.PAYER: "ICB or council code of the model, or SELF",
    Kind.NHS_NUMBER: "NHS number with a valid check digit",
    Kind.MONEY: "integer pence, not negative",
    Kind.COUNT: "whole number, not negative",
    Kind.DATE: "date YYYY-MM-DD",
    Kind.YEAR: "financial year such as 2024-25",
}


def _schema_json(spec: TableSchema) -> dict[str, Any]:
    return {
        "table": spec.name,
        "doc": spec.doc,
        "key": list(spec.key),
        "loadable": spec.loadable,
        "columns": [
            {
                "name": c.name,
                "type": str(c.type),
                "rule": _rule(c, spec.pseudonymised_ids),
                "required": not c.nullable,
                "doc": c.doc,
            }
            for c in spec.columns
        ],
    }


_COMPARISON_STYLE = {"better": "green", "worse": "red", "similar": "yellow"}


_SHORT = {"not compared": "-", "cannot be calculated": "-"}


def _word(word: Any) -> str:
    if word is None or pd.isna(word):
        return ""
    text = _SHORT.get(str(word), str(word))
    style = _COMPARISON_STYLE.get(text) or {"improving": "green", "worsening": "red"}.get(text)
    return f"[{style}]{text}[/]" if style else text


def print_indicators(frame: pd.DataFrame) -> None:
    """One table per place: value, interval, England, and the three comparisons."""
    for (place, name, level), rows in frame.groupby(["place", "place_name", "level"], sort=False):
        label = f"{place}, {level}" if name == place else f"{place}"
        grid = Table(title=f"{name} ({label})", title_justify="left")
        grid.add_column("Indicator", overflow="fold", ratio=3)
        grid.add_column("Period", no_wrap=True)
        grid.add_column("Value (95% CI)", justify="right", overflow="fold", ratio=2)
        for heading in ("England", "Region", "Trend"):
            grid.add_column(heading, overflow="fold", ratio=1)
        for row in tuples(rows):
            value = "*" if row.suppressed else fmt(row.value) or "n/c"
            if not row.suppressed and pd.notna(row.lower):
                value += f" ({fmt(row.lower)} to {fmt(row.upper)})"
            grid.add_row(
                str(row.indicator),
                str(row.period),
                value,
                _word(row.comparison),
                _word(row.comparison_region),
                _word(row.trend),
            )
        out.print(grid)
    out.print(
        "England, Region: significantly better, similar or worse (95% CI); higher, similar or "
        "lower where neither is better; - not compared (no England value, or the region "
        "itself). Trend: against the place's previous period; - no earlier period. "
        "* suppressed: a count of 1-7, or a cell that would reveal one (NHS statistics "
        "disclosure rule; counts below national level rounded to 5). n/c not calculated: "
        f"fewer than {MIN_DSR_EVENTS} events for a standardised rate, a population of "
        f"{MIN_POPULATION:,} or fewer (or too uncertain) for life expectancy, or a denominator "
        "that rounds to 0; value_note in --json and --csv says which. "
        "Names, units, England periods and sources: carepool indicators list.",
        highlight=False,
    )


@indicators_app.callback(invoke_without_command=True)
@user_errors
def indicators_command(
    ctx: typer.Context,
    level: Annotated[
        list[str] | None,
        typer.Option(
            help="geography level: region, lad, msoa, lsoa, decile, quintile, lad_decile, "
            "lad_quintile (deprivation within each borough) or a footprint kind (ward, sub_icb, "
            "icb, lsoa11); repeat for several [default: region and lad]"
        ),
    ] = None,
    place: Annotated[
        list[str] | None, typer.Option(help="a place code at any level; repeat for several")
    ] = None,
    indicator: Annotated[
        list[str] | None, typer.Option(help="an indicator id (see `list`); repeat for several")
    ] = None,
    year: Annotated[
        list[str] | None,
        typer.Option(help="financial year by its first calendar year, e.g. 2025 for 2025-26"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON list of rows")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="print CSV")] = False,
) -> None:
    """Indicators for places and periods, against the region and England, with trend."""
    if ctx.invoked_subcommand is not None:
        return
    settings = Settings.from_env()
    _warn_if_mixed(read_manifest(settings.warehouse_dir))
    with err.status(f"Computing indicators ({settings.engine})"), connect(settings) as wh:
        frame = indicator_table(wh, indicators=indicator, levels=level, places=place, years=year)
    for note in frame.attrs.get("notes", []):
        err.print(f"Note: {escape(note)}", highlight=False)
    if not emit(frame, as_json, as_csv):
        print_indicators(frame)


@indicators_app.command("list")
@user_errors
def indicators_list(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="print CSV")] = False,
) -> None:
    """The indicators: ids, names, methods, polarity, units and sources."""
    items = [i.as_dict() for i in INDICATORS]
    if as_json and as_csv:
        raise ConfigError("choose one of --json and --csv")
    if as_json:
        typer.echo(json.dumps(items, indent=2))
        return
    if as_csv:
        typer.echo(pd.DataFrame(items).to_csv(index=False), nl=False)
        return
    grid = Table(title="Indicators", title_justify="left")
    for name in ("Id", "Name", "Method", "Polarity", "Unit", "Source"):
        grid.add_column(name, overflow="fold")
    for item in items:
        grid.add_row(
            item["id"], item["name"], item["method"], item["polarity"], item["unit"], item["source"]
        )
    out.print(grid)


@indicators_app.command("gaps")
@user_errors
def indicators_gaps(
    indicator: Annotated[
        list[str] | None, typer.Option(help="an indicator id; repeat for several")
    ] = None,
    year: Annotated[list[str] | None, typer.Option(help="financial year, e.g. 2025")] = None,
    place: Annotated[
        str | None,
        typer.Option(
            help="a local authority's code: its gaps against England and the region, and "
            "across its own deprivation quintiles and deciles [default: the region]"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON list of rows")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="print CSV")] = False,
) -> None:
    """Gaps: region (or borough) minus England, most minus least deprived, SII and RII."""
    settings = Settings.from_env()
    with err.status(f"Computing gaps ({settings.engine})"), connect(settings) as wh:
        frame = gap_table(wh, indicators=indicator, years=year, place=place)
    if not emit(frame, as_json, as_csv):
        title = "Gaps and inequalities" + (f", {place.upper()}" if place else "")
        print_gaps(frame, title=title)


def print_gaps(frame: pd.DataFrame, title: str = "Gaps and inequalities") -> None:
    grid = Table(title=title, title_justify="left")
    grid.add_column("Indicator", overflow="fold", ratio=3)
    grid.add_column("Period", no_wrap=True)
    grid.add_column("Gap", overflow="fold", ratio=2)
    grid.add_column("Value (95% CI)", justify="right", overflow="fold", ratio=2)
    grid.add_column("Change", justify="right", no_wrap=True)
    grid.add_column("Movement", overflow="fold", ratio=1)
    labels = {
        "region_minus_england": "region − England",
        "place_minus_england": "borough − England",
        "place_minus_region": "borough − region",
        "q1_minus_q5": "most − least deprived",
        "sii": "SII across deciles",
        "rii": "RII across deciles",
    }
    for row in tuples(frame):
        digits = 3 if row.measure == "rii" else 1
        value = "*" if row.suppressed else fmt(row.value, digits) or "n/c"
        if not row.suppressed and pd.notna(row.lower):
            value += f" ({fmt(row.lower, digits)} to {fmt(row.upper, digits)})"
        grid.add_row(
            row.indicator,
            row.period,
            labels[row.measure],
            value,
            fmt(row.change, digits),
            _word(row.movement),
        )
    out.print(grid)
    out.print(
        "Gaps are differences of published values with 95% CI: region or borough minus England "
        "or the region; most minus least deprived quintile; SII, the fitted difference across "
        "deprivation deciles (least minus most deprived), and RII, their ratio. Movement: against "
        "the previous period. * suppressed (an input is suppressed); n/c not calculated (an "
        "input has no value; detail in --json and --csv).",
        highlight=False,
    )


@data_app.command("sources")
def data_sources(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """List each vendored dataset with its publisher, vintage and licence."""
    items = datasets()
    if as_json:
        typer.echo(json.dumps([vars(d) for d in items], indent=2))
        return
    table = Table(title="Reference data shipped with carepool (see DATA-LICENCE.md)")
    for name in ("Dataset", "Publisher", "Vintage", "Licence", "File"):
        table.add_column(name, overflow="fold")
    for d in items:
        table.add_row(d.title, d.publisher, d.vintage, d.licence, d.file)
    out.print(table)
    out.print("Contains public sector information licensed under the Open Government Licence v3.0.")


def main() -> None:
    app()


__all__ = ["Warehouse", "app", "main"]
