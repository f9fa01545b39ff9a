"""``carepool build | info | validate | load | schema | data``: the model and its tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from carepool.cli.support import err, literal, money, out, step_progress, styled, warn
from carepool.config import Settings
from carepool.model import (
    MIN_RANK_CORRELATION,
    MIN_RANKED,
    MIN_TESTABLE_FLOOR,
    Z95,
    BoroughValidation,
    build_model,
    build_steps,
    check_build,
    column_rule,
    describe,
    load_extract,
    mixed_warning,
    summarise,
    table_schemas,
    validate,
    validate_boroughs,
    validation_scatter,
)
from carepool.population import BuildRequest, Check, Summary
from carepool.reference import datasets
from carepool.warehouse import connect, location_of, printable, read_manifest

data_app = typer.Typer(help="Reference data shipped with carepool.", no_args_is_help=True)


def run_build(
    settings: Settings,
    request: BuildRequest,
    *,
    force: bool = False,
    quiet: bool = False,
    workers: int | None = None,
    resume: bool = True,
) -> dict[str, Any]:
    """Build with a progress bar; refusals (region, loaded extracts) come before it starts."""
    check_build(settings, request, force=force)
    with step_progress(total=build_steps(request), enabled=not quiet) as advance:
        return build_model(
            request, settings.warehouse_dir, progress=advance, workers=workers, resume=resume
        )


def build_command(
    region: Annotated[
        str,
        typer.Option(
            help="'gm', 'england', a combined authority (E47...), an ICB (E54...), a region "
            "(E12...) or comma-separated council codes; `carepool regions` lists them"
        ),
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
    workers: Annotated[
        int | None,
        typer.Option(help="processes building councils at once (default: one per core)", min=1),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            help="keep the councils an interrupted build of the same model finished "
            "(--no-resume starts again)"
        ),
    ] = True,
) -> None:
    """Build the model and write the warehouse to $CAREPOOL_DATA_DIR/warehouse.

    Councils build in parallel, each to its own partition; a stopped build resumes if rerun."""
    settings = Settings.from_env()
    manifest = run_build(
        settings,
        BuildRequest(region, scale, seed, years),
        force=force,
        workers=workers,
        resume=resume,
    )
    out.print(
        f"Built {manifest['region_name']} (scale {manifest['scale']}, seed {manifest['seed']}, "
        f"{', '.join(manifest['years'])}) in {manifest['build_seconds']} s, its disclosure "
        f"audit in {manifest['disclosure']['seconds']} s: "
        f"{manifest['tables']['residents']['rows']:,} residents -> {settings.warehouse_dir}"
    )


def read_summary(settings: Settings) -> Summary:
    """The model's summary, with a warning first if it mixes real and synthetic tables."""
    warn(mixed_warning(location_of(settings)))
    with err.status(f"Summarising the model ({settings.engine})"), connect(settings) as wh:
        return summarise(wh)


def read_checks(settings: Settings) -> list[dict[str, Any]]:
    """The model's checks as rows, with a warning first if it mixes real and synthetic tables."""
    warn(mixed_warning(location_of(settings)))
    with err.status(f"Checking the model ({settings.engine})"), connect(settings) as wh:
        checks: list[Check] = validate(wh)
    return [c.as_dict() for c in checks]


def print_summary(summary: Summary) -> None:
    out.print(
        f"{summary.region_name} — {summary.year}, scale {summary.scale}, "
        f"seed {summary.seed}: {summary.residents:,} residents in "
        f"{summary.places['lad']} local authorities, {summary.places['msoa']} MSOAs and "
        f"{summary.places['lsoa']:,} LSOAs; {summary.deaths:,} deaths; "
        f"public cost of the modelled services {money(summary.cost_pence)} "
        f"(residents' own money a further {money(summary.residents_pence)})"
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
            money(row["cost_pence"]),
            money(round(per_head)),
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
            money(row["cost_pence"]),
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
        payers.add_row(labels.get(row["payer_kind"], row["payer_kind"]), money(row["cost_pence"]))
    out.print(payers)
    dep = Table(title="Residents by national deprivation quintile (IoD2025; 1 = most deprived)")
    for name in ("Quintile", "Residents", "Share"):
        dep.add_column(name, justify="right")
    for row in summary.deprivation:
        dep.add_row(str(row["imd_quintile"]), f"{row['residents']:,}", f"{100 * row['share']:.1f}%")
    out.print(dep)


def info_command(
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Summarise the model in the warehouse: residents, places, cost by service and borough."""
    summary = read_summary(Settings.from_env())
    if as_json:
        typer.echo(json.dumps(summary.as_json(), indent=2))
    else:
        print_summary(summary)


def _check_table(title: str, figures: tuple[str, ...]) -> Table:
    """A table of checks: the check, its figures (right-aligned), calibrated or independent,
    and whether it passed."""
    table = Table(title=title)
    table.add_column("Check", no_wrap=True)
    for name in figures:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("C/I", no_wrap=True)
    table.add_column("OK", no_wrap=True, min_width=4)
    return table


def print_checks(checks: list[dict[str, Any]]) -> None:
    table = _check_table(
        "Model against published targets", ("Model", "Target", "±", "of which sampling")
    )
    for c in checks:
        sampling = c["sampling_se"]
        table.add_row(
            c["check"],
            "n/e" if c["model"] is None else f"{c['model']:,.2f}",
            f"{c['target']:,.2f}",
            f"{c['tolerance']:,.2f}",
            "" if sampling is None else f"{Z95 * sampling:,.2f}",
            "C" if c["basis"] == "calibrated" else "I",
            styled("pass", "green") if c["ok"] else styled("FAIL", "bold red"),
        )
    out.print(table)
    failed = sum(not c["ok"] for c in checks)
    out.print(f"{len(checks) - failed} of {len(checks)} checks pass.", end="")
    if any(c["model"] is None for c in checks):
        out.print(
            " n/e: not estimable at this scale (too few residents); for the region as a whole"
            " that is a failure.",
            end="",
        )
    out.print(
        " C: calibrated (the model was tuned to this figure); I: independent. ±: the"
        " structural tolerance plus 1.96 sampling standard errors of the model at its scale."
        " Units and sources: carepool validate --json."
    )


def validate_command(
    level: Annotated[
        str,
        typer.Option(
            help="region: the model as a whole; lad: each borough against its own published "
            "figures, and the boroughs' order"
        ),
    ] = "region",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    chart: Annotated[
        Path | None,
        typer.Option(
            help="with --level lad: also write a scatter chart, model against published with "
            "one point per council, to this HTML file (opens offline)",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Compare the model with published targets; exit 1 if any check fails."""
    if level not in ("region", "lad"):
        raise typer.BadParameter(f"{literal(level)}: expected region or lad", param_hint="--level")
    if chart is not None and level != "lad":
        raise typer.BadParameter(
            "a chart is drawn of the councils' checks: add --level lad", param_hint="--chart"
        )
    settings = Settings.from_env()
    if level == "lad":
        warn(mixed_warning(location_of(settings)))
        with err.status(f"Checking each borough ({settings.engine})"), connect(settings) as wh:
            boroughs = validate_boroughs(wh)
        if as_json:
            typer.echo(json.dumps(borough_json(boroughs), indent=2))
        else:
            print_borough_checks(boroughs)
        if chart is not None:
            manifest = read_manifest(location_of(settings))
            region = str(manifest.get("region_name", manifest.get("region", "")))
            written = validation_scatter(boroughs, chart, region)
            err.print(f"Chart written to {written}", highlight=False)
        if not boroughs.ok:
            raise typer.Exit(1)
        return
    checks = read_checks(settings)
    if as_json:
        typer.echo(json.dumps(checks, indent=2))
    else:
        print_checks(checks)
    if not all(c["ok"] for c in checks):
        raise typer.Exit(1)


def borough_json(boroughs: BoroughValidation) -> dict[str, Any]:
    return {
        "checks": [c.as_dict() for c in boroughs.checks],
        "ranks": [r.as_dict() for r in boroughs.ranks],
        "counts": boroughs.counts(),
        "ok": boroughs.ok,
    }


def _verdict(ok: bool | None) -> Text:
    if ok is None:
        return styled("n/e", "dim")
    return styled("pass", "green") if ok else styled("FAIL", "bold red")


def print_borough_checks(boroughs: BoroughValidation) -> None:
    """One section per measure, a borough a row; then the boroughs' order per measure."""
    table = Table(title="Each borough against its published figures")
    table.add_column("Check", no_wrap=True)
    table.add_column("Borough", no_wrap=True)
    for name in ("Model", "Published", "±", "of which sampling"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("C/I", no_wrap=True)
    table.add_column("OK", no_wrap=True, min_width=4)
    last = None
    if not boroughs.estimable:
        warn("no borough check could be estimated at this scale: nothing was validated")
    for c in boroughs.checks:
        if last is not None and c.check != last:
            table.add_section()
        sampling = (
            ""
            if c.sampling_se is None and c.published_se is None
            else f"{Z95 * c.combined_se:,.2f}"
        )
        table.add_row(
            c.check if c.check != last else "",
            c.area_name,
            "n/e" if not c.estimable else f"{c.model:,.2f}",
            f"{c.published:,.2f}",
            f"{c.tolerance:,.2f}",
            sampling,
            "C" if c.basis == "calibrated" else "I",
            _verdict(c.ok),
        )
        last = c.check
    out.print(table)
    order = _check_table(
        "The boroughs' order (Spearman rank correlation with the published)",
        ("Boroughs", "rho", "Needed"),
    )
    for r in boroughs.ranks:
        order.add_row(
            r.check,
            str(r.boroughs),
            "" if r.rho is None else f"{r.rho:.2f}",
            f"{r.required:.2f}" if r.testable else "untestable",
            "C" if r.basis == "calibrated" else "I",
            _verdict(r.ok),
        )
    if boroughs.ranks:
        out.print(order)
    else:
        out.print(f"The boroughs' order is not checked: fewer than {MIN_RANKED} boroughs.")
    counts = boroughs.counts()
    failed = sum(c.ok is False for c in boroughs.checks) + sum(
        r.ok is False for r in boroughs.ranks
    )
    out.print(
        f"{failed} checks fail; {counts['independent']} independent and {counts['calibrated']} "
        "calibrated (C: the model was tuned to the figure; I: it was not). ±: the structural "
        "tolerance plus 1.96 standard errors of the difference (the model's sampling error at "
        "its scale and the published figure's own); n/e: not "
        f"estimable at this scale (too few people). Needed: {MIN_RANK_CORRELATION:.2f}, or "
        "what a model equal to the published figures would reach at those sampling "
        "errors (untestable where that is below "
        f"{MIN_TESTABLE_FLOOR:.1f}); …_across_england: the model's method applied to the "
        "English authorities outside the region (expected values, so no sampling error). "
        "Units, periods and sources: --json; reasons: "
        "docs/data-card.md.",
        highlight=False,
    )


def load_command(
    table: Annotated[str, typer.Argument(help="warehouse table, e.g. residents or person_year")],
    file: Annotated[Path, typer.Argument(help="a CSV (with a header row) or Parquet file")],
) -> None:
    """Validate a partner's extract and load all of it, or nothing."""
    settings = Settings.from_env()
    with err.status(
        f"Checking {file.name} against the {table} table, then auditing what the published "
        "indicators could disclose"
    ):
        result = load_extract(table, file, settings.warehouse_dir)
    out.print(
        f"Loaded {result.rows:,} rows from {printable(str(file))} into {table}.",
        markup=False,
        highlight=False,
    )


def schema_command(
    table: Annotated[str | None, typer.Argument(help="a warehouse table; all if omitted")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Describe warehouse tables: columns, types and the rules `carepool load` applies."""
    specs = table_schemas(table)
    if as_json:
        typer.echo(json.dumps([describe(spec) for spec in specs], indent=2))
        return
    for spec in specs:
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
                column_rule(column, spec.pseudonymised_ids),
                "no" if column.nullable else "yes",
                column.doc,
            )
        out.print(grid)


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
