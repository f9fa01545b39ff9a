"""Each intervention's cohort in the warehouse: how many people, where, how deprived, and how
much of each outcome they had in the model's last year (the baseline the effects act on)."""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pandas as pd

from carepool.errors import AppraisalError
from carepool.prevention.library import OUTCOMES, Cohort
from carepool.warehouse import Tables

Array = npt.NDArray[np.float64]
QUINTILES = 5


@dataclass(frozen=True)
class CohortCells:
    """A cohort by place (local authority) and IMD quintile (1 most deprived).

    ``people[p, q]`` is the number of people; ``events[p, q, o]`` their events of outcome
    ``OUTCOMES[o]`` in the year (council services counted only where the council funds the
    care, as the council's budget bears only those); ``nhs_partner[p]`` the ICB of place p.
    """

    #: the year whose outcomes are the baseline
    year: str
    places: tuple[str, ...]
    nhs_partner: tuple[str, ...]
    people: Array
    events: Array

    @property
    def size(self) -> int:
        return int(self.people.sum())

    def rates(self) -> Array:
        """Events per person in each cell (0 where the cell is empty)."""
        people = self.people[..., None]
        out: Array = np.divide(
            self.events, people, out=np.zeros_like(self.events), where=people > 0
        )
        return out


def _selected(py: ir.Table, cohort: Cohort) -> ir.Table:
    youngest, oldest = cohort.ages
    keep = (py.age >= youngest) & (py.age <= oldest)
    if cohort.sex != "any":
        keep &= py.sex == cohort.sex
    if cohort.conditions:
        keep &= ibis.or_(*(py[f"has_{c}"] for c in cohort.conditions))
    for flag in cohort.flags:
        keep &= py[flag].fill_null(False)
    for flag in cohort.not_flags:
        keep &= ~py[flag].fill_null(False)
    if cohort.care == "none":
        keep &= py.asc_setting.isnull()
    elif cohort.care == "home_care":
        keep &= py.asc_setting == "home_care"
    elif cohort.care == "care_home":
        keep &= py.asc_setting.isin(["residential", "nursing"])
    elif cohort.care == "not_care_home":
        keep &= ~py.asc_setting.isin(["residential", "nursing"]).fill_null(False)
    if cohort.min_emergency_admissions:
        keep &= py.emergency_admissions >= cohort.min_emergency_admissions
    return py.filter(keep)


def cohort_cells(
    warehouse: Tables,
    cohort: Cohort,
    year: str,
    risk: pd.Series | None = None,
    outcome_year: str | None = None,
) -> CohortCells:
    """The people of ``cohort`` in ``year`` of the model, and their outcomes, by place and
    quintile, in one engine query. ``risk`` (each resident's predicted risk, by person id, in
    ``year``) is needed when the cohort asks for a top share of risk.

    With ``outcome_year`` (the year after ``year``), the outcomes are the same people's in
    that year, where they then live: a cohort chosen for its admissions this year has fewer
    the next (regression to the mean), and it is next year's that an intervention can
    prevent. People who died in ``year`` are not in it."""
    py = warehouse.table("person_year")
    chosen = _selected(py.filter(py.year == year), cohort)
    if cohort.top_risk_share is not None:
        if risk is None or risk.empty:
            raise AppraisalError("a cohort by risk needs the risk model's scores")
        cut = float(np.quantile(risk.to_numpy(), 1.0 - cohort.top_risk_share))
        ids = pd.DataFrame({"risk_person": risk.index[risk.to_numpy() >= cut].astype("int64")})
        top = ibis.memtable(ids)
        chosen = chosen.filter(chosen.person_id.isin(top.risk_person))
    if outcome_year is not None:
        following = py.filter(py.year == outcome_year)
        chosen = following.filter(following.person_id.isin(chosen.person_id))
    lsoa = warehouse.table("lsoa").select("lsoa21_code", "imd_quintile", "icb_code")
    joined = chosen.join(lsoa, "lsoa21_code")
    council = joined.asc_funding == "council_funded"
    sums: dict[str, ir.Value] = {"people": joined.count()}
    for outcome in OUTCOMES:
        if outcome == "deaths":
            column: ir.IntegerValue = joined.died.cast("int64")
        else:
            column = joined[outcome].cast("int64")
        if outcome.startswith("asc_"):
            column = ibis.ifelse(council, column, 0)
        sums[outcome] = column.sum()
    grouped = joined.group_by(["lad_code", "icb_code", "imd_quintile"]).aggregate(**sums)
    frame = warehouse.to_pandas(grouped).sort_values(["lad_code", "imd_quintile"])
    places_frame = warehouse.to_pandas(
        warehouse.table("lsoa").select("lad_code", "icb_code").distinct().order_by("lad_code")
    )
    places = tuple(str(c) for c in places_frame["lad_code"])
    if len(set(places)) != len(places):
        raise AppraisalError("a local authority of the model lies in more than one ICB")
    index = {code: i for i, code in enumerate(places)}
    people = np.zeros((len(places), QUINTILES))
    events = np.zeros((len(places), QUINTILES, len(OUTCOMES)))
    p = frame["lad_code"].map(index).to_numpy(dtype=np.int64)
    q = frame["imd_quintile"].to_numpy(dtype=np.int64) - 1
    people[p, q] = frame["people"].to_numpy(dtype=np.float64)
    for o, outcome in enumerate(OUTCOMES):
        events[p, q, o] = frame[outcome].fillna(0).to_numpy(dtype=np.float64)
    return CohortCells(
        year=outcome_year or year,
        places=places,
        nhs_partner=tuple(str(c) for c in places_frame["icb_code"]),
        people=people,
        events=events,
    )
