"""Prevention benchmarks, on the full-scale Greater Manchester model.

1. The Monte Carlo: 10,000 draws of every uncertain figure of 30 interventions over a 10-year
   horizon (the default library's interventions, repeated under new ids to make 30), each
   intervention's present values by place and payer, every partner's chance of gaining and
   the acceptability curve. Target: 2 s. Preparing the cohorts from the warehouse (one engine
   query per intervention) is timed and printed apart.
2. The portfolio: 200 candidate (intervention, place) options, each at five levels, solved to
   proven optimality by HiGHS with the partners' fair-share constraints. Target: 5 s. The
   default library's 11 interventions and 9 variants at other costs and QALY gains, in each of
   the 10 boroughs,
   and the budget is set so that it binds; options are valued at the Green Book's £70,000 a
   QALY, so that many are worth choosing.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

from carepool.prevention import Intervention, choose
from carepool.prevention.appraisal import prepare
from carepool.prevention.portfolio import Option, place_options
from carepool.prevention.service import Partners, model_inputs, simulate
from carepool.warehouse import Warehouse
from fullscale import with_full_scale_model

DRAWS = 10_000
INTERVENTIONS = 30
HORIZON = 10
MC_TARGET = 2.0
OPTIONS = 200
MIP_TARGET = 5.0
RUNS = 3
#: The Green Book's value of a QALY (£70,000): more options are worth choosing than at NICE's
#: threshold, so the budget binds and the programme is not trivial.
THRESHOLD = 70_000.0


def _variant(item: Intervention, k: int) -> Intervention:
    """Another intervention like ``item``, dearer or cheaper and stronger or weaker."""
    cost, effect = 0.6 + 0.1 * (k % 5), 0.9 + 0.15 * (k % 4)
    costs = tuple(
        line.model_copy(update={"per_participant": tuple(x * cost for x in line.per_participant)})
        for line in item.costs
    )
    qalys = item.qalys_per_success_year
    return item.model_copy(
        update={
            "id": f"{item.id}_v{k}",
            "costs": costs,
            "qalys_per_success_year": qalys.model_copy(update={"value": qalys.value * effect}),
        }
    )


def run(data_dir: Path) -> None:
    with Warehouse(data_dir / "warehouse") as warehouse:
        started = time.perf_counter()
        inputs = model_inputs(warehouse, (), ())
        cells = {item.id: found for item, found in inputs.cohorts(warehouse)}
        print(
            f"  cohorts of {len(cells)} interventions from the warehouse (with the risk model): "
            f"{time.perf_counter() - started:.2f} s"
        )
    first = next(iter(cells.values()))
    partners = Partners.for_places(first.places, first.nhs_partner)
    library = list(inputs.interventions)
    prepared = [
        prepare(
            library[k % len(library)].model_copy(
                update={"id": f"{library[k % len(library)].id}_{k}"}
            ),
            cells[library[k % len(library)].id],
            inputs.unit_cost,
            inputs.payer,
            HORIZON,
            1.0,
        )
        for k in range(INTERVENTIONS)
    ]
    seconds = []
    for _ in range(RUNS):
        started = time.perf_counter()
        for one in prepared:
            simulate(one, partners, DRAWS, 42).ceac()
        seconds.append(time.perf_counter() - started)
    best = statistics.median(seconds)
    print(
        f"Monte Carlo, {DRAWS:,} draws x {INTERVENTIONS} interventions x {HORIZON} years: "
        f"median {best:.2f} s over {RUNS} runs (target {MC_TARGET:.0f} s, ratio "
        f"{best / MC_TARGET:.2f})"
    )

    options: list[Option] = []
    variants = [_variant(library[k % len(library)], k) for k in range(OPTIONS // 10 - len(library))]
    for candidate in [*library, *variants]:
        base = candidate.id.split("_v")[0]
        options += place_options(
            candidate,
            cells[base if base in cells else candidate.id],
            partners.ids,
            inputs.unit_cost,
            inputs.payer,
            5,
            THRESHOLD,
            5,
        )
    yearly_need = sum(float(o.cost_by_year[0]) for o in options if o.nhb > 0)
    budget = np.full(5, yearly_need / 3)
    weights = np.array([1.5, 1.25, 1.0, 1.0, 1.0])
    seconds = []
    for _ in range(RUNS):
        started = time.perf_counter()
        portfolio = choose(options, partners.ids, budget, weights)
        seconds.append(time.perf_counter() - started)
        assert portfolio.optimal, portfolio.status
    best = statistics.median(seconds)
    print(
        f"Portfolio, {len(options)} options at five levels, budget £{budget[0]:,.0f} a year: "
        f"{len(portfolio.chosen)} chosen, {portfolio.status}; median {best:.2f} s over {RUNS} "
        f"runs (target {MIP_TARGET:.0f} s, ratio {best / MIP_TARGET:.2f})"
    )


def main() -> None:
    with_full_scale_model(run, "prevention")


if __name__ == "__main__":
    main()
