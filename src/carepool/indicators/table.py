"""The indicator table: any indicator, for any places and periods, benchmarked and protected.

:func:`indicator_table` is the Python API behind ``carepool indicators``. It checks the
request (indicators, levels, places, periods) before any work, runs one engine query for all
of it, applies the statistics, passes the result through disclosure control unless told
otherwise (:mod:`carepool.indicators.publish`), then compares each published figure with the
region and England and adds the trend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from carepool.errors import IndicatorError
from carepool.geography import england_place_name
from carepool.indicators.benchmarks import NO_TREND, NOT_COMPARED, compare, england_values, trend
from carepool.indicators.compute import compute, counts, counts_in_order
from carepool.indicators.cube import model_years, person_sums_by_part, spend_sums
from carepool.indicators.definitions import BY_ID, INDICATORS, Indicator, Method
from carepool.indicators.disclosure import HES_RULE, SUPPRESSED, DisclosureRule
from carepool.indicators.levels import (
    ANALYSIS_LEVELS,
    DEFAULT_LEVELS,
    available_levels,
    memberships,
    refuse_analysis_levels,
)
from carepool.indicators.pooling import (
    Window,
    check_pool,
    pooled_compute,
    pooled_pattern,
    windows,
)
from carepool.indicators.publish import publish
from carepool.indicators.record import protected_pattern
from carepool.stats import MAX_CI_WIDTH_YEARS, MIN_POPULATION
from carepool.warehouse import Tables
from carepool.years import read_typed_year, start_year, written_as_year

#: The machine-readable contract (Fingertips-like), then context columns.
CONTRACT = [
    "indicator",
    "place",
    "level",
    "period",
    "value",
    "lower",
    "upper",
    "lower_998",
    "upper_998",
    "numerator",
    "denominator",
    "comparison",
    "trend",
    "suppressed",
]
CONTEXT = [
    "indicator_name",
    "place_name",
    "unit",
    "polarity",
    "england_value",
    "england_period",
    "region_value",
    "comparison_region",
    "value_note",
    "pooled_years",
]
COLUMNS = [*CONTRACT, *CONTEXT]


@dataclass(frozen=True)
class IndicatorRequest:
    """A checked request for indicators: what to compute, for where and when."""

    indicators: tuple[Indicator, ...]
    levels: tuple[str, ...]
    places: tuple[str, ...]
    years: tuple[str, ...]
    #: Every year the model holds (the request may ask for fewer).
    model_years: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)


def resolve_indicators(ids: Sequence[str] | None) -> tuple[Indicator, ...]:
    if not ids:
        return INDICATORS
    unknown = [i for i in ids if i not in BY_ID]
    if unknown:
        raise IndicatorError(
            f"unknown indicator {', '.join(map(repr, unknown))}; available: {', '.join(BY_ID)}"
        )
    return tuple(BY_ID[i] for i in dict.fromkeys(ids))


def normalise_year(text: str, known: Sequence[str]) -> str:
    """``2024`` or ``2024-25`` (or ``2024/25``) → the model's ``2024-25``.

    A year the model lacks, or two years that do not follow (``2025-27``), has no data; text
    that is not written as a year at all is not a financial year.
    """
    example = str(start_year(known[-1])) if known else "2024"
    year = read_typed_year(text)
    if year is not None and year in known:
        return year
    if year is None and not written_as_year(text):
        raise IndicatorError(
            f"{text!r} is not a financial year; give its first calendar year, e.g. --year "
            f"{example} for {known[-1] if known else '2024-25'} "
            f"(periods available: {', '.join(known)})"
        )
    raise IndicatorError(
        f"no data for period {text!r}; periods available: {', '.join(known)} "
        f"(give the financial year's first calendar year, e.g. --year {example})"
    )


def _find_places(
    all_members: pd.DataFrame, places: Sequence[str], levels: Sequence[str] | None
) -> tuple[list[str], list[str]]:
    """The places' codes as the warehouse spells them (codes are matched whatever their case),
    and the levels they are at; only ``levels`` when given."""
    spelled = {str(code).upper(): str(code) for code in all_members["place_code"].unique()}
    codes = [spelled.get(place.strip().upper(), place) for place in places]
    missing = [code for code in codes if code.upper() not in spelled]
    named = {code.strip().upper(): england_place_name(code) for code in missing}
    elsewhere = {code: name for code, name in named.items() if name}
    if elsewhere:
        lads = all_members[all_members["level"] == "lad"]["place_name"].drop_duplicates()
        raise IndicatorError(
            f"{', '.join(f'{code} ({name})' for code, name in elsewhere.items())} "
            f"{'is' if len(elsewhere) == 1 else 'are'} not in this model, which holds "
            f"{', '.join(sorted(map(str, lads)))}; build a model that does with "
            "`carepool build --region`"
        )
    if missing:
        examples = ", ".join(
            f"{level}: {group['place_code'].iloc[0]}"
            for level, group in all_members.groupby("level", sort=False)
        )
        raise IndicatorError(
            f"unknown place {', '.join(map(repr, missing))}; a place is a code at one of the "
            f"levels (for example {examples})"
        )
    found = all_members[all_members["place_code"].isin(codes)]
    if levels:
        at_levels = found[found["level"].isin(levels)]
        for code in codes:
            if code not in set(at_levels["place_code"]):
                its = ", ".join(dict.fromkeys(found.loc[found["place_code"] == code, "level"]))
                raise IndicatorError(
                    f"place {code!r} is at level {its}, not {', '.join(levels)}; add "
                    f"--level {its.split(', ')[0]}, or leave out --level to find its level"
                )
        found = at_levels
    return list(dict.fromkeys(codes)), list(dict.fromkeys(found["level"]))


def resolve(
    warehouse: Tables,
    *,
    indicators: Sequence[str] | None = None,
    levels: Sequence[str] | None = None,
    places: Sequence[str] | None = None,
    years: Sequence[str] | None = None,
    every_level: bool = False,
    pool: int = 1,
) -> tuple[IndicatorRequest, pd.DataFrame]:
    """Check a request against the definitions and the warehouse; raise before any work.

    Returns the request and the memberships to compute: the region and the requested levels,
    or with ``every_level`` every level the warehouse can publish (as disclosure control needs).
    """
    chosen = resolve_indicators(indicators)
    known_years = model_years(warehouse)
    if pool != 1:
        check_pool(pool, known_years)
    wanted_years = tuple(dict.fromkeys(normalise_year(y, known_years) for y in years or ()))
    footprints = warehouse.to_pandas(
        warehouse.table("footprint_membership").select("footprint_kind").distinct()
    )
    known_levels = available_levels(footprints)
    if levels:
        if every_level:
            refuse_analysis_levels(levels)
        bad = [level for level in levels if level not in (*known_levels, *ANALYSIS_LEVELS)]
        if bad:
            raise IndicatorError(
                f"unknown geography level {', '.join(map(repr, bad))}; "
                f"available: {', '.join(known_levels)}"
            )
    everywhere = memberships(warehouse, known_levels) if places or every_level else None
    codes: list[str] = []
    if places and everywhere is not None:
        codes, chosen_levels = _find_places(everywhere, places, levels)
    else:
        chosen_levels = list(levels) if levels else list(DEFAULT_LEVELS)
    if every_level and everywhere is not None:
        members = everywhere
    else:
        computed = list(dict.fromkeys(["region", *chosen_levels]))
        members = memberships(warehouse, computed, analysis=not every_level)
        if everywhere is not None:
            members = everywhere[everywhere["level"].isin(computed)].reset_index(drop=True)
    request = IndicatorRequest(
        indicators=chosen,
        levels=tuple(chosen_levels),
        places=tuple(codes),
        years=wanted_years or tuple(known_years),
        model_years=tuple(known_years),
    )
    return request, members


def _benchmark(frame: pd.DataFrame, indicator: Indicator) -> pd.DataFrame:
    england = england_values().get(indicator.id)
    frame = frame.copy()
    frame["england_value"] = np.nan if england is None else england.value
    frame["england_period"] = None if england is None else england.period
    region = frame[frame["level"] == "region"].set_index("year")["value"]
    frame["region_value"] = frame["year"].map(region).astype(np.float64)
    if indicator.method is Method.SHARE_OF_SPEND:
        frame["comparison"] = NOT_COMPARED
        frame["comparison_region"] = NOT_COMPARED
    else:
        frame["comparison"] = compare(
            frame["lower"], frame["upper"], frame["england_value"], indicator.polarity
        )
        frame["comparison_region"] = compare(
            frame["lower"], frame["upper"], frame["region_value"], indicator.polarity
        )
        frame.loc[frame["level"] == "region", "comparison_region"] = NOT_COMPARED
    frame["trend"] = trend(frame, indicator)
    return frame


#: Why a value is missing, in the words of the ``value_note`` column.
SUPPRESSED_NOTE = "suppressed: a count of 1-7, or a cell that would reveal one"
NOT_CALCULATED = {
    Method.DSR: "not calculated: too few events",
    Method.LIFE_EXPECTANCY: (
        f"not calculated: a population of {MIN_POPULATION:,} or fewer, an age band "
        f"with no one in it, or a 95% interval wider than {MAX_CI_WIDTH_YEARS:g} years"
    ),
}
NO_DENOMINATOR_NOTE = "not calculated: the denominator, rounded to 5, is 0"


def value_notes(rows: pd.DataFrame, indicator: Indicator) -> pd.Series:
    """Why each row's value is missing (``None`` where there is a value)."""
    missing = NOT_CALCULATED.get(indicator.method, NO_DENOMINATOR_NOTE)
    notes = pd.Series(None, index=rows.index, dtype=object)
    notes[rows["value"].isna()] = missing
    notes[rows[SUPPRESSED].astype(bool)] = SUPPRESSED_NOTE
    return notes


def _withhold(frame: pd.DataFrame) -> pd.DataFrame:
    """A hidden row is compared with nothing; its trend cannot be calculated."""
    hidden = frame[SUPPRESSED].to_numpy(dtype=bool)
    frame = frame.copy()
    for column in ("comparison", "comparison_region"):
        frame.loc[hidden, column] = NOT_COMPARED
    frame.loc[hidden, "trend"] = NO_TREND
    return frame


def _wanted(frame: pd.DataFrame, levels: Sequence[str]) -> pd.DataFrame:
    """The sums of the region (the benchmark) and the levels asked for."""
    return frame[frame["level"].isin(["region", *levels])] if len(frame) else frame


def _periods(request: IndicatorRequest, pool: int) -> list[Window]:
    """The periods to publish: each year asked for, or with ``pool`` years the windows that
    end in the years asked for."""
    if pool == 1:
        return [Window((year,)) for year in request.years]
    chosen = [w for w in windows(request.model_years, pool) if w.years[-1] in request.years]
    if not chosen:
        ends = [w.years[-1] for w in windows(request.model_years, pool)]
        raise IndicatorError(
            f"no {pool}-year period ends in {', '.join(request.years)}; with --pool {pool} "
            f"give a year from {', '.join(ends)} (each period ends in the year given)"
        )
    ended = {w.years[-1] for w in chosen}
    missed = [year for year in request.years if year not in ended]
    if missed:
        first = windows(request.model_years, pool)[0].years[-1]
        request.notes.append(
            f"no {pool}-year period ends in {', '.join(missed)} (the first ends in {first})"
        )
    request.notes.append(
        f"{pool}-year pooled periods: the sums of {pool} years' numerators and denominators "
        "(for life expectancy and standardised rates, of each age band's). England's value is "
        "its own published period (england_period), not pooled; the region's is pooled like "
        "the places'. Trend is not calculated: rolling periods overlap, so are not independent."
    )
    return chosen


def _computed(
    warehouse: Tables,
    request: IndicatorRequest,
    members: pd.DataFrame,
    rule: DisclosureRule | None,
    periods: Sequence[Window],
) -> pd.DataFrame:
    """Every requested indicator for the region and the levels asked for, in ``periods``,
    published under ``rule``: single years as the warehouse's audit decided, pooled periods
    from the single years' published figures (:func:`pooled_pattern`)."""
    pooled = len(periods[0].years) > 1
    spend = spend_sums(warehouse, request.indicators, members)
    # disclosure control counts every level, a part at a time; the figures need only the
    # levels asked for
    wanted_parts: list[pd.DataFrame] = []
    person_counts: list[pd.DataFrame] = []
    for part in person_sums_by_part(warehouse, request.indicators, members, request.model_years):
        wanted_parts.append(_wanted(part, request.levels))
        if rule is not None:
            person_counts.append(counts(request.indicators, part, pd.DataFrame()))
    wanted_person = pd.concat(wanted_parts, ignore_index=True) if wanted_parts else pd.DataFrame()
    wanted_spend = _wanted(spend, request.levels)
    if pooled:
        raw = pooled_compute(
            request.indicators, wanted_person, wanted_spend, periods, request.model_years
        )
    else:
        raw = compute(request.indicators, wanted_person, wanted_spend).assign(pooled_years=1)
    names = members.drop_duplicates(["level", "place_code"])[["level", "place_code", "place_name"]]
    raw = raw.merge(names, on=["level", "place_code"], how="left")
    if rule is None:
        raw[SUPPRESSED] = False
        return raw
    table_counts = counts_in_order(request.indicators, person_counts, spend)
    hidden = protected_pattern(warehouse, table_counts, request.indicators, members, rule)
    if pooled:
        hidden = pooled_pattern(hidden, periods, request.indicators, request.model_years)
    return publish(raw, hidden, request.indicators)


def indicator_table(
    warehouse: Tables,
    *,
    indicators: Sequence[str] | None = None,
    levels: Sequence[str] | None = None,
    places: Sequence[str] | None = None,
    years: Sequence[str] | None = None,
    rule: DisclosureRule | None = HES_RULE,
    pool: int = 1,
) -> pd.DataFrame:
    """Indicators for places and periods, one row each, columns :data:`COLUMNS`.

    ``levels`` defaults to the region and its local authorities (or the levels of the given
    ``places``); ``years`` to every model year. ``rule`` is the disclosure rule applied before
    anything is returned; ``None`` gives the unprotected table, for analysis that is never
    published. ``pool`` years (1 to the model's years) gives pooled periods: rolling windows of
    that many consecutive years, one ending in each year asked for that has enough years
    before it (:mod:`carepool.indicators.pooling`). Notes on indicators skipped for want of
    data, and on pooling, are in ``frame.attrs["notes"]``.
    """
    request, members = resolve(
        warehouse,
        indicators=indicators,
        levels=levels,
        places=places,
        years=years,
        every_level=rule is not None,
        pool=pool,
    )
    periods = _periods(request, pool)
    labels = [window.label for window in periods]
    raw = _computed(warehouse, request, members, rule, periods)
    frames: list[pd.DataFrame] = []
    for indicator in request.indicators:
        rows = _benchmark(raw[raw["indicator"] == indicator.id], indicator)
        if pool > 1:
            rows["trend"] = NO_TREND
        rows = _withhold(rows)
        keep = rows["level"].isin(request.levels) & rows["year"].isin(labels)
        if request.places:
            keep &= rows["place_code"].isin(request.places)
        rows = rows[keep]
        lacking = [y for y in labels if y not in set(rows["year"])]
        if years and lacking and not rows.empty:
            request.notes.append(f"{indicator.id} has no data for {', '.join(lacking)}")
        if rows.empty:
            has = sorted(set(raw.loc[raw["indicator"] == indicator.id, "year"]))
            message = (
                f"{indicator.id} has no data for {', '.join(labels)}; "
                f"periods with data: {', '.join(has) or 'none'}"
            )
            if indicators:
                raise IndicatorError(message)
            request.notes.append(message)
            continue
        frames.append(
            rows.assign(
                indicator_name=indicator.name,
                unit=indicator.unit,
                polarity=indicator.polarity.value,
                value_note=value_notes(rows, indicator),
            )
        )
    if not frames:
        raise IndicatorError("no indicator has data for the request: " + "; ".join(request.notes))
    table = pd.concat(frames, ignore_index=True)
    table = table.rename(columns={"place_code": "place", "year": "period"})
    level_order = {level: i for i, level in enumerate(request.levels)}
    indicator_order = {ind.id: i for i, ind in enumerate(request.indicators)}
    table = table.assign(
        _level=table["level"].map(level_order), _indicator=table["indicator"].map(indicator_order)
    )
    table = table.sort_values(["_level", "place", "_indicator", "period"], kind="stable")
    table = table[COLUMNS].reset_index(drop=True)
    table[SUPPRESSED] = table[SUPPRESSED].astype(bool)
    table["pooled_years"] = table["pooled_years"].astype(np.int64)
    table.attrs["notes"] = request.notes
    return table
