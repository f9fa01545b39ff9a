"""``carepool project``: population, demand and money ten years ahead under scenarios, and
``carepool project backcast``: the method run from 2011 to 2021 against the census."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from carepool.cli.support import (
    emit,
    err,
    gbp,
    literal,
    new_file,
    out,
    records,
    user_errors,
    warn,
)
from carepool.config import Settings
from carepool.errors import LedgerError, ProjectionError
from carepool.ledger import parse_amount
from carepool.projection import (
    AGE_GROUP_BOUND,
    BOROUGH_BOUND,
    BROAD_GROUPS,
    MAX_DRAWS,
    MAX_HORIZON,
    ProjectionRequest,
    ProjectionResult,
    backcast,
    fan_charts,
    project,
    projection_rows,
    scenario_text,
    shipped_scenarios,
)
from carepool.warehouse import connect, read_manifest
from carepool.years import financial_year, is_financial_year, next_year, start_year

project_app = typer.Typer(
    help="Project population, demand and money ahead under scenarios; compare two; test the "
    "method by back-casting 2011 to 2021.",
    invoke_without_command=True,
)

#: What the tables call each measure.
MEASURE_LABELS = {
    "population": "residents",
    "population_65_plus": "residents aged 65 and over",
    "population_85_plus": "residents aged 85 and over",
    "multimorbidity_2_plus": "people with 2+ long-term conditions",
    "people_with_frailty": "people living with frailty",
    "people_with_dementia": "people with dementia",
    "emergency_admissions": "emergency admissions",
    "emergency_bed_days": "emergency bed days",
    "ae_attendances": "A&E attendances",
    "outpatient_attendances": "outpatient attendances",
    "gp_appointments": "GP appointments",
    "asc_home_care_hours": "home care hours",
    "care_home_places": "care home places",
    "working_age_care_clients": "people 18-64 in long-term care",
    "older_care_clients": "people 65+ in long-term care",
    "cost": "cost",
    "income": "income",
    "gap": "gap (cost less income)",
}

#: The demand shown in the summary table, in this order.
SUMMARY_MEASURES = (
    "population",
    "population_65_plus",
    "population_85_plus",
    "multimorbidity_2_plus",
    "people_with_frailty",
    "people_with_dementia",
    "emergency_admissions",
    "emergency_bed_days",
    "ae_attendances",
    "outpatient_attendances",
    "gp_appointments",
    "asc_home_care_hours",
    "care_home_places",
    "working_age_care_clients",
    "older_care_clients",
)


def _run(request: ProjectionRequest, quiet: bool) -> ProjectionResult:
    settings = Settings.from_env()
    read_manifest(settings.warehouse_dir)  # no model: say so, and where it was looked for
    with connect(settings) as warehouse:
        if quiet:
            return project(warehouse, request)
        with err.status("Projecting") as status:
            return project(warehouse, request, progress=lambda message: status.update(message))


@project_app.callback()
@user_errors
def project_command(
    context: typer.Context,
    years: Annotated[
        int,
        typer.Option("--years", help=f"years ahead of the model's last year (1 to {MAX_HORIZON})"),
    ] = 10,
    scenario: Annotated[
        list[str] | None,
        typer.Option(
            "--scenario",
            help="a shipped scenario's name or a scenario TOML file; repeat for several "
            "(default: baseline)",
        ),
    ] = None,
    level: Annotated[
        str, typer.Option("--level", help="places in the rows: region, lad or msoa")
    ] = "lad",
    draws: Annotated[
        int,
        typer.Option("--draws", help=f"Monte Carlo draws (0 to {MAX_DRAWS:,}; 0: central only)"),
    ] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="the draws' seed")] = 20261206,
    by_age_sex: Annotated[
        bool,
        typer.Option(
            "--by-age-sex", help="rows of demand by sex and age band too (level region or lad)"
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print every row as JSON")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="print every row as CSV")] = False,
    chart: Annotated[
        Path | None,
        typer.Option(
            "--chart", help="write fan charts (population, demand, cost, gap) to this HTML file"
        ),
    ] = None,
    gap_above: Annotated[
        str | None,
        typer.Option(
            "--gap-above",
            metavar="POUNDS",
            help="with --by: the chance each partner's gap exceeds this sum (constant prices)",
        ),
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", metavar="YEAR", help="with --gap-above: the year")
    ] = None,
) -> None:
    """Project population, demand and money ahead of the model's last year under scenarios,
    with uncertainty: by place, and by partner (the ICB and each council)."""
    if context.invoked_subcommand is not None:
        given = [
            param.opts[0]
            for param in context.command.params
            if param.name
            and getattr(context.get_parameter_source(param.name), "name", None) == "COMMANDLINE"
        ]
        if given:
            raise ProjectionError(
                f"{given[0]}: an option of the projection itself; a "
                f"subcommand's options go after it (carepool project "
                f"{context.invoked_subcommand} --help)"
            )
        return
    if (gap_above is None) != (by is None):
        raise ProjectionError("give --gap-above and --by together")
    threshold = _pounds(gap_above) if gap_above is not None else None
    if as_json and as_csv:
        raise ProjectionError("choose one of --json and --csv")
    new_file(chart)
    if by is not None:
        by = _projected_year(by, years)
    request = ProjectionRequest(
        scenarios=tuple(scenario or ("baseline",)),
        years=years,
        level=level,
        draws=draws,
        seed=seed,
        by_age_sex=by_age_sex,
    )
    result = _run(request, quiet=as_json or as_csv)
    if chart is not None:
        err.print(f"Chart: {fan_charts(result, chart)}")
    if _emit_rows(projection_rows(result, threshold), as_json, as_csv):
        return
    for item in result.scenarios:
        _print_scenario(result, item.scenario.name)
    if threshold is not None and by is not None:
        _print_gap_chances(result, threshold, by)


def _emit_rows(frame: pd.DataFrame, as_json: bool, as_csv: bool) -> bool:
    """The rows as JSON (one row a line, as ``emit`` writes them, by pandas' own writer: a
    neighbourhood projection has a hundred thousand rows and more) or CSV."""
    if not as_json:
        return emit(frame, as_json, as_csv)
    # the rows carry at most four decimal places (probabilities): six keep every figure
    lines = frame.to_json(orient="records", lines=True, double_precision=6)
    rows = lines.strip().split("\n") if lines.strip() else []
    typer.echo("[\n" + ",\n".join(f"  {row}" for row in rows) + "\n]" if rows else "[]")
    return True


def _projected_year(text: str, years: int) -> str:
    """``--by`` as a financial year the projection reaches (``2030`` is ``2030-31``), checked
    against the model's last year before anything runs."""
    typed = text.strip()
    year = financial_year(int(typed)) if typed.isdigit() and len(typed) == 4 else typed
    if not is_financial_year(year):
        raise ProjectionError(f"by: expected a financial year such as 2030-31, not {text!r:.40}")
    manifest = read_manifest(Settings.from_env().warehouse_dir)
    last = str(list(manifest.get("years", ["2025-26"]))[-1])
    first, final = next_year(last), financial_year(start_year(last) + years)
    if not start_year(first) <= start_year(year) <= start_year(final):
        raise ProjectionError(
            f"by: expected a year the projection reaches, {first} to {final}, not {year}"
        )
    return year


def _pounds(text: str) -> float:
    """``--gap-above`` read as the ledger reads an amount: pounds (``1,250.50``) or pence,
    one strict format, nothing or more."""
    try:
        return parse_amount(text, "gap-above", allow_zero=True) / 100.0
    except LedgerError:
        raise ProjectionError(
            f"gap-above: expected an amount in pounds of £0 or more (such as 25,000,000), "
            f"not {text!r:.40}"
        ) from None


@project_app.command("backcast")
@user_errors
def backcast_command(
    region: Annotated[str, typer.Option("--region", help="gm, or local authority codes")] = "gm",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Run the projection from the 2011 Census to 2021 with only what was known in 2011, and
    print its errors against Census 2021 by borough and broad age group."""
    result = backcast(region)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "borough_mape_pct": result.borough_mape,
                    "broad_age_mape_pct": result.broad_mape,
                    "fine_age_mape_pct": result.fine_mape,
                    "bounds_pct": {"borough": BOROUGH_BOUND, "broad_age": AGE_GROUP_BOUND},
                    "within_bounds": result.within_bounds,
                    "variants": records(result.variants),
                    "rows": records(result.table),
                },
                indent=2,
            )
        )
        return
    table = Table(title="Back-cast 2011 → 2021 against Census 2021: error, per cent")
    table.add_column("borough")
    columns = ["all ages", *BROAD_GROUPS]
    for label in columns:
        table.add_column(label, justify="right")
    frame = result.table
    for place in dict.fromkeys(frame["place"]):
        rows = frame[frame["place"] == place].set_index("age_group")
        table.add_row(place, *(f"{rows.loc[label, 'error_pct']:+.1f}" for label in columns))
    out.print(table)
    verdict = "within" if result.within_bounds else "OUTSIDE"
    out.print(
        f"Mean absolute error: boroughs {result.borough_mape:.2f}% (bound {BOROUGH_BOUND:.0f}%), "
        f"broad age groups {result.broad_mape:.2f}% (bound {AGE_GROUP_BOUND:.0f}%), "
        f"six age groups {result.fine_mape:.2f}%: {verdict} the bounds."
    )
    variants = Table(title="The method beside its variants")
    for name in ("variant", "boroughs %", "broad ages %"):
        variants.add_column(name, justify="left" if name == "variant" else "right")
    for row in result.variants.itertuples(index=False):
        variants.add_row(str(row.variant), f"{row.borough_mape:.2f}", f"{row.broad_age_mape:.2f}")
    out.print(variants)


def _band(value: float, lower: float, upper: float, money: bool = False) -> str:
    if lower == upper == value:
        return gbp(value / 1e6, 1, "m") if money else f"{value:,.0f}"
    if money:
        return (
            f"{gbp(value / 1e6, 1, 'm')} ({gbp(lower / 1e6, 1, 'm')} to {gbp(upper / 1e6, 1, 'm')})"
        )
    return f"{value:,.0f} ({lower:,.0f} to {upper:,.0f})"


def _print_scenario(result: ProjectionResult, name: str) -> None:
    item = result.scenario(name)
    rows = projection_rows_for_summary(result, name)
    first, last = result.years[0], result.years[-1]
    draws = result.request.draws
    bands = (
        f"the central case, with the 10th to 90th percentiles of {draws:,} draws in brackets"
        if draws
        else "the central case (no draws)"
    )
    out.print(
        f"Scenario {literal(name)}: {literal(item.scenario.title)}. {result.region_name}, "
        f"{first} to {last}; figures are {bands}. The model's residents are Census 2021's, "
        f"brought forward to {first} by the same method."
    )
    demand = Table(title=f"Population and demand, {result.region_name}")
    for heading in ("measure", first, last, "change"):
        demand.add_column(heading, justify="left" if heading == "measure" else "right")
    for measure in SUMMARY_MEASURES:
        start = rows[(rows["measure"] == measure) & (rows["year"] == first)].iloc[0]
        end = rows[(rows["measure"] == measure) & (rows["year"] == last)].iloc[0]
        change = (end["value"] / start["value"] - 1.0) * 100 if start["value"] else 0.0
        demand.add_row(
            MEASURE_LABELS[measure],
            f"{start['value']:,.0f}",
            _band(end["value"], end["lower"], end["upper"]),
            f"{change:+.1f}%",
        )
    out.print(demand)
    money = item.money
    short = money.first_year_short(result.years)
    table = Table(title=f"Money by partner, {result.price_year} prices")
    for heading in (
        "partner",
        f"cost {first}",
        f"cost {last}",
        f"income {last}",
        f"gap {last}",
        "short from (for good)",
        f"P(gap > 0) {last}",
    ):
        table.add_column(heading, justify="left" if heading == "partner" else "right")
    for p, partner in enumerate(money.partners):
        gap = money.gap[-1, p]
        lower, upper = np.percentile(gap[1:], [10, 90]) if gap.size > 1 else (gap[0], gap[0])
        table.add_row(
            literal(partner.name),
            gbp(money.cost[0, p, 0] / 1e6, 1, "m"),
            gbp(money.cost[-1, p, 0] / 1e6, 1, "m"),
            gbp(money.income[-1, p, 0] / 1e6, 1, "m"),
            _band(gap[0], lower, upper, money=True),
            short[partner.code] or "not by " + last,
            f"{money.probability_gap_above(p, len(result.years) - 1, 0.0):.0%}",
        )
    out.print(table)
    out.print(
        "The gap is cost less income: above nothing the partner's budget does not cover its "
        "share, below nothing it has money to spare. Each budget starts level with its base-year "
        "spending; the councils' cost is adult social care, net of what people pay. Short from "
        "(for good): the first year from which the gap stays above nothing to the last."
    )
    if result.request.level != "region":
        out.print(
            f"Rows for each {'neighbourhood' if result.request.level == 'msoa' else 'borough'}: "
            "--json or --csv.",
        )
    for note in item.notes:
        warn(note)
    if item.scenario.charging.policy != "means-test":
        _print_reform(result, name)
    if item.prevention is not None:
        effects = ", ".join(
            f"{k.replace('_', ' ')} {v:+.1%}" for k, v in item.prevention.effects.items()
        )
        out.print(
            f"Prevention: the portfolio within {gbp(item.prevention.budget_pounds)} a year "
            f"({', '.join(item.prevention.interventions) or 'no intervention fits'}; it costs "
            f"{gbp(item.prevention.cost_pounds_a_year)} a year, on its payers' costs above) "
            f"changes, by {last}: {effects or 'nothing measurable'}."
        )


def projection_rows_for_summary(result: ProjectionResult, name: str) -> pd.DataFrame:
    """The region's rows of one scenario (the summary tables read them)."""
    region = ProjectionResult(
        request=replace(result.request, level="region"),
        base=result.base,
        region_code=result.region_code,
        region_name=result.region_name,
        price_year=result.price_year,
        partners=result.partners,
        scenarios=(result.scenario(name),),
    )
    rows = projection_rows(region)
    return rows[rows["level"] == "region"]


def _print_reform(result: ProjectionResult, name: str) -> None:
    item = result.scenario(name)
    last = len(result.years) - 1
    by_quintile = item.projected.by_quintile[last, :, 0, :] / 100.0
    baseline_note = "under today's means test"
    table = Table(title=f"Charging reform ({item.scenario.charging.policy}), {result.years[-1]}")
    for heading in ("IMD quintile", "council pays", "people pay"):
        table.add_column(heading, justify="left" if heading == "IMD quintile" else "right")
    for q in range(5):
        table.add_row(
            f"{q + 1}" + (" (most deprived)" if q == 0 else " (least deprived)" if q == 4 else ""),
            gbp(by_quintile[q, 0] / 1e6, 1, "m"),
            gbp(by_quintile[q, 1] / 1e6, 1, "m"),
        )
    out.print(table)
    newly = float(item.newly_supported_in(last).sum())
    out.print(
        f"People in care in {result.years[-1]} whom the councils pay for and would not "
        f"{baseline_note}: about {newly:,.0f}."
    )


def _print_gap_chances(result: ProjectionResult, pounds: float, year: str) -> None:
    table = Table(title=f"The chance a partner's gap exceeds {gbp(pounds, 2)} in {year}")
    table.add_column("partner")
    for item in result.scenarios:
        table.add_column(item.scenario.name, justify="right")
    for partner in result.partners:
        table.add_row(
            literal(partner.name),
            *(
                f"{result.gap_probability(item.scenario.name, partner.code, year, pounds):.0%}"
                for item in result.scenarios
            ),
        )
    out.print(table)


@project_app.command("compare")
@user_errors
def compare_command(
    first: Annotated[str, typer.Argument(help="a scenario's name or TOML file")],
    second: Annotated[str, typer.Argument(help="the scenario to compare with it")],
    years: Annotated[int, typer.Option("--years", help=f"years ahead (1 to {MAX_HORIZON})")] = 10,
    year: Annotated[
        str | None, typer.Option("--year", help="the year the table shows [default: the last]")
    ] = None,
    draws: Annotated[int, typer.Option("--draws", help="Monte Carlo draws")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="the draws' seed (shared)")] = 20261206,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="print CSV")] = False,
) -> None:
    """Two scenarios side by side on the same draws: each partner's cost, income and gap,
    what people pay for care, and the region's demand, in a year and over all the years."""
    if as_json and as_csv:
        raise ProjectionError("choose one of --json and --csv")
    shown_year = _projected_year(year, years) if year is not None else None
    request = ProjectionRequest(
        scenarios=(first, second), years=years, level="region", draws=draws, seed=seed
    )
    result = _run(request, quiet=as_json or as_csv)
    frame = comparison(result)
    if emit(frame, as_json, as_csv):
        return
    a, b = (item.scenario.name for item in result.scenarios)
    chosen = shown_year or result.years[-1]
    table = Table(
        title=f"{a} against {b}: {chosen}, and over {result.years[1]} to {result.years[-1]} "
        f"({result.price_year} prices; central case)"
    )
    for heading in ("measure", "who", a, b, f"{b} less {a}", "over all the years"):
        table.add_column(heading, justify="left" if heading in ("measure", "who") else "right")
    over = frame[frame["year"] == OVER_ALL_YEARS]
    totals = {
        (str(m), str(n)): float(d)
        for m, n, d in zip(over["measure"], over["partner_name"], over["difference"], strict=True)
    }
    for row in frame[frame["year"] == chosen].itertuples(index=False):
        money = str(row.unit).startswith("GBP")
        key = (str(row.measure), str(row.partner_name))
        total = _shown(totals[key], money) if key in totals else ""
        table.add_row(
            MEASURE_LABELS.get(str(row.measure), str(row.measure).replace("_", " ")),
            str(row.partner_name),
            *(_shown(float(v), money) for v in (row.first, row.second, row.difference)),  # type: ignore[arg-type]
            total,
        )
    out.print(table)
    out.print(
        "A gap is cost less income: above nothing the partner's budget does not cover its "
        "share. The councils' cost is adult social care, net of what people pay."
    )


def _shown(value: float, money: bool) -> str:
    return gbp(value / 1e6, 1, "m") if money else f"{value:,.0f}"


#: The row ``comparison`` gives for each measure summed over the projected years.
OVER_ALL_YEARS = "all years"


def comparison(result: ProjectionResult) -> pd.DataFrame:
    """Two scenarios joined, central values: ``first``, ``second`` and ``difference`` (the
    second less the first) for each partner's cost, income and gap, what councils and people
    pay for social care, and the region's demand; each year's, and their sum over the projected
    years (``year`` = "all years") for money."""
    a, b = (item.scenario.name for item in result.scenarios)
    rows = projection_rows(result)
    names = {p.code: p.name for p in result.partners} | {
        "councils": "all councils",
        "people": "people in care",
        None: "",
    }
    money = rows[rows["measure"].isin(["cost", "income", "gap"])]
    # each partner's figures once (the ICB's cost is also the region's row of NHS cost)
    partner_rows = money[money["partner"].isin([p.code for p in result.partners])]
    partner_rows = partner_rows.drop_duplicates(subset=["scenario", "year", "measure", "partner"])
    totals = money[(money["level"] == "region") & money["partner"].isin(["councils", "people"])]
    demand = rows[(rows["level"] == "region") & rows["measure"].isin(SUMMARY_MEASURES)]
    keep = pd.concat([partner_rows, totals, demand], ignore_index=True)
    partner = keep["partner"].astype(object).where(keep["partner"].notna(), None)
    keep = keep.assign(partner_name=[names.get(code, str(code)) for code in partner])
    keys = ["year", "measure", "partner", "partner_name", "unit"]
    left = keep[keep["scenario"] == a][[*keys, "value"]].rename(columns={"value": "first"})
    right = keep[keep["scenario"] == b][[*keys, "value"]].rename(columns={"value": "second"})
    joined = left.merge(right, on=keys, how="outer")
    joined["difference"] = joined["second"] - joined["first"]
    money_rows = joined[joined["unit"].str.startswith("GBP") & (joined["year"] != result.years[0])]
    summed = (
        money_rows.groupby(["measure", "partner", "partner_name", "unit"], dropna=False)[
            ["first", "second", "difference"]
        ]
        .sum()
        .reset_index()
        .assign(year=OVER_ALL_YEARS)
    )
    joined = pd.concat([joined, summed], ignore_index=True)
    order = {name: i for i, name in enumerate(["cost", "income", "gap", *SUMMARY_MEASURES])}
    partner_order = {p.code: i for i, p in enumerate(result.partners)} | {
        "councils": 98,
        "people": 99,
    }
    joined = (
        joined.assign(
            _m=joined["measure"].map(order), _p=joined["partner"].map(partner_order).fillna(100)
        )
        .sort_values(["year", "_m", "_p"], kind="stable")
        .drop(columns=["_m", "_p"])
    )
    joined.insert(0, "second_scenario", b)
    joined.insert(0, "first_scenario", a)
    return joined.reset_index(drop=True)


@project_app.command("scenarios")
@user_errors
def scenarios_command() -> None:
    """The scenarios that ship with carepool."""
    for name in shipped_scenarios():
        out.print(name)


@project_app.command("scenario")
@user_errors
def scenario_command(
    name: Annotated[str, typer.Argument(help="a shipped scenario's name")],
) -> None:
    """Print a shipped scenario's TOML, to copy and edit."""
    typer.echo(scenario_text(name), nl=False)
