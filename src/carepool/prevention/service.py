"""The prevention capability's application layer: appraise interventions on the built model.

``appraise(warehouse, AppraisalRequest(...))`` returns one :class:`InterventionAppraisal` per
intervention: the whole system's and each partner's costs, savings, net present value, fair
share and chance of gaining, with the QALYs, cost per QALY and who gains by deprivation.
Shells (``carepool appraise``, the demo) print what comes back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from carepool.errors import AppraisalError
from carepool.geography import england_place_name
from carepool.indicators import model_years
from carepool.prevention.access import Principal, require_model_analyst
from carepool.prevention.appraisal import (
    COUNCIL,
    NHS,
    Figures,
    Prepared,
    central_figures,
    drawn_figures,
    flows,
    persistence,
    prepare,
    present_values,
    programme_weights,
)
from carepool.prevention.cohort import CohortCells, cohort_cells
from carepool.prevention.discounting import discount_factors
from carepool.prevention.fairshare import FairShares, Game, fair_shares
from carepool.prevention.library import OUTCOMES, Intervention, load_library
from carepool.prevention.portfolio import stand_alone
from carepool.prevention.risk import risk_scores
from carepool.warehouse import Tables

Array = npt.NDArray[np.float64]
#: NICE's cost-effectiveness threshold from April 2026 is £25,000-£35,000 per QALY (NICE Q&A,
#: December 2025): the lower end, the NHS's opportunity cost, is the default.
DEFAULT_THRESHOLD = 25_000.0
MAX_DRAWS = 1_000_000
MAX_SEED = 2**63 - 1
CEAC_THRESHOLDS = np.arange(0.0, 100_001.0, 2_500.0)


@dataclass(frozen=True)
class AppraisalRequest:
    interventions: tuple[str, ...] = ()
    library: tuple[Path, ...] = ()
    years: int = 5
    draws: int = 10_000
    seed: int = 42
    threshold: float = DEFAULT_THRESHOLD
    #: share of each eligible cohort offered the intervention
    scale: float = 1.0
    #: fresh cohorts recruited, one a year from the start (1: a single cohort)
    cohorts: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.years <= 30:
            raise AppraisalError(f"years: expected 1-30, got {self.years}")
        if not 0 <= self.seed <= MAX_SEED:
            raise AppraisalError(f"seed: expected 0 to {MAX_SEED:,}, got {self.seed}")
        if not 0 <= self.draws <= MAX_DRAWS:
            raise AppraisalError(f"draws: expected 0-{MAX_DRAWS:,}, got {self.draws}")
        if not 1 <= self.cohorts <= self.years:
            raise AppraisalError(
                f"cohorts: expected 1 to {self.years} (the years), got {self.cohorts}"
            )
        if not 0 < self.scale <= 1:
            raise AppraisalError(f"scale: expected a share in (0, 1], got {self.scale}")
        if not 0 < self.threshold <= 1_000_000:
            raise AppraisalError(
                f"threshold: expected £1-£1,000,000 per QALY, got {self.threshold}"
            )


@dataclass(frozen=True)
class PartnerResult:
    partner: str
    name: str
    kind: str
    cost_pence: int
    benefit_pence: int
    npv_pence: int
    shapley_pence: int
    p_npv_positive: float | None


@dataclass(frozen=True)
class InterventionAppraisal:
    intervention: Intervention
    year: str
    cohort: int
    participants: float
    cost_pence: int
    benefit_pence: int
    npv_pence: int
    qalys: float
    by_partner: tuple[PartnerResult, ...]
    #: partner × year, undiscounted pounds at the central values: (partner, year, cost, saving)
    cash_flows: tuple[tuple[str, int, float, float], ...]
    avoided: dict[str, float]
    by_quintile: tuple[dict[str, float], ...]
    fair: FairShares
    threshold: float
    p_npv_positive: float | None
    ceac: tuple[tuple[float, float], ...] = field(default=())

    @property
    def bcr(self) -> float | None:
        return self.benefit_pence / self.cost_pence if self.cost_pence else None

    @property
    def roi(self) -> float | None:
        return self.npv_pence / self.cost_pence if self.cost_pence else None

    @property
    def net_cost_pence(self) -> int:
        return self.cost_pence - self.benefit_pence

    @property
    def cost_per_qaly(self) -> float | None:
        """Net cost per QALY in pounds; negative when the intervention saves money and health
        (it dominates doing nothing)."""
        return self.net_cost_pence / 100 / self.qalys if self.qalys > 0 else None

    @property
    def net_health_benefit(self) -> float:
        """QALYs gained less the QALYs the net cost would buy at the threshold elsewhere."""
        return self.qalys - (self.net_cost_pence / 100 / self.threshold if self.threshold else 0.0)

    def payback_year(self) -> int | None:
        """The first year (0 = the first) by whose end cumulative savings cover cumulative
        costs, undiscounted; None if not within the horizon."""
        years = sorted({y for _, y, _, _ in self.cash_flows})
        net = np.array(
            [sum(s - c for _, y, c, s in self.cash_flows if y == year) for year in years]
        )
        reached = np.nonzero(np.cumsum(net) >= 0)[0]
        return int(years[reached[0]]) if len(reached) else None


def pence(values: Array, total: int | None = None) -> npt.NDArray[np.int64]:
    """Whole pence for pound amounts whose rounded parts sum to their rounded total, or to
    ``total`` pence where the whole was rounded already (shares of an NPV that was itself made
    of rounded parts)."""
    exact = np.asarray(values, dtype=np.float64) * 100.0
    floors = np.floor(exact)
    whole = round(float(exact.sum())) if total is None else total
    short = whole - int(floors.sum())
    order = np.lexsort((np.arange(exact.size), -(exact - floors)))
    out = floors.astype(np.int64)
    if short > 0:
        out[order[:short]] += 1
    elif short < 0:
        out[order[::-1][:-short]] -= 1
    return out


@dataclass(frozen=True)
class Partners:
    """Who pays and saves: each place's ICB and its council."""

    ids: tuple[str, ...]
    names: tuple[str, ...]
    kinds: tuple[str, ...]
    #: [place, payer] → partner index
    of: npt.NDArray[np.int64]

    @classmethod
    def for_places(cls, places: Sequence[str], icbs: Sequence[str]) -> Partners:
        nhs = sorted(set(icbs))
        ids = (*nhs, *places)
        names = (
            *(england_place_name(c) or c for c in nhs),
            *(f"{england_place_name(c) or c} Council" for c in places),
        )
        kinds = ("nhs",) * len(nhs) + ("council",) * len(places)
        of = np.array(
            [[ids.index(icb), ids.index(place)] for place, icb in zip(places, icbs, strict=True)]
        )
        return cls(ids, names, kinds, of)

    def totals(self, by_place_payer: Array) -> Array:
        """Sum a [..., place, payer] array to [..., partner]."""
        out = np.zeros((*by_place_payer.shape[:-2], len(self.ids)))
        for p in range(self.of.shape[0]):
            for j in (NHS, COUNCIL):
                out[..., self.of[p, j]] += by_place_payer[..., p, j]
        return out


def proposal_game(partners: Partners, saving: Array, cost: Array, delivered_by: int) -> Game:
    """v(S) for the proposal: the sum over places of each place's two-player game, its ICB and
    its council. The pair, committed to the proposal, is worth its net value there (savings
    less cost, g_p); the partner that delivers it, alone, is worth :func:`stand_alone`;
    partners of other places have no stake. It is the game
    whose Shapley values the portfolio's fair shares use
    (:func:`~carepool.prevention.portfolio.place_shares`), so the two commands agree.
    ``saving`` and ``cost`` are present values by [place, payer]."""
    n = len(partners.ids)
    values = np.zeros(1 << n)
    for mask in range(1, 1 << n):
        total = 0.0
        for p in range(partners.of.shape[0]):
            who = (int(partners.of[p, NHS]), int(partners.of[p, COUNCIL]))
            deliverer = who[delivered_by]
            together = float(saving[p].sum() - cost[p].sum())
            if all(mask >> k & 1 for k in who):
                total += together
            elif mask >> deliverer & 1:
                total += stand_alone(float(saving[p, delivered_by] - cost[p].sum()), together)
        values[mask] = total
    return Game(partners.ids, values)


@dataclass(frozen=True)
class Simulation:
    """The Monte Carlo of one intervention: each partner's and the system's chance of gaining,
    and the draws of net cost and QALYs behind the acceptability curve."""

    p_partner: Array
    p_system: float
    net_cost: Array
    qalys: Array

    def ceac(self) -> tuple[tuple[float, float], ...]:
        """P(λ · QALYs − net cost > 0) at each threshold λ."""
        gain = CEAC_THRESHOLDS[:, None] * self.qalys[None, :] - self.net_cost[None, :]
        chance = (gain > 0).mean(axis=1)
        return tuple((float(t), float(p)) for t, p in zip(CEAC_THRESHOLDS, chance, strict=True))


def simulate(prepared: Prepared, partners: Partners, draws: int, seed: int) -> Simulation:
    """``draws`` draws of every uncertain figure, vectorised; the stream is seeded by ``seed``
    and the intervention's id, so each intervention's draws are the same whatever else runs."""
    rng = np.random.default_rng([seed, *prepared.intervention.id.encode()])
    drawn = present_values(prepared, drawn_figures(prepared.intervention, rng, draws))
    net_k = partners.totals(drawn.saving) - partners.totals(drawn.cost)
    net_cost = drawn.cost.sum(axis=(1, 2)) - drawn.saving.sum(axis=(1, 2))
    return Simulation((net_k > 0).mean(axis=0), float((net_cost < 0).mean()), net_cost, drawn.qalys)


def _appraise_one(
    prepared: Prepared, partners: Partners, request: AppraisalRequest, year: str
) -> InterventionAppraisal:
    central = central_figures(prepared.intervention)
    flow = flows(prepared, central)
    pv = present_values(prepared, central)
    saving_pv, cost_pv = pv.saving[0], pv.cost[0]  # [p, j]
    saving_k, cost_k = partners.totals(saving_pv), partners.totals(cost_pv)
    delivered = NHS if prepared.intervention.delivered_by == "nhs" else COUNCIL
    game = proposal_game(partners, saving_pv, cost_pv, delivered)
    fair = fair_shares(game, saving_k, cost_k)
    p_partner: Array | None = None
    p_system: float | None = None
    ceac: tuple[tuple[float, float], ...] = ()
    if request.draws:
        simulated = simulate(prepared, partners, request.draws, request.seed)
        p_partner, p_system = simulated.p_partner, simulated.p_system
        ceac = simulated.ceac()
    costs_p, savings_p = pence(cost_k), pence(saving_k)
    npv_p = savings_p - costs_p  # from the rounded parts, so that NPV = savings − cost exactly
    shapley_p = pence(fair.shapley, int(npv_p.sum()))  # fair shares of exactly the NPV
    by_partner = tuple(
        PartnerResult(
            partner=partners.ids[k],
            name=partners.names[k],
            kind=partners.kinds[k],
            cost_pence=int(costs_p[k]),
            benefit_pence=int(savings_p[k]),
            npv_pence=int(npv_p[k]),
            shapley_pence=int(shapley_p[k]),
            # a partner with no cost and no saving has no chance of gaining to report
            p_npv_positive=None
            if p_partner is None or not (cost_k[k] or saving_k[k])
            else round(float(p_partner[k]), 4),
        )
        for k in range(len(partners.ids))
    )
    cost_t = partners.totals(np.moveaxis(flow.cost[0], -1, 0))  # [t, k]
    saving_t = partners.totals(np.moveaxis(flow.saving[0], -1, 0))
    cash = tuple(
        (partners.ids[k], t, float(cost_t[t, k]), float(saving_t[t, k]))
        for k in range(len(partners.ids))
        for t in range(prepared.horizon)
        if cost_t[t, k] or saving_t[t, k]
    )
    return InterventionAppraisal(
        intervention=prepared.intervention,
        year=year,
        cohort=round(prepared.people),
        participants=float(flow.engaged[0]),
        cost_pence=int(costs_p.sum()),
        benefit_pence=int(savings_p.sum()),
        npv_pence=int(npv_p.sum()),
        qalys=float(pv.qalys[0]),
        by_partner=by_partner,
        cash_flows=cash,
        avoided={o: float(flow.avoided[0, i].sum()) for i, o in enumerate(OUTCOMES)},
        by_quintile=_by_quintile(prepared, central, float(pv.qalys[0])),
        fair=fair,
        threshold=request.threshold,
        p_npv_positive=p_system,
        ceac=ceac,
    )


def _by_quintile(
    prepared: Prepared, central: Figures, qalys: float
) -> tuple[dict[str, float], ...]:
    """Who gains: the cohort, QALYs and savings (present values) by IMD quintile."""
    _, ob_benefit = prepared.intervention.optimism_bias
    people_q = prepared.cells.people.sum(axis=0)
    alive = (1.0 - prepared.death_rate) ** np.arange(prepared.horizon)
    shape = persistence(central.drop_off, prepared.horizon)[0] * alive
    weights = programme_weights(discount_factors(prepared.horizon, "money"), prepared.cohorts)
    factor = (
        prepared.scale
        * float(central.attributable[0])
        * float(shape @ weights)
        * (1.0 - ob_benefit)
    )
    savings_q = factor * (prepared.saving_by_quintile @ central.reduction[0])
    total_people = max(float(people_q.sum()), 1.0)
    return tuple(
        {
            "quintile": float(q + 1),
            "cohort": float(people_q[q]),
            "qalys": qalys * float(people_q[q]) / total_people,
            "savings_pounds": float(savings_q[q]),
        }
        for q in range(len(people_q))
    )


@dataclass(frozen=True)
class ModelInputs:
    """What every appraisal reads from the model once: the interventions chosen, the year
    their cohorts are drawn from, and each service's unit cost (pounds) and payer."""

    interventions: tuple[Intervention, ...]
    #: the year cohorts are chosen in, and the next, whose outcomes are their baseline
    selection_year: str
    year: str
    unit_cost: dict[str, float]
    payer: dict[str, str]
    _scores: dict[str, pd.Series] = field(default_factory=dict)

    def risk(self, warehouse: Tables) -> pd.Series | None:
        """The risk model's scores, fitted once and only if a chosen cohort asks for them."""
        if not any(i.cohort.top_risk_share for i in self.interventions):
            return None
        if "risk" not in self._scores:
            self._scores["risk"] = risk_scores(warehouse, self.selection_year)
        return self._scores["risk"]

    def cohorts(
        self, warehouse: Tables, progress: Callable[[str], None] | None = None
    ) -> Iterator[tuple[Intervention, CohortCells]]:
        """Each intervention with its cohort: chosen in the selection year, its outcomes the
        next (one engine query each)."""
        for item in self.interventions:
            if progress is not None:
                progress(item.name)
            cells = cohort_cells(
                warehouse, item.cohort, self.selection_year, self.risk(warehouse), self.year
            )
            yield item, cells


def model_inputs(
    warehouse: Tables,
    library: Sequence[Path],
    interventions: Sequence[str],
    principal: Principal | None = None,
) -> ModelInputs:
    """The chosen interventions (all of the library if none is named), the model's last year
    and the services' prices. A library of one's own is for analysts only (``principal``):
    its cohorts are the user's to choose, and a narrow one could describe a few residents."""
    if library:
        require_model_analyst(
            principal, warehouse, "appraising an intervention library of your own"
        )
    loaded = load_library(library)
    known = {i.id: i for i in loaded}
    unknown = [i for i in interventions if i not in known]
    if unknown:
        raise AppraisalError(
            f"unknown intervention {unknown[0]!r}; the library has {sorted(known)}"
        )
    chosen = tuple(known[i] for i in interventions) if interventions else loaded
    years = model_years(warehouse)
    if len(years) < 2:
        raise AppraisalError(
            "appraisal needs two model years: cohorts are chosen in one and their outcomes "
            "counted in the next; build with --years 2 or more"
        )
    prices = warehouse.to_pandas(
        warehouse.table("services").select("service", "unit_cost_pence", "payer_kind")
    )
    unit = {
        str(s): int(p) / 100
        for s, p in zip(prices["service"], prices["unit_cost_pence"], strict=True)
    }
    payer = {str(s): str(k) for s, k in zip(prices["service"], prices["payer_kind"], strict=True)}
    return ModelInputs(chosen, years[-2], years[-1], unit, payer)


def appraise(
    warehouse: Tables,
    request: AppraisalRequest,
    progress: Callable[[str], None] | None = None,
    principal: Principal | None = None,
    inputs: ModelInputs | None = None,
) -> list[InterventionAppraisal]:
    """Appraise the chosen interventions (all of the library if none is named) on the model's
    last year, in library order; ``principal`` is who asks (needed for a library of one's
    own); ``inputs``, read once by :func:`model_inputs`, may be shared with a portfolio."""
    if inputs is not None and (request.library or request.interventions):
        # shared inputs already hold the interventions chosen: one place to choose them
        raise AppraisalError("choose the interventions in model_inputs when sharing its inputs")
    inputs = inputs or model_inputs(warehouse, request.library, request.interventions, principal)
    results = []
    partners: Partners | None = None
    for item, cells in inputs.cohorts(warehouse, progress):
        partners = partners or Partners.for_places(cells.places, cells.nhs_partner)
        prepared = prepare(
            item,
            cells,
            inputs.unit_cost,
            inputs.payer,
            request.years,
            request.scale,
            request.cohorts,
        )
        results.append(_appraise_one(prepared, partners, request, inputs.year))
    return results
