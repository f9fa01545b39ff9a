"""The projection as a capability: a checked request in, every scenario's projection out.

``project(warehouse, ProjectionRequest(...))`` reads the model's base population and rates once,
builds the population assumptions once, and runs each scenario with the same seed (so two
scenarios differ by their assumptions, not by chance). The result gives the rows of the
machine-readable contract (:mod:`carepool.projection.tables`) and the statements a board asks
for: which partner's budget stops covering its share first, and how likely a gap above a sum is
by a year.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from carepool.errors import ProjectionError
from carepool.geography import england_place_name, resolve_region
from carepool.projection.assumptions import Assumptions, projection_assumptions
from carepool.projection.base import BasePopulation, base_population
from carepool.projection.changes import demand_change
from carepool.projection.demand import DemandRates, council_shares, demand_rates
from carepool.projection.draws import make_draws
from carepool.projection.engine import COLUMNS, EngineInputs, Projected, _trend_rates, run_engine
from carepool.projection.money import Money, Partner, partner_money
from carepool.projection.prevention_hook import PreventionEffects, prevention_effects
from carepool.projection.reform import CareUsers, care_users, reform_year
from carepool.projection.scenarios import Scenario, load_scenario
from carepool.warehouse import Tables
from carepool.years import financial_year, start_year

FloatArray = npt.NDArray[np.float64]

MAX_HORIZON: Final = 20
MAX_DRAWS: Final = 10_000
MAX_SCENARIOS: Final = 8
LEVELS: Final = ("region", "lad", "msoa")


@dataclass(frozen=True)
class ProjectionRequest:
    """What to project: scenarios (shipped names or TOML files), the horizon in years, the
    level of places in the rows, and the Monte Carlo draws (0: the central case alone)."""

    scenarios: tuple[str, ...] = ("baseline",)
    years: int = 10
    level: str = "lad"
    draws: int = 1000
    seed: int = 20261206
    #: rows of demand by sex and age band too (region and borough levels)
    by_age_sex: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.years, bool) or not isinstance(self.years, int):
            raise ProjectionError(f"years: expected a whole number, not {self.years!r}")
        if not 1 <= self.years <= MAX_HORIZON:
            raise ProjectionError(
                f"years: expected 1 to {MAX_HORIZON} (the assumptions are sourced no further), "
                f"not {self.years}"
            )
        if self.level not in LEVELS:
            raise ProjectionError(f"level: expected one of {', '.join(LEVELS)}, not {self.level!r}")
        if isinstance(self.draws, bool) or not 0 <= self.draws <= MAX_DRAWS:
            raise ProjectionError(f"draws: expected 0 to {MAX_DRAWS:,}, not {self.draws}")
        if not self.scenarios or len(self.scenarios) > MAX_SCENARIOS:
            raise ProjectionError(f"scenario: expected 1 to {MAX_SCENARIOS} scenarios")
        if self.by_age_sex and self.level == "msoa":
            raise ProjectionError(
                "by age and sex: given for the region and each borough (level region or lad), "
                "not for each neighbourhood"
            )
        if not 0 <= self.seed < 2**63:
            raise ProjectionError(f"seed: expected 0 to 2**63 - 1, not {self.seed}")


@dataclass(frozen=True)
class ScenarioProjection:
    """One scenario's projection."""

    scenario: Scenario
    projected: Projected
    money: Money
    #: people the council pays for under the scenario's charging policy and not under
    #: today's, by year and local authority (nothing under today's rules)
    newly_supported: FloatArray
    prevention: PreventionEffects | None
    #: what a reader should know about this projection of the scenario
    notes: tuple[str, ...] = ()

    def newly_supported_in(self, t: int) -> FloatArray:
        """People newly supported by each council in year ``t`` (an index), grown with the
        number of people in long-term care the borough is projected to have."""
        clients = [COLUMNS.index("older_care_clients"), COLUMNS.index("working_age_care_clients")]
        lad = self.projected.lad
        now = lad[t][:, 0][:, clients].sum(axis=1)
        then = np.maximum(lad[0][:, 0][:, clients].sum(axis=1), 1.0)
        grown: FloatArray = self.newly_supported[t] * now / then
        return grown


@dataclass(frozen=True)
class ProjectionResult:
    request: ProjectionRequest
    base: BasePopulation
    region_code: str
    region_name: str
    price_year: str
    partners: tuple[Partner, ...]
    scenarios: tuple[ScenarioProjection, ...] = field(default=())

    @property
    def years(self) -> tuple[str, ...]:
        return self.scenarios[0].projected.years

    def scenario(self, name: str) -> ScenarioProjection:
        for item in self.scenarios:
            if item.scenario.name == name:
                return item
        raise ProjectionError(f"scenario {name!r} was not projected")

    def gap_probability(self, scenario: str, partner: str, year: str, pounds: float) -> float:
        """The probability that ``partner``'s gap in ``year`` exceeds ``pounds`` (constant
        prices) under ``scenario``."""
        codes = [p.code for p in self.partners]
        if partner not in codes:
            raise ProjectionError(f"partner: expected one of {', '.join(codes)}, not {partner!r}")
        if year not in self.years:
            raise ProjectionError(f"year: expected one of {', '.join(self.years)}, not {year!r}")
        money = self.scenario(scenario).money
        return money.probability_gap_above(codes.index(partner), self.years.index(year), pounds)


def _partners(base: BasePopulation) -> tuple[Partner, ...]:
    region = _region(base)[0]
    icb = Partner(base.icb_code, england_place_name(base.icb_code) or base.icb_code, "nhs", region)
    councils = tuple(
        Partner(code, f"{name} Council", "council", code)
        for code, name in zip(base.lad_codes, base.lad_names, strict=True)
    )
    return (icb, *councils)


def _region(base: BasePopulation) -> tuple[str, str]:
    """The region's code (its combined authority's where the boroughs make one) and name."""
    codes = ",".join(base.lad_codes)
    region = resolve_region(codes)
    return region.combined_authority_code or codes, base.region_name


@dataclass(frozen=True)
class _Shared:
    """What every scenario of a request shares: read from the warehouse once."""

    base: BasePopulation
    rates: DemandRates
    shares: FloatArray
    assumptions: Assumptions
    users: CareUsers


def project(
    warehouse: Tables,
    request: ProjectionRequest,
    progress: Callable[[str], None] | None = None,
) -> ProjectionResult:
    """Every scenario of ``request`` projected from the model in ``warehouse``."""
    scenarios = [load_scenario(name) for name in request.scenarios]
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ProjectionError(f"scenario: each scenario once, not {names}")
    say = progress or (lambda _message: None)
    say("Reading the model's base population and rates")
    base = base_population(warehouse)
    rates = demand_rates(warehouse, base.lad_codes)
    say("Reading births, deaths and migration from the censuses")
    shared = _Shared(
        base=base,
        rates=rates,
        shares=council_shares(warehouse, rates),
        assumptions=projection_assumptions(base.lad_codes, base.by_lad()),
        users=care_users(warehouse, base.lad_codes, base.year, rates.unit_cost_pence, request.seed),
    )
    region_code, region_name = _region(base)
    partners = _partners(base)
    results = []
    for scenario in scenarios:
        say(f"Projecting {scenario.name}")
        prevention = (
            prevention_effects(warehouse, scenario.prevention, base, rates)
            if scenario.prevention.portfolio_budget is not None
            else None
        )
        results.append(_one(shared, scenario, request, partners, prevention, say))
    return ProjectionResult(
        request=request,
        base=base,
        region_code=region_code,
        region_name=region_name,
        price_year=rates.price_year,
        partners=partners,
        scenarios=tuple(results),
    )


def _one(
    shared: _Shared,
    scenario: Scenario,
    request: ProjectionRequest,
    partners: tuple[Partner, ...],
    prevention: PreventionEffects | None,
    say: Callable[[str], None],
) -> ScenarioProjection:
    base = shared.base
    draws = make_draws(scenario, shared.assumptions, request.draws, request.seed)
    z = np.random.default_rng(request.seed + 1).standard_normal(draws.count)
    z[0] = 0.0
    effects = dict(scenario.prevention.effects)
    if prevention is not None:
        effects.update(prevention.effects)
    change_by_year, newly = _charging(shared, scenario, request.years)
    shares = shared.shares

    def council_share(t: int, lad: int, quintiles: npt.NDArray[np.int64]) -> FloatArray:
        result: FloatArray = np.clip(
            shares[lad, quintiles - 1] + change_by_year[t, lad, quintiles - 1], 0.0, 1.0
        )
        return result

    inputs = EngineInputs(
        base=base,
        assumptions=shared.assumptions,
        rates=shared.rates,
        draws=draws,
        horizon=request.years,
        trend_rates=_trend_rates(
            draws, scenario.demand.trends, scenario.uncertainty.demand_trend, z
        ),
        change=demand_change(scenario, request.years, effects),
        council_share=council_share,
    )
    projected = run_engine(inputs, say)
    money = partner_money(
        projected, partners, scenario, draws, prevention.cost_by_partner if prevention else None
    )
    notes = []
    charging = scenario.charging
    if (
        charging.policy != "means-test"
        and charging.from_year
        and start_year(charging.from_year) > start_year(projected.years[-1])
    ):
        notes.append(
            f"The {charging.policy} policy begins in {charging.from_year}, after the last "
            f"year projected ({projected.years[-1]}): it changes nothing here."
        )
    return ScenarioProjection(scenario, projected, money, newly, prevention, tuple(notes))


def _charging(shared: _Shared, scenario: Scenario, horizon: int) -> tuple[FloatArray, FloatArray]:
    """The change in each council's share of social care's cost in each year, ``(year, lad,
    quintile)``, and the people newly supported, ``(year, lad)``, under the scenario's policy."""
    n_lad = len(shared.base.lad_codes)
    change = np.zeros((horizon + 1, n_lad, 5))
    newly = np.zeros((horizon + 1, n_lad))
    policy = scenario.charging
    if policy.policy == "means-test":
        return change, newly
    first = start_year(shared.base.year)
    begins = start_year(policy.from_year) if policy.from_year else first + 1
    if begins < first + 1:
        raise ProjectionError(
            f"scenario {scenario.name}: field charging.from_year: expected a year after the "
            f"model's last ({shared.base.year}), from {financial_year(first + 1)}, not "
            f"{policy.from_year}"
        )
    for t in range(1, horizon + 1):
        reform_years = first + t - begins + 1
        if reform_years < 1:
            continue
        year = reform_year(
            shared.users, policy.policy, financial_year(first + t), reform_years, n_lad
        )
        change[t] = year.share_change
        newly[t] = year.newly_supported
    return change, newly
