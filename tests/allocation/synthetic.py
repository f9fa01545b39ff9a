"""Small, fully specified allocation inputs for property tests (no warehouse needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from carepool.allocation import NeedData, parse_formula
from carepool.allocation.formula import Formula
from carepool.allocation.inputs import N_BANDS

FORMULA = """
[formula]
id = "synthetic"
version = "1"

[inequalities]
variable = "imd_score"
weight = 0.1

[[component]]
id = "health"
share = 0.7
cost_curve = [{ ages = "0-64", weight = 1.0 }, { ages = "65+", weight = 4.0 }]
need = [{ variable = "health_score", weight = 0.3 }]

[[component]]
id = "care"
share = 0.3
cost_curve = [{ ages = "65+", weight = 1.0 }]
need = [{ variable = "income_score", weight = 0.5 }]
inequalities_weight = 0.0
"""


def formula(text: str = FORMULA) -> Formula:
    return parse_formula(text, "synthetic.toml")


def need_data(
    population: np.ndarray,
    variables: dict[str, np.ndarray],
    place_of: list[str],
    lsoa_codes: list[str] | None = None,
) -> NeedData:
    """Inputs for LSOAs ``E01000000..`` (or ``lsoa_codes``), each wholly in ``place_of[i]``.

    ``population`` is (LSOA, band, sex); rows may come in any order: they are put in code
    order here, as the real builders do.
    """
    n = population.shape[0]
    codes = np.array(lsoa_codes or [f"E01{i:06d}" for i in range(n)], dtype=str)
    order = np.argsort(codes, kind="stable")
    members = pd.DataFrame(
        {
            "level": "lad",
            "place_code": place_of,
            "place_name": [f"Place {p}" for p in place_of],
            "lsoa21_code": codes,
            "weight": 1.0,
        }
    )
    return NeedData(
        lsoa_codes=codes[order],
        lad_codes=np.array(place_of, dtype=str)[order],
        population=population[order],
        variables={k: v[order] for k, v in variables.items()},
        memberships=members,
        population_year="2025-26",
        description="synthetic inputs",
    )


def random_data(seed: int, n: int = 12, places: int = 4) -> NeedData:
    rng = np.random.default_rng(seed)
    population = rng.gamma(2.0, 20.0, size=(n, N_BANDS, 2))
    variables = {
        "health_score": rng.normal(0, 1, n),
        "income_score": rng.uniform(0.02, 0.4, n),
        "imd_score": rng.uniform(5, 60, n),
    }
    place_of = [f"E08{i % places:06d}" for i in range(n)]
    return need_data(population, variables, place_of)
