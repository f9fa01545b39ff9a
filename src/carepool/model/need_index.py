"""Each borough's need per head against NHS England's published core need index.

The default allocation formula estimates need from the model's own activity and the
deprivation scores; NHS England's core index (its weighted population per registered patient,
practices summed by locality) comes from national person-level models the model never saw.
So the two agreeing is an independent check of the model's need, borough by borough.

Both are put on the same footing, relative to Greater Manchester's average: the model's need
index is 1 for the average resident of the region it models; NHS England's is relative to
England, so each locality's is divided by the modelled localities' average (weighted by registered
patients; for the whole region, Greater Manchester's 1.055 in 2025/26). NHS
England's index also carries costs the model has no part in (the market-forces factor,
emergency ambulance costs), hence a structural tolerance of 0.05.

**Sampling error.** The model's index is fitted on its simulated activity, so at a small scale
it moves from seed to seed. Its standard error comes from a delete-a-group jackknife: the
people are split into :data:`JACKKNIFE_GROUPS` random groups, the allocation is rerun with each
group left out, and the spread of the replicates gives the error (Wolter, *Introduction to
Variance Estimation*, 2007, ch. 4). NHS England's index is fitted on national person-level
models, not a sample of these boroughs, so it carries no sampling error of its own here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from carepool.allocation import (
    AllocationRequest,
    over_patient_weighted_average,
    resolve,
    run_allocation,
)
from carepool.model.boroughs import INDEPENDENT, BoroughCheck, Measure, measured
from carepool.reference import read_reference
from carepool.warehouse import Tables

INDEX_YEAR = "2025/26"
#: Groups of the jackknife: enough for a stable error (its own relative error is about
#: 1/√(2·(G − 1)), a quarter at ten), few enough that validation reruns the allocation quickly.
JACKKNIFE_GROUPS = 10
_COMPONENT = "core_services_overall"
SOURCE = (
    "NHS England ICB place-based allocation tool 2025/26 (nhsx/AIF_Allocation_Tool), core "
    "services overall need index by locality over Greater Manchester's; the model's default "
    "formula, need per head relative to the region"
)

MEASURE = Measure(
    "need_per_head_vs_nhs_core_index",
    "Need per head, relative to Greater Manchester (NHS England core index)",
    "index (region = 1)",
    INDEPENDENT,
    0.05,
    False,
    "NHS England's index is fitted on national person-level costs and also carries the "
    "market-forces factor and ambulance costs; 0.05 is about a third of the published spread "
    "between the localities",
)


def published_core_index(boroughs: Sequence[str]) -> dict[str, float]:
    """The core index of each of ``boroughs`` that NHS England publishes, relative to their
    average (weighted by registered patients, as NHS England's indices are): the model's need
    index is relative to the region it models."""
    frame = read_reference(
        "gm_icb_need_indices",
        columns=[
            "allocation_year",
            "area_code",
            "component",
            "registered_population",
            "need_index_vs_england",
        ],
    ).to_pandas()
    rows = frame[
        (frame["allocation_year"] == INDEX_YEAR)
        & (frame["component"] == _COMPONENT)
        & frame["area_code"].isin(list(boroughs))
    ]
    return over_patient_weighted_average(rows, "area_code")


def need_index_checks(warehouse: Tables, names: dict[str, str]) -> list[BoroughCheck]:
    """Each modelled borough's need index (default formula, per resident) against NHS
    England's (per registered patient), when NHS England publishes one for every borough
    modelled."""
    if len(names) < 2:
        return []  # relative to itself, one borough's index is 1 on both sides: no check
    published = published_core_index(list(names))
    if not published or set(names) - set(published):
        # the model's index is relative to every borough it models, so the published one
        # must be relative to the same boroughs: only when NHS England publishes them all
        return []
    run = resolve(warehouse, AllocationRequest())
    allocation = run_allocation(warehouse, run)
    model = dict(zip(allocation.places["place"], allocation.places["need_index"], strict=True))
    se = jackknife_se(
        [
            run_allocation(warehouse, run, leave_out=(group, JACKKNIFE_GROUPS)).places
            for group in range(JACKKNIFE_GROUPS)
        ]
    )
    return [
        measured(
            MEASURE,
            code,
            name,
            float(model[code]) if code in model else None,
            se.get(code),
            round(published[code], 4),
            INDEX_YEAR,
            SOURCE,
        )
        for code, name in names.items()
    ]


def jackknife_se(replicates: Sequence[pd.DataFrame]) -> dict[str, float]:
    """Each place's standard error of its need index from delete-a-group replicates (each an
    allocation's ``places``): √((G − 1)/G · Σ (θ₋g − θ̄)²)."""
    groups = len(replicates)
    if groups < 2:
        return {}
    frame = pd.concat(
        [r.set_index("place")["need_index"].rename(i) for i, r in enumerate(replicates)], axis=1
    )
    spread = frame.sub(frame.mean(axis=1), axis=0).pow(2).sum(axis=1)
    se = np.sqrt((groups - 1) / groups * spread)
    return {str(place): float(value) for place, value in se.items()}
