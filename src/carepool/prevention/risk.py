"""Who would benefit most: each resident's risk of an emergency admission next year, and a
population segmentation in the style of Bridges to Health.

**The risk model** is a logistic regression (scikit-learn) of "one or more emergency
admissions in year y + 1" on what is known about a person in year y: age (a spline), sex,
the twelve registers, last year's use of each service, the care setting and the
neighbourhood's deprivation quintile. It is an open, explainable method in the family of the
published predictive models (PARR, the Combined Predictive Model, QAdmissions), whose
coefficients anyone can read; no proprietary grouper is used. Published models reach an area
under the ROC curve of about 0.70-0.78 on real records; a synthetic population that gave far
more would be too easy, and the generator would need fixing, not the figure.

**Validation** is on a held-out year: fitted on year y − 2's people and their admissions in
y − 1, scored on year y − 1's people and their admissions in y. A model of two years has one
pair of years only, so it is validated on held-out people (a seeded 30%) and says so. Reported:
the AUROC and calibration by decile of predicted risk (predicted against observed).

**Segments** (Lynn et al. 2007, Bridges to Health), from the year's records: end of life
(died in the year), frailty and long decline (frailty or dementia, or living in a care home),
disability (learning disability or serious mental illness), long-term conditions (any other
register), acutely ill (an emergency admission without a register), infants (under one),
and healthy (everyone else), each person in the first that applies.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import SplineTransformer, StandardScaler

from carepool.errors import AppraisalError
from carepool.indicators import model_years
from carepool.warehouse import CONDITIONS, Tables

Array = npt.NDArray[np.float64]
#: Last year's use of each service, capped so that a few very heavy users do not dominate.
USE_CAPS = {
    "emergency_admissions": 5,
    "emergency_bed_days": 60,
    "ae_attendances": 10,
    "gp_appointments": 30,
    "outpatient_attendances": 20,
    "elective_admissions": 5,
    "community_contacts": 50,
    "mental_health_contacts": 30,
    "asc_home_care_hours": 1_000,
}
#: People sampled to fit the model: enough for stable coefficients, bounded in time.
MAX_FIT = 400_000
HOLD_OUT = 0.3
SEGMENTS = (
    "end_of_life",
    "frailty_and_decline",
    "disability",
    "long_term_conditions",
    "acutely_ill",
    "infant",
    "healthy",
)


def _features(py: ir.Table) -> ir.Table:
    """One row per person of ``py`` (one year): the model's inputs."""
    columns: dict[str, ir.Value] = {
        "person_id": py.person_id,
        "lsoa21_code": py.lsoa21_code,
        "lad_code": py.lad_code,
        "age": py.age.cast("float64"),
        "male": (py.sex == "male").cast("float64"),
        "care_home": py.asc_setting.isin(["residential", "nursing"])
        .fill_null(False)
        .cast("float64"),
        "home_care": (py.asc_setting == "home_care").fill_null(False).cast("float64"),
        "died": py.died,
    }
    for condition in CONDITIONS:
        columns[f"has_{condition}"] = py[f"has_{condition}"].cast("float64")
    for service, cap in USE_CAPS.items():
        columns[f"used_{service}"] = ibis.least(py[service].cast("float64"), cap)
    return py.select(**columns)


def _year_frame(warehouse: Tables, year: str, outcome_year: str | None) -> pd.DataFrame:
    """Year ``year``'s people and, if given, whether each had an emergency admission in
    ``outcome_year`` (people who died in ``year`` have no next year and are left out)."""
    py = warehouse.table("person_year")
    this = _features(py.filter(py.year == year))
    lsoa = warehouse.table("lsoa").select("lsoa21_code", "msoa21_code", "imd_quintile")
    this = this.join(lsoa, "lsoa21_code")
    if outcome_year is not None:
        nxt = py.filter(py.year == outcome_year).select(
            next_id=py.person_id, admitted=(py.emergency_admissions > 0).cast("int64")
        )
        this = this.filter(~this.died).join(nxt, this.person_id == nxt.next_id)
    frame = warehouse.to_pandas(this.order_by("person_id"))
    for q in range(1, 6):
        frame[f"imd_q{q}"] = (frame["imd_quintile"] == q).astype(np.float64)
    return frame


def _columns() -> list[str]:
    return [
        "male",
        "care_home",
        "home_care",
        *(f"has_{c}" for c in CONDITIONS),
        *(f"used_{s}" for s in USE_CAPS),
        *(f"imd_q{q}" for q in range(1, 6)),
    ]


def _pipeline() -> Pipeline:
    return Pipeline(
        [
            (
                "features",
                ColumnTransformer(
                    [
                        ("age", SplineTransformer(n_knots=6, degree=3), ["age"]),
                        ("rest", StandardScaler(), _columns()),
                    ]
                ),
            ),
            ("model", LogisticRegression(max_iter=500, C=1.0)),
        ]
    )


@dataclass(frozen=True)
class Calibration:
    decile: int
    people: int
    predicted: float
    observed: float


@dataclass(frozen=True)
class RiskModel:
    """A fitted risk model and how well it did on data it was not fitted on."""

    pipeline: Pipeline
    fitted_on: str
    validated_on: str
    held_out_year: bool
    auroc: float
    calibration: tuple[Calibration, ...]
    base_rate: float

    def predict(self, frame: pd.DataFrame) -> Array:
        out: Array = self.pipeline.predict_proba(frame[["age", *_columns()]])[:, 1]
        return out


def _calibration(risk: Array, observed: Array) -> tuple[Calibration, ...]:
    order = np.argsort(risk, kind="stable")
    groups = np.array_split(order, 10)
    return tuple(
        Calibration(d + 1, len(g), float(risk[g].mean()), float(observed[g].mean()))
        for d, g in enumerate(groups)
        if len(g)
    )


def fit_risk_model(warehouse: Tables, seed: int = 42) -> RiskModel:
    """Fit on the earliest pair of consecutive years; validate on the next pair (a held-out
    year) or, with only two years, on held-out people."""
    years = model_years(warehouse)
    if len(years) < 2:
        raise AppraisalError(
            "risk needs two model years (this year's records, next year's admissions); "
            "build with --years 2 or more"
        )
    rng = np.random.default_rng(seed)
    if len(years) >= 3:
        train = _year_frame(warehouse, years[-3], years[-2])
        test = _year_frame(warehouse, years[-2], years[-1])
        fitted_on, validated_on, held_out_year = years[-3], years[-2], True
    else:
        both = _year_frame(warehouse, years[-2], years[-1])
        test_mask = rng.random(len(both)) < HOLD_OUT
        train, test = both[~test_mask], both[test_mask]
        fitted_on = validated_on = years[-2]
        held_out_year = False
    if train["admitted"].nunique() < 2 or test["admitted"].nunique() < 2:
        raise AppraisalError("too few admissions in the model to fit a risk model: build larger")
    if len(train) > MAX_FIT:
        train = train.iloc[np.sort(rng.choice(len(train), MAX_FIT, replace=False))]
    pipeline = _pipeline()
    pipeline.fit(train[["age", *_columns()]], train["admitted"].to_numpy())
    model = RiskModel(pipeline, fitted_on, validated_on, held_out_year, 0.0, (), 0.0)
    risk = model.predict(test)
    observed = test["admitted"].to_numpy(dtype=np.float64)
    return RiskModel(
        pipeline,
        fitted_on,
        validated_on,
        held_out_year,
        float(roc_auc_score(observed, risk)),
        _calibration(risk, observed),
        float(observed.mean()),
    )


def segment(frame: pd.DataFrame) -> pd.Series:
    """Each person's Bridges to Health segment, the first that applies."""
    conditions = frame[[f"has_{c}" for c in CONDITIONS]].to_numpy().astype(bool)
    any_condition = conditions.any(axis=1)
    rules = [
        frame["died"].to_numpy(dtype=bool),
        (frame["has_frailty"] + frame["has_dementia"] + frame["care_home"]).to_numpy() > 0,
        (frame["has_learning_disability"] + frame["has_smi"]).to_numpy() > 0,
        any_condition,
        frame["used_emergency_admissions"].to_numpy() > 0,
        frame["age"].to_numpy() < 1,
    ]
    labels = np.full(len(frame), "healthy", dtype=object)
    for name, rule in zip(reversed(SEGMENTS[:-1]), reversed(rules), strict=True):
        labels[rule] = name
    return pd.Series(labels, index=frame.index, name="segment")


def latest_people(warehouse: Tables) -> pd.DataFrame:
    """The model's last year's people, with their features."""
    return _year_frame(warehouse, model_years(warehouse)[-1], None)


def risk_scores(warehouse: Tables, year: str | None = None, seed: int = 42) -> pd.Series:
    """Each resident's predicted risk of an emergency admission in the year after ``year``
    (default the model's last), from their records in ``year``, by person id."""
    model = fit_risk_model(warehouse, seed)
    people = _year_frame(warehouse, year, None) if year else latest_people(warehouse)
    return pd.Series(model.predict(people), index=people["person_id"].to_numpy(), name="risk")
