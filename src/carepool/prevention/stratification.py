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

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from carepool.errors import AppraisalError
from carepool.indicators import model_years, protect
from carepool.ledger import Ledger
from carepool.prevention.access import require_analyst, require_fund_of_model
from carepool.prevention.library import RISK_SHARES
from carepool.prevention.risk import SEGMENTS, RiskModel, fit_risk_model, latest_people, segment
from carepool.warehouse import Tables

DEFAULT_TOP_SHARE = 0.05


@dataclass(frozen=True)
class RiskRequest:
    #: the share of residents counted as the top-risk cohort
    top_share: float = DEFAULT_TOP_SHARE
    seed: int = 42

    def __post_init__(self) -> None:
        if self.top_share not in RISK_SHARES:
            # a few fixed shares: a sweep of fine shares would pick residents out one by one
            raise AppraisalError(
                f"top share: expected one of {', '.join(map(str, RISK_SHARES))}, "
                f"got {self.top_share}"
            )
        if not 0 <= self.seed <= 2**63 - 1:
            raise AppraisalError(f"seed: expected 0 to {2**63 - 1:,}, got {self.seed}")


@dataclass(frozen=True)
class RiskProfile:
    model: RiskModel
    year: str
    top_share: float
    #: the risk at and above which a resident is in the top-risk cohort, to two decimals
    #: (published: finer would place the residents near it)
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
    return RiskProfile(model, year, request.top_share, round(cut, 2), segments, top)


def write_private_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write person-level results readable by their owner only: a new file (never over an
    existing one, nor through a link), mode 0600."""
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        raise AppraisalError(f"{path} exists: person-level results go to a new file") from None
    except OSError as exc:
        raise AppraisalError(f"{path}: cannot write it: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            frame.to_csv(out, index=False)
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise AppraisalError(f"{path}: cannot write it: {exc.strerror or exc}") from None
    return path


def person_risks(
    warehouse: Tables, request: RiskRequest, ledger: Ledger, fund: str, actor: str
) -> pd.DataFrame:
    """Each resident's risk of an emergency admission next year and segment: pseudonymous
    person id, neighbourhood, risk, whether in the top-risk cohort. Analysts of a fund that
    pools this model's places only."""
    require_analyst(ledger, fund, actor)
    require_fund_of_model(ledger, fund, warehouse)
    model = fit_risk_model(warehouse, request.seed)
    people = _scored(warehouse, model)
    cut = float(np.quantile(people["risk"], 1.0 - request.top_share))
    people["top_risk"] = people["risk"] >= cut
    columns = ["person_id", "lad_code", "msoa21_code", "lsoa21_code", "segment", "risk", "top_risk"]
    out: pd.DataFrame = people[columns].sort_values("risk", ascending=False, kind="stable")
    return out.reset_index(drop=True)
