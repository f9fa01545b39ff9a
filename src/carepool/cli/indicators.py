"""``carepool indicators``: outcomes for any place and period, their gaps and inequalities."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table
from rich.text import Text

from carepool.cli.support import (
    emit,
    err,
    fmt,
    literal,
    out,
    styled,
    tuples,
    user_errors,
    warn,
)
from carepool.config import Settings
from carepool.errors import ConfigError
from carepool.indicators import INDICATORS, TREND_PERIODS, gap_table, indicator_table
from carepool.model import mixed_warning
from carepool.stats import MIN_DSR_EVENTS, MIN_POPULATION
from carepool.warehouse import connect, location_of

indicators_app = typer.Typer(
    help="Outcome indicators for any place and period, benchmarked and disclosure-controlled."
)


_COMPARISON_STYLE = {"better": "green", "worse": "red", "similar": "yellow"}


_SHORT = {"not compared": "-", "cannot be calculated": "-"}


def _word(word: Any) -> str | Text:
    if word is None or pd.isna(word):
        return ""
    text = _SHORT.get(str(word), str(word))
    style = _COMPARISON_STYLE.get(text) or {"improving": "green", "worsening": "red"}.get(text)
    return styled(text, style) if style else text


#: More places than this are printed as one table per indicator and period, places as rows
#: (a neighbourhood table), as Fingertips does; fewer, as one table per place.
PLACES_PER_PROFILE = 3


def _value(row: Any) -> str:
    if row.suppressed:
        return "*"
    value = fmt(row.value) or "n/c"
    if pd.notna(row.value) and pd.notna(row.lower):
        value += f" ({fmt(row.lower)} to {fmt(row.upper)})"
    return value


def _against(value: Any, word: Any) -> Text:
    """A benchmark's value with the comparison against it: ``72.1 worse``."""
    shown = _word(word)
    text = Text(fmt(value))
    if shown:
        text.append(" ")
        text.append(shown if isinstance(shown, Text) else Text(shown))
    return text


def print_indicators(frame: pd.DataFrame) -> None:
    """As Fingertips shows them: each indicator's latest period, with its values over every
    period asked as a small chart and the recent trend; for a few places, one table each
    (an indicator a row, with its unit, England's and the region's values and the comparisons
    with them); for more, one table per indicator, a place a row, England and the region in
    its title. Every period's row is in ``--json`` and ``--csv``."""
    periods = list(dict.fromkeys(frame["period"]))
    latest = _latest(frame)
    places = latest[["level", "place"]].drop_duplicates()
    if len(places) > PLACES_PER_PROFILE:
        _by_indicator(latest)
    else:
        _by_place(latest)
    pooled = "pooled_years" in frame and bool((frame["pooled_years"] > 1).any())
    _footnote(periods, pooled)


#: Eight heights for a value within the range of its place's values.
SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float | None]) -> str:
    """Values as bars of eight heights between their least and greatest (``·`` where a
    period has no value): the shape of a place's series at a glance."""
    known = [v for v in values if v is not None and not pd.isna(v)]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = high - low
    bars = []
    for v in values:
        if v is None or pd.isna(v):
            bars.append("·")
        else:
            step = 0 if span == 0 else round((v - low) / span * (len(SPARKS) - 1))
            bars.append(SPARKS[3 if span == 0 else step])
    return "".join(bars)


def _latest(frame: pd.DataFrame) -> pd.DataFrame:
    """Each indicator and place's last period, with ``years``: its values over every period
    of the frame as a sparkline (empty when the frame holds one period)."""
    periods = list(dict.fromkeys(sorted(frame["period"])))
    keys = ["indicator", "level", "place"]
    if len(periods) == 1:
        return frame.assign(years="")
    shown = frame["value"].where(~frame["suppressed"].astype(bool))
    series = (
        frame.assign(shown=shown)
        .pivot_table(index=keys, columns="period", values="shown", aggfunc="first", dropna=True)
        .reindex(columns=periods)
    )
    lines = {
        key: sparkline(list(row)) for key, row in zip(series.index, series.to_numpy(), strict=True)
    }
    last = frame.sort_values("period", kind="stable").groupby(keys, sort=False).tail(1)
    last = last.loc[frame.index.intersection(last.index)]  # in the frame's own order
    return last.assign(years=[lines.get(tuple(k), "") for k in last[keys].to_numpy()])


def _comparison_columns(grid: Table, several: bool) -> None:
    """The columns every indicator table ends with: England, Region, Years (when the table
    spans several periods) and Trend."""
    for heading in ("England", "Region"):
        grid.add_column(heading, overflow="fold")
    if several:
        grid.add_column("Years", no_wrap=True)
    grid.add_column("Trend", overflow="fold")


def _trend_cells(row: Any, several: bool) -> list[str | Text]:
    """A row's Years (when shown) and Trend cells."""
    return [*([row.years] if several else []), _word(row.trend)]


def _by_place(frame: pd.DataFrame) -> None:
    several = bool(frame["years"].any())
    for (place, name, level), rows in frame.groupby(["place", "place_name", "level"], sort=False):
        label = f"{place}, {level}" if name == place else f"{place}"
        grid = Table(title=literal(f"{name} ({label})"), title_justify="left")
        # an indicator's id is what --indicator takes: shown whole, on one row
        grid.add_column("Indicator", no_wrap=True)
        grid.add_column("Unit", overflow="fold")
        grid.add_column("Period", no_wrap=True)
        grid.add_column("Value (95% CI)", justify="right", overflow="fold")
        _comparison_columns(grid, several)
        for row in tuples(rows):
            cells: list[str | Text] = [
                str(row.indicator),
                str(row.unit),
                str(row.period),
                _value(row),
                _against(row.england_value, row.comparison),
                _against(row.region_value, row.comparison_region),
            ]
            grid.add_row(*cells, *_trend_cells(row, several))
        out.print(grid)


def _by_indicator(frame: pd.DataFrame) -> None:
    region = frame.loc[frame["level"] == "region", "place_name"]
    region_name = str(region.iloc[0]) if len(region) else "Region"
    several = bool(frame["years"].any())
    for (indicator, period), rows in frame.groupby(["indicator", "period"], sort=False):
        first = rows.iloc[0]
        title = (
            f"{first['indicator_name']} ({indicator}; {first['unit']}), {period}: England "
            f"{fmt(first['england_value']) or 'n/a'}, {region_name} "
            f"{fmt(first['region_value']) or 'n/a'}"
        )
        grid = Table(title=literal(title), title_justify="left")
        grid.add_column("Place", overflow="fold")
        grid.add_column("Code", no_wrap=True)
        grid.add_column("Value (95% CI)", justify="right", overflow="fold")
        _comparison_columns(grid, several)
        for row in tuples(rows):
            cells: list[str | Text] = [
                literal(str(row.place_name)),
                str(row.place),
                _value(row),
                _word(row.comparison),
                _word(row.comparison_region),
            ]
            grid.add_row(*cells, *_trend_cells(row, several))
        out.print(grid)


def _footnote(periods: Sequence[str], pooled: bool = False) -> None:
    if len(periods) <= 1:
        years = ""
    elif pooled:
        years = (
            f"Years: the value in each of {len(periods)} pooled periods, the first "
            f"{min(periods)}, lowest to highest bar (· none); each period's row: --json or "
            "--csv. "
        )
    else:
        years = (
            f"Years: the value in each period from {min(periods)} to {max(periods)}, lowest "
            "to highest bar (· none); each period's row: --json or --csv. "
        )
    trend = (
        "Trend: not calculated for pooled periods (they overlap). "
        if pooled
        else f"Trend: the slope over the place's last {TREND_PERIODS} periods (improving or "
        "worsening where significant; docs/methods/benchmarking.md); - fewer than two "
        "periods. "
    )
    out.print(
        "England, Region: significantly better, similar or worse (95% CI); higher, similar or "
        "lower where neither is better; - not compared (no England value, or the region "
        f"itself). {years}{trend}"
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
    pool: Annotated[
        int,
        typer.Option(
            help="pool this many consecutive years into each period (rolling, one ending in "
            "each year asked for), so small areas such as MSOAs get a value; 1 = single years"
        ),
    ] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON list of rows")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="print CSV")] = False,
) -> None:
    """Indicators for places and periods, against the region and England, with trend."""
    if ctx.invoked_subcommand is not None:
        return
    settings = Settings.from_env()
    warn(mixed_warning(location_of(settings)))
    with err.status(f"Computing indicators ({settings.engine})"), connect(settings) as wh:
        frame = indicator_table(
            wh, indicators=indicator, levels=level, places=place, years=year, pool=pool
        )
    for note in frame.attrs.get("notes", []):
        err.print(f"Note: {note}", highlight=False)
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
