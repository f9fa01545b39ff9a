"""The indicator sums written in idiomatic pandas: the reference the engine is measured against.

Vectorised column arithmetic, merges and group-bys, no Python loops over rows — the way an
analyst would write it without a query engine. It re-implements every measure of
``carepool.indicators.measures`` from the columns, independently of the Ibis expressions, and
returns sums in the same shape as ``carepool.indicators.cube`` so that the same statistics
(``carepool.indicators.compute``) run on both and the results can be compared number for
number.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from carepool.ages import STANDARD
from carepool.indicators.measures import HOSPITAL_SERVICES, PRIMARY_COMMUNITY_SERVICES
from carepool.warehouse import table_path
from carepool.years import next_year, previous_year

CARE_HOME = ["residential", "nursing"]
PERSON_COLUMNS = [
    "person_id",
    "year",
    "age",
    "sex",
    "lsoa21_code",
    "days_alive",
    "died",
    "death_cause",
    "emergency_admissions",
    "ae_attendances",
    "delayed_discharge_days",
    "breast_screening_eligible",
    "breast_screening_covered",
    "cervical_screening_eligible",
    "cervical_screening_covered",
    "bowel_screening_eligible",
    "bowel_screening_covered",
    "cancer_diagnosed",
    "cancer_stage",
    "talking_therapies_referred",
    "talking_therapies_recovered",
    "ld_health_check",
    "asc_setting",
    "asc_funding",
    "asc_reablement_episodes",
]


def _next(year: pd.Series) -> pd.Series:
    return year.map({y: next_year(y) for y in year.unique()})


def _previous(year: pd.Series) -> pd.Series:
    return year.map({y: previous_year(y) for y in year.unique()})


def person_sums(warehouse_dir: Path, members: pd.DataFrame) -> pd.DataFrame:
    py = pd.read_parquet(table_path(warehouse_dir, "person_year"), columns=PERSON_COLUMNS)
    in_home = py["asc_setting"].isin(CARE_HOME)
    years = set(py["year"].unique())
    # council-supported care-home residents now who were not the year before (the same
    # algorithm as the engine's: a merge of this year's residents with last year's only)
    supported = in_home & (py["asc_funding"] == "council_funded")
    homes = py.loc[supported, ["person_id", "year"]]
    last_year = homes.assign(year=_next(homes["year"]), was_supported=True)
    homes = homes.merge(last_year, on=["person_id", "year"], how="left")
    was_supported = pd.Series(False, index=py.index)
    was_supported[supported] = homes["was_supported"].notna().to_numpy()
    known = _previous(py["year"]).isin(years)
    age = py["age"].astype(int)
    died = py["died"]
    reablement = (py["asc_reablement_episodes"] > 0) & (age >= 65)
    recovered = py["talking_therapies_recovered"]
    check = py["ld_health_check"]
    measures = pd.DataFrame(
        {
            "year": py["year"],
            "lsoa21_code": py["lsoa21_code"],
            "sex": py["sex"],
            "band": np.asarray(STANDARD.starts, dtype=np.int64)[STANDARD.index(age)],
            "days_alive": py["days_alive"].astype(np.int64),
            "deaths": died.astype(np.int64),
            "deaths_cancer": (died & (py["death_cause"] == "cancer")).astype(np.int64),
            "deaths_circulatory": (died & (py["death_cause"] == "circulatory")).astype(np.int64),
            "emergency_admissions": py["emergency_admissions"].astype(np.int64),
            "ae_attendances": py["ae_attendances"].astype(np.int64),
            "delayed_discharge_days": py["delayed_discharge_days"].astype(np.int64),
            **{
                f"{c}_squares": py[c].astype(np.int64) ** 2
                for c in ("emergency_admissions", "ae_attendances", "delayed_discharge_days")
            },
            **{
                f"{p}_screening_{s}": py[f"{p}_screening_{s}"].astype(np.int64)
                for p in ("breast", "cervical", "bowel")
                for s in ("eligible", "covered")
            },
            "cancers_staged": (py["cancer_diagnosed"] & py["cancer_stage"].notna()).astype(
                np.int64
            ),
            "cancers_stage_1_2": (py["cancer_diagnosed"] & (py["cancer_stage"] <= 2))
            .fillna(False)
            .astype(np.int64),
            "days_alive_18plus": np.where(age >= 18, py["days_alive"], 0).astype(np.int64),
            "talking_therapies_referred": (py["talking_therapies_referred"] & (age >= 18)).astype(
                np.int64
            ),
            "talking_therapies_completed": recovered.notna().astype(np.int64),
            "talking_therapies_recovered": recovered.fillna(False).astype(np.int64),
            "ld_health_checks_eligible": check.notna().astype(np.int64),
            "ld_health_checks_done": check.fillna(False).astype(np.int64),
            "has_previous_year": known.astype(np.int64),
            "care_home_admissions": (supported & known & ~was_supported).astype(np.int64),
            "reablement_clients": reablement.astype(np.int64),
            "reablement_at_home": (reablement & ~died & ~in_home).astype(np.int64),
            "care_home_residents": in_home.astype(np.int64),
            "care_home_self_funders": (in_home & (py["asc_funding"] == "self_funder")).astype(
                np.int64
            ),
        }
    )
    names = [c for c in measures.columns if c not in ("year", "lsoa21_code", "sex", "band")]
    by_lsoa = measures.groupby(["year", "lsoa21_code", "sex", "band"], as_index=False)[names].sum()
    return _rollup(by_lsoa, members, ["year", "sex", "band"], names)


def spend_sums(warehouse_dir: Path, members: pd.DataFrame) -> pd.DataFrame:
    cost = pd.read_parquet(table_path(warehouse_dir, "activity_cost"))
    public = cost["payer_kind"] != "self"
    closer = public & cost["service"].isin(PRIMARY_COMMUNITY_SERVICES)
    either = public & cost["service"].isin(PRIMARY_COMMUNITY_SERVICES + HOSPITAL_SERVICES)
    frame = pd.DataFrame(
        {
            "year": cost["year"],
            "lsoa21_code": cost["lsoa21_code"],
            "spend_primary_community": np.where(closer, cost["cost_pence"], 0),
            "spend_primary_community_hospital": np.where(either, cost["cost_pence"], 0),
        }
    )
    names = ["spend_primary_community", "spend_primary_community_hospital"]
    by_lsoa = frame.groupby(["year", "lsoa21_code"], as_index=False)[names].sum()
    return _rollup(by_lsoa, members, ["year"], names)


def _rollup(
    by_lsoa: pd.DataFrame, members: pd.DataFrame, keys: list[str], names: list[str]
) -> pd.DataFrame:
    joined = by_lsoa.merge(
        members[["level", "place_code", "lsoa21_code", "weight"]], on="lsoa21_code"
    )
    joined[names] = joined[names].astype(np.float64).mul(joined["weight"], axis=0)
    return joined.groupby(["level", "place_code", *keys], as_index=False)[names].sum()
