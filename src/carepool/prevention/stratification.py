"""Risk stratification as a capability: the fitted model and its validation, the population's
segments and the top-risk cohort of each neighbourhood, for everyone; each resident's score,
for analysts only.

Aggregates pass disclosure control (:func:`carepool.indicators.protect`: counts of 1-7
hidden, others rounded to 5, and a second cell hidden wherever one hidden cell could be
recovered from its borough's total). Person-level results leave only through
:func:`person_risks`, which asks the pooled fund's ledger what the principal's roles are and
refuses anyone without the analyst role.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from carepool.errors import AppraisalError, PermissionDenied
from carepool.indicators import model_years, protect
from carepool.ledger import Ledger
from carepool.prevention.risk import SEGMENTS, RiskModel, fit_risk_model, latest_people, segment
from carepool.warehouse import Tables

ANALYST = "analyst"
DEFAULT_TOP_SHARE = 0.05


@dataclass(frozen=True)
class RiskRequest:
    #: the share of residents counted as the top-risk cohort
    top_share: float = DEFAULT_TOP_SHARE
    seed: int = 42

    def __post_init__(self) -> None:
        if not 0 < self.top_share <= 0.5:
            raise AppraisalError(f"top share: expected a share in (0, 0.5], got {self.top_share}")
        if not 0 <= self.seed <= 2**63 - 1:
            raise AppraisalError(f"seed: expected 0 to {2**63 - 1:,}, got {self.seed}")


@dataclass(frozen=True)
class RiskProfile:
    model: RiskModel
    year: str
    top_share: float
    #: the risk at and above which a resident is in the top-risk cohort
    cut: float
    #: published (disclosure-controlled): borough × segment residents
    segments: pd.DataFrame
    #: published: each neighbourhood's (MSOA's) residents in the top-risk cohort, per 1,000
    top_cohort: pd.DataFrame


def _scored(warehouse: Tables, model: RiskModel) -> pd.DataFrame:
    people = latest_people(warehouse)
    people["risk"] = model.predict(people)
    people["segment"] = segment(people)
    return people


def risk_profile(warehouse: Tables, request: RiskRequest) -> RiskProfile:
    """Fit and validate the model, score the model's last year, and publish the aggregates."""
    model = fit_risk_model(warehouse, request.seed)
    people = _scored(warehouse, model)
    cut = float(np.quantile(people["risk"], 1.0 - request.top_share))
    people["top"] = (people["risk"] >= cut).astype(np.int64)
    by_segment = people.groupby(["lad_code", "segment"]).size().rename("residents").reset_index()
    # every borough shows every segment, zeros included, so that absence is not disclosive
    full = pd.MultiIndex.from_product(
        [sorted(people["lad_code"].unique()), list(SEGMENTS)], names=["lad_code", "segment"]
    )
    by_segment = (
        by_segment.set_index(["lad_code", "segment"]).reindex(full, fill_value=0).reset_index()
    )
    segments = protect(by_segment, count="residents", groupings=[["lad_code"]])
    cohort = (
        people.groupby(["lad_code", "msoa21_code"])
        .agg(residents=("top", "size"), top_risk=("top", "sum"))
        .reset_index()
    )
    cohort["per_1000"] = 1000.0 * cohort["top_risk"] / cohort["residents"]
    top = protect(
        cohort,
        count="top_risk",
        derived=["per_1000"],
        groupings=[["lad_code"]],
        denominator="residents",
    )
    # the rate from the published (rounded) figures, so that it cannot narrow the count
    shown = top["top_risk"].astype("Float64") / top["residents"].astype("Float64")
    top["per_1000"] = (1000.0 * shown).astype("Float64").where(~top["suppressed"])
    year = model_years(warehouse)[-1]
    return RiskProfile(model, year, request.top_share, cut, segments, top)


def require_analyst(ledger: Ledger, fund: str, actor: str) -> None:
    """Refuse anyone the fund's ledger does not give the analyst role."""
    roles = ledger.roles_of(fund, actor=actor)
    if ANALYST not in roles:
        raise PermissionDenied(
            f"user {actor!r} ({', '.join(roles)}) may not read person-level risk scores: "
            "it needs the analyst role"
        )


def person_risks(
    warehouse: Tables, request: RiskRequest, ledger: Ledger, fund: str, actor: str
) -> pd.DataFrame:
    """Each resident's risk of an emergency admission next year and segment: pseudonymous
    person id, neighbourhood, risk, whether in the top-risk cohort. Analysts only."""
    require_analyst(ledger, fund, actor)
    model = fit_risk_model(warehouse, request.seed)
    people = _scored(warehouse, model)
    cut = float(np.quantile(people["risk"], 1.0 - request.top_share))
    people["top_risk"] = people["risk"] >= cut
    columns = ["person_id", "lad_code", "msoa21_code", "lsoa21_code", "segment", "risk", "top_risk"]
    out: pd.DataFrame = people[columns].sort_values("risk", ascending=False, kind="stable")
    return out.reset_index(drop=True)
