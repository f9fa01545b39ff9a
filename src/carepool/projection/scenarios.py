"""Scenarios as TOML files: the shipped ones (``scenarios/*.toml`` in the package) and the
user's, each checked whole before anything runs.

A scenario names its population variants, the trends in demand, a shift of care closer to home,
the effects of a prevention portfolio, costs and prices, each partner's income, the charging
rules, and how uncertain each assumption is. A file may ``extends`` another scenario and give
only what differs. Every fault (an unknown key, a rate outside its range, a year the projection
does not reach) is an error naming the file, the field and what was expected
(``docs/methods/projection.md``).
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from carepool.charging import POLICIES
from carepool.errors import ProjectionError
from carepool.projection.demand import MEASURE_NAMES, MEASURES
from carepool.years import is_financial_year

MAX_FILE_BYTES = 200_000
MAX_EXTENDS = 5
#: A yearly rate of change: -20% to +20% a year.
Rate = Annotated[float, Field(ge=-0.2, le=0.2, allow_inf_nan=False)]
#: A spread: the standard deviation of a yearly rate, 0 to 10 points.
Spread = Annotated[float, Field(ge=0.0, le=0.1, allow_inf_nan=False)]
Share = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Rates = Annotated[list[Rate], Field(min_length=1, max_length=30)]
Variant = Literal["low", "principal", "high"]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,39}$")]


class _Strict(BaseModel):
    # strict: a number is a number and a yes a boolean ("0.1", "no" and true for 100% are
    # refused, not read as something else); a whole number is a number
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)


class Population(_Strict):
    """Which of the population assumptions' variants to use."""

    fertility: Variant = "principal"
    life_expectancy: Variant = "principal"
    migration: Variant = "principal"


#: What a trend or an effect may change: demand, not the population the projection works out.
CHANGEABLE = tuple(m.name for m in MEASURES if m.trend != "none")


def _changeable(value: dict[str, float]) -> dict[str, float]:
    unknown = sorted(set(value) - set(CHANGEABLE))
    if unknown:
        raise ValueError(
            f"{unknown} cannot be changed here (the population is the projection's own); "
            f"expected some of {list(CHANGEABLE)}"
        )
    return value


class Demand(_Strict):
    """Yearly change in the age-specific rates (negative: falling), by group of measures;
    ``trends`` sets one measure's rate apart. ``conditions`` below zero is a compression of
    morbidity (the same age, less illness), above zero an expansion."""

    conditions: Rate = 0.0
    admissions: Rate = 0.0
    activity: Rate = 0.0
    social_care: Rate = 0.0
    trends: dict[str, Rate] = Field(default_factory=dict, max_length=len(MEASURE_NAMES))

    @field_validator("trends")
    @classmethod
    def _known(cls, value: dict[str, float]) -> dict[str, float]:
        return _changeable(value)


class CareCloserToHome(_Strict):
    """A shift from acute admissions to care in the community and at home: by the last year,
    ``admissions_shifted`` of emergency admissions (and their bed days and A&E attendances)
    are instead met by community contacts and home care hours, rising evenly from nothing."""

    admissions_shifted: Share = 0.0
    community_contacts_per_admission: Annotated[float, Field(ge=0.0, le=200.0)] = 0.0
    home_care_hours_per_admission: Annotated[float, Field(ge=0.0, le=1000.0)] = 0.0


class Prevention(_Strict):
    """The effects of a chosen prevention portfolio carried into demand: each measure's change
    by the last year (``-0.03``: 3% fewer), rising evenly from nothing. ``portfolio`` names where
    the figures came from (``carepool portfolio --json``)."""

    portfolio: Annotated[str, Field(max_length=200)] = ""
    #: pounds a year: carepool chooses the portfolio within it and carries its effects here
    portfolio_budget: Annotated[float, Field(ge=0.0, le=1e10)] | None = None
    #: every partner's fair share of the portfolio's net value must be at least nothing
    portfolio_fair: bool = True
    effects: dict[str, Annotated[float, Field(ge=-0.9, le=0.5)]] = Field(
        default_factory=dict, max_length=len(MEASURE_NAMES)
    )

    @field_validator("effects")
    @classmethod
    def _known(cls, value: dict[str, float]) -> dict[str, float]:
        return _changeable(value)


class Costs(_Strict):
    """Prices: general inflation a year (the last figure repeats) and each sector's unit costs'
    growth above it."""

    inflation: Rates = [0.02]
    nhs_real_unit_cost_growth: Rate = 0.0
    social_care_real_unit_cost_growth: Rate = 0.0


class Income(_Strict):
    """Each partner's income a year, in real terms (the last figure repeats): the ICB's
    allocation, the councils' spending power for adult social care, and the Better Care Fund's
    share of the councils' social care money, which grows at its own rate. ``headroom`` is the
    base year's income above (or below) its spending."""

    nhs_real_growth: Rates = [0.0]
    council_real_growth: Rates = [0.0]
    better_care_share: Share = 0.0
    better_care_real_growth: Rates = [0.0]
    headroom: Annotated[float, Field(ge=-0.5, le=0.5)] = 0.0


class Charging(_Strict):
    """The charging rules for adult social care from ``from_year`` (``carepool charge``)."""

    policy: Literal[POLICIES] = "means-test"  # type: ignore[valid-type]
    from_year: str | None = None

    @field_validator("from_year")
    @classmethod
    def _year(cls, value: str | None) -> str | None:
        if value is not None and not is_financial_year(value):
            raise ValueError(f"expected a financial year such as 2027-28, not {value!r}")
        return value


class Uncertainty(_Strict):
    """How uncertain the assumptions are, for the Monte Carlo draws. The population's are its
    variants, taken as the 10th and 90th percentiles of a normal distribution; the others are
    standard deviations of yearly rates."""

    population: bool = True
    demand_trend: Spread = 0.005
    unit_cost_growth: Spread = 0.005
    income_growth: Spread = 0.0


class Scenario(_Strict):
    name: Name
    title: Annotated[str, Field(min_length=1, max_length=120)]
    description: Annotated[str, Field(max_length=2000)] = ""
    population: Population = Population()
    demand: Demand = Demand()
    care_closer_to_home: CareCloserToHome = CareCloserToHome()
    prevention: Prevention = Prevention()
    costs: Costs = Costs()
    income: Income = Income()
    charging: Charging = Charging()
    uncertainty: Uncertainty = Uncertainty()


def shipped_scenarios() -> tuple[str, ...]:
    """The names of the scenarios that ship with carepool."""
    folder = resources.files("carepool.projection").joinpath("scenarios")
    return tuple(
        sorted(
            item.name.removesuffix(".toml")
            for item in folder.iterdir()
            if item.name.endswith(".toml")
        )
    )


def _shipped_text(name: str) -> str:
    return resources.files("carepool.projection").joinpath("scenarios", f"{name}.toml").read_text()


def _read_file(path: Path) -> str:
    try:
        if not path.is_file():
            raise ProjectionError(f"{path}: not a file (a scenario is a TOML file)")
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ProjectionError(f"{path}: cannot read the scenario: {exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ProjectionError(f"{path}: larger than {MAX_FILE_BYTES:,} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProjectionError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def _parse(text: str, origin: str) -> dict[str, Any]:
    try:
        raw = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError, ValueError) as exc:
        raise ProjectionError(f"{origin}: not valid TOML: {str(exc)[:200]}") from None
    return raw


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` laid over ``base``: tables merged key by key, everything else replaced."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _resolved(raw: dict[str, Any], origin: str, depth: int = 0) -> dict[str, Any]:
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if depth >= MAX_EXTENDS:
        raise ProjectionError(f"{origin}: extends goes more than {MAX_EXTENDS} scenarios deep")
    if not isinstance(parent, str) or parent not in shipped_scenarios():
        raise ProjectionError(
            f"{origin}: field extends: expected one of carepool's scenarios "
            f"({', '.join(shipped_scenarios())}), not {parent!r}"
        )
    base = _resolved(_parse(_shipped_text(parent), f"carepool's {parent}.toml"), origin, depth + 1)
    return _merge(base, raw)


def parse_scenario(text: str, origin: str) -> Scenario:
    """The scenario in TOML ``text``; ``origin`` names the file in any error.

    A scenario names itself (a file that extends another is not that other). One that extends
    none gives its settlement, ``[income]`` and ``[costs]``, itself: their defaults are flat,
    not any announced settlement, and should not be taken unawares."""
    if len(text.encode()) > MAX_FILE_BYTES:
        raise ProjectionError(f"{origin}: larger than {MAX_FILE_BYTES:,} bytes")
    own = _parse(text, origin)
    if "name" not in own:
        raise ProjectionError(f"{origin}: field name: a scenario needs a name of its own")
    if "extends" not in own:
        missing = [table for table in ("income", "costs") if table not in own]
        if missing:
            raise ProjectionError(
                f"{origin}: field {missing[0]}: a scenario that extends none gives its "
                f'[{missing[0]}] itself (or starts extends = "baseline")'
            )
    raw = _resolved(own, origin)
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the file"
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "not a key a scenario has"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ProjectionError(f"{origin}: field {where}: {message}{more}") from None


def load_scenario(name_or_file: str) -> Scenario:
    """A shipped scenario by name, or a user's file by path."""
    if name_or_file in shipped_scenarios():
        return parse_scenario(_shipped_text(name_or_file), f"carepool's {name_or_file}.toml")
    path = Path(name_or_file)
    if path.suffix != ".toml":
        raise ProjectionError(
            f"scenario {name_or_file!r}: expected one of carepool's scenarios "
            f"({', '.join(shipped_scenarios())}) or a .toml file"
        )
    return parse_scenario(_read_file(path), str(path))


def scenario_text(name: str) -> str:
    """A shipped scenario's TOML, to copy and edit."""
    if name not in shipped_scenarios():
        raise ProjectionError(
            f"scenario {name!r}: expected one of {', '.join(shipped_scenarios())}"
        )
    return _shipped_text(name)
