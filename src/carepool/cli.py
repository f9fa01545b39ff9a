"""The ``carepool`` command line: one Typer app, a thin shell over the domain packages."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from carepool.config import Settings
from carepool.errors import CarepoolError, ConfigError, LoadRejected, WarehouseError
from carepool.geography import resolve_region
from carepool.population import BuildRequest, build, model_summary, run_checks
from carepool.population.summary import Summary
from carepool.reference import datasets
from carepool.warehouse import TABLES, Column, Kind, TableSchema, read_manifest
from carepool.warehouse.engine import Warehouse, connect
from carepool.warehouse.loader import load_file

app = typer.Typer(
    help="carepool: the model of a devolved health and social care economy.",
    no_args_is_help=True,
    add_completion=False,
)
data_app = typer.Typer(help="Reference data shipped with carepool.", no_args_is_help=True)
app.add_typer(data_app, name="data")

out = Console()
err = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

MAX_PROBLEMS_SHOWN = 50


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Print a :class:`CarepoolError` as a message (no traceback) and exit with its code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except LoadRejected as exc:
            err.print(f"[bold red]Rejected:[/] {escape(str(exc))}")
            for problem in exc.problems[:MAX_PROBLEMS_SHOWN]:
                err.print(f"  {problem}", markup=False, highlight=False, soft_wrap=True)
            total = exc.total
            if total > MAX_PROBLEMS_SHOWN:
                err.print(f"  ... and {total - MAX_PROBLEMS_SHOWN} more problem(s)")
            err.print(f"{total} problem(s) in all; nothing was loaded.")
            raise typer.Exit(exc.exit_code) from None
        except CarepoolError as exc:
            err.print(f"[bold red]Error:[/] {escape(str(exc))}", highlight=False)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


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


def _summary(settings: Settings) -> Summary:
    manifest = read_manifest(settings.warehouse_dir)
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
    if manifest.get("loads"):
        if differs or not complete:
            raise ConfigError(
                f"{warehouse_dir} holds loaded extracts "
                f"({', '.join(sorted({load['table'] for load in manifest['loads']}))}) and "
                "differs from the model asked for; demo will not overwrite it. Use another "
                "CAREPOOL_DATA_DIR, or `carepool build` to replace it on purpose."
            )
        return False
    return differs or not complete


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
