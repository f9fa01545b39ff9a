"""The generator's arrays as warehouse rows: people, person-years, and activity and money by
LSOA, service and payer (summed to the penny), with every column in its declared type."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from carepool.population.generator import Cohort, YearResult
from carepool.population.parameters import (
    ACTIVITY_UNITS,
    CONDITION_USE_WEIGHTS,
    SERVICE_COSTS,
    Parameters,
)
from carepool.warehouse import (
    ASC_FUNDING,
    ASC_SETTINGS,
    PERSON_YEAR,
    SELF_PAYER,
    SEXES,
    TABLES,
    Column,
    Kind,
)
from carepool.years import financial_year

NHS_SERVICES = (*CONDITION_USE_WEIGHTS, "talking_therapies_contacts")
COUNCIL_SERVICES = (
    "asc_home_care_hours",
    "asc_residential_weeks",
    "asc_nursing_weeks",
    "asc_reablement_episodes",
)
#: The care setting whose client contributions are charged against each council service.
SETTING_OF_SERVICE = {
    "asc_home_care_hours": "home_care",
    "asc_residential_weeks": "residential",
    "asc_nursing_weeks": "nursing",
}


def _strings(codes: list[str], index: npt.NDArray[np.int32]) -> pa.Array:
    return pa.DictionaryArray.from_arrays(
        pa.array(index, type=pa.int32()), pa.array(codes, type=pa.string())
    ).cast(pa.string())


def _arrow_column(column: Column, values: np.ndarray) -> pa.Array:
    """One generator array as an Arrow column of the declared type.

    Categories arrive as integer codes into ``column.categories`` (-1 for none), optional
    values as numpy masked arrays, dates as ``datetime64`` with NaT for none.
    """
    if column.kind == Kind.CATEGORY:
        codes = values.astype(np.int32)
        indices = pa.array(codes, type=pa.int32(), mask=codes < 0)
        dictionary = pa.array(list(column.categories), type=pa.string())
        return pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())
    if isinstance(values, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(values)
        return pa.array(
            values.filled(0).astype(column.type.to_pandas_dtype()), type=column.type, mask=mask
        )
    if np.issubdtype(values.dtype, np.datetime64):
        return pa.array(values.astype("datetime64[D]"), type=pa.date32(), mask=np.isnat(values))
    return pa.array(values.astype(column.type.to_pandas_dtype(), copy=False), type=column.type)


def person_year_table(
    result: YearResult, cohort: Cohort, codes: list[str], lad_of_lsoa: list[str]
) -> pa.Table:
    rows = result.rows
    lsoa_idx = cohort.lsoa[rows]
    lad_codes = sorted(set(lad_of_lsoa))
    lad_pos = {c: i for i, c in enumerate(lad_codes)}
    lad_idx = np.array([lad_pos[c] for c in lad_of_lsoa], dtype=np.int32)[lsoa_idx]
    cols = result.columns
    arrays: dict[str, pa.Array] = {
        "person_id": pa.array(cohort.person_id[rows]),
        "year": pa.array(np.full(rows.size, result.year, dtype=object), type=pa.string()),
        "lsoa21_code": _strings(codes, lsoa_idx),
        "lad_code": _strings(lad_codes, lad_idx),
    }
    for column in PERSON_YEAR.columns:
        if column.name not in arrays:
            arrays[column.name] = _arrow_column(column, cols[column.name])
    return pa.table(arrays)


def activity_cost_table(
    result: YearResult,
    cohort: Cohort,
    codes: list[str],
    lad_of_lsoa: list[str],
    icb_of_lsoa: list[str],
    params: Parameters,
) -> pa.Table:
    """Aggregate one year's activity and money by LSOA, service and payer, to the penny."""
    lsoa_idx = cohort.lsoa[result.rows]
    cols = result.columns
    n_lsoa = len(codes)
    out: dict[str, list[Any]] = {k: [] for k in TABLES["activity_cost"].names}

    def add(
        service: str, kind: str, payer: list[str], activity: np.ndarray, cost: np.ndarray
    ) -> None:
        act = np.bincount(lsoa_idx, weights=activity, minlength=n_lsoa).round().astype(np.int64)
        money = np.bincount(lsoa_idx, weights=cost, minlength=n_lsoa).round().astype(np.int64)
        keep = np.nonzero((act != 0) | (money != 0))[0]
        for i in keep:
            out["year"].append(result.year)
            out["lsoa21_code"].append(codes[i])
            out["lad_code"].append(lad_of_lsoa[i])
            out["service"].append(service)
            out["payer_kind"].append(kind)
            out["payer_code"].append(payer[i])
            out["activity"].append(int(act[i]))
            out["cost_pence"].append(int(money[i]))

    price = params.unit_cost_pence
    for service in NHS_SERVICES:
        count = cols[service].astype(np.float64)
        add(service, "nhs", icb_of_lsoa, count, count * price[service])
    funding = cols["asc_funding"]
    council = funding == ASC_FUNDING.index("council_funded")
    self_funder = funding == ASC_FUNDING.index("self_funder")
    contribution = cols["asc_client_contribution_pence"].astype(np.float64)
    for service in COUNCIL_SERVICES:
        qty = cols[service].astype(np.float64)
        if service not in SETTING_OF_SERVICE:  # reablement: free to the client
            add(service, "council", lad_of_lsoa, qty, qty * price[service])
            continue
        is_service = cols["asc_setting"] == ASC_SETTINGS.index(SETTING_OF_SERVICE[service])
        paid = np.where(is_service & council, contribution, 0.0)
        gross = np.where(council, qty * price[service], 0.0)
        add(service, "council", lad_of_lsoa, np.where(council, qty, 0.0), gross - paid)
        self_price = price.get(f"self:{service}", price[service])
        own = np.where(self_funder, qty * self_price, 0.0)
        add(service, "self", [SELF_PAYER] * n_lsoa, np.where(self_funder, qty, 0.0), own + paid)
    return pa.table(out)


def services_table(params: Parameters) -> pa.Table:
    rows: dict[str, list[Any]] = {k: [] for k in TABLES["services"].names}
    for service, (_, kind) in SERVICE_COSTS.items():
        rows["service"].append(service)
        rows["activity_unit"].append(ACTIVITY_UNITS[service])
        rows["unit_cost_pence"].append(params.unit_cost_pence[service])
        rows["payer_kind"].append(kind)
        rows["price_year"].append("2024-25")
        rows["source"].append(params.unit_cost_source[service])
    return pa.table(rows)


def residents_table(
    cohort: Cohort, codes: list[str], lad_of_lsoa: list[str], nhs_number: npt.NDArray[np.str_]
) -> pa.Table:
    """Everyone ever in the model; ``nhs_number`` holds each one's number, in cohort order."""
    lad_codes = sorted(set(lad_of_lsoa))
    lad_pos = {c: i for i, c in enumerate(lad_codes)}
    lad_idx = np.array([lad_pos[c] for c in lad_of_lsoa], dtype=np.int32)[cohort.lsoa]
    first = [financial_year(int(y)) for y in np.unique(cohort.first_year)]
    first_idx = np.searchsorted(np.unique(cohort.first_year), cohort.first_year).astype(np.int32)
    return pa.table(
        {
            "person_id": pa.array(cohort.person_id),
            "nhs_number": pa.array(nhs_number, type=pa.string()),
            "sex": _strings(list(SEXES), cohort.sex.astype(np.int32)),
            "date_of_birth": pa.array(cohort.birth_date.astype("datetime64[D]"), type=pa.date32()),
            "lsoa21_code": _strings(codes, cohort.lsoa),
            "lad_code": _strings(lad_codes, lad_idx),
            "first_year": _strings(first, first_idx),
        }
    )
