"""The projection's starting point: the model's residents in its last year, by neighbourhood
(MSOA), sex and single year of age, as counts of real people (the model's people divided by its
scale), with the places above each neighbourhood."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from carepool.errors import ProjectionError
from carepool.projection.cohort import AGES
from carepool.warehouse import Tables

FloatArray = npt.NDArray[np.float64]
SEXES = ("female", "male")
#: The model's residents are Census 2021's (docs/data-card.md: fitted exactly to the census by
#: local authority, sex and single year of age, and carried through the model's years without
#: migration): the projection takes them as of the census and brings them forward to the
#: model's last year by its own method before it projects ahead.
CENSUS_YEAR = 2021


@dataclass(frozen=True)
class BasePopulation:
    """Residents at the start of the projection, ``(msoa, sex, age)``."""

    year: str  #: the model's year the residents are of (the projection starts after it)
    scale: float
    #: the calendar year whose census the residents are counted as (mid-year)
    census_year: int
    region_name: str
    msoa_codes: tuple[str, ...]
    msoa_names: tuple[str, ...]
    lad_codes: tuple[str, ...]
    lad_names: tuple[str, ...]
    icb_code: str
    #: each neighbourhood's local authority, an index into ``lad_codes``
    lad_of_msoa: npt.NDArray[np.int64]
    #: each neighbourhood's IMD quintile (1 most deprived): its residents' mean, rounded
    quintile_of_msoa: npt.NDArray[np.int64]
    population: FloatArray

    def by_lad(self) -> FloatArray:
        """The residents summed to local authorities, ``(lad, sex, age)``."""
        totals = np.zeros((len(self.lad_codes), 2, AGES))
        np.add.at(totals, self.lad_of_msoa, self.population)
        return totals


def base_population(warehouse: Tables) -> BasePopulation:
    """The residents alive at the start of the model's last year, counted by neighbourhood,
    sex and age (100 and over together), divided by the model's scale."""
    manifest = warehouse.manifest()
    years = list(manifest.get("years", []))
    if not years:
        raise ProjectionError("the warehouse records no model years; build the model again")
    year, scale = str(years[-1]), float(manifest.get("scale", 1.0))
    py = warehouse.table("person_year")
    lsoa = warehouse.table("lsoa")
    places = warehouse.to_pandas(
        lsoa.group_by(["msoa21_code", "msoa21_name", "lad_code", "lad_name", "icb_code"])
        .aggregate(
            lsoas=lsoa.count(),
            quintile=(lsoa.imd_quintile.cast("float64") * lsoa.residents).sum()
            / lsoa.residents.sum().nullif(0),
        )
        .order_by(["lad_code", "msoa21_code"])
    )
    icbs = sorted(set(places["icb_code"]))
    if len(icbs) != 1:
        raise ProjectionError(
            f"the model's places lie in {len(icbs)} ICBs ({', '.join(icbs)}); the projection "
            "needs one NHS partner"
        )
    joined = py.filter(py.year == year).join(
        lsoa.select("lsoa21_code", "msoa21_code"), "lsoa21_code"
    )
    counts = warehouse.to_pandas(
        joined.group_by(["msoa21_code", "sex", "age"]).aggregate(people=joined.count())
    )
    msoa_codes = tuple(str(c) for c in places["msoa21_code"])
    lad_codes = tuple(dict.fromkeys(str(c) for c in places["lad_code"]))
    lad_names = tuple(
        str(places.loc[places["lad_code"] == code, "lad_name"].iloc[0]) for code in lad_codes
    )
    msoa_index = {code: i for i, code in enumerate(msoa_codes)}
    population = np.zeros((len(msoa_codes), 2, AGES))
    np.add.at(
        population,
        (
            counts["msoa21_code"].map(msoa_index).to_numpy(dtype=np.int64),
            counts["sex"].map({s: i for i, s in enumerate(SEXES)}).to_numpy(dtype=np.int64),
            counts["age"].clip(upper=AGES - 1).to_numpy(dtype=np.int64),
        ),
        counts["people"].to_numpy(dtype=np.float64) / scale,
    )
    lad_index = {code: i for i, code in enumerate(lad_codes)}
    return BasePopulation(
        year=year,
        scale=scale,
        census_year=CENSUS_YEAR,
        region_name=str(manifest.get("region_name", "the model's region")),
        msoa_codes=msoa_codes,
        msoa_names=tuple(str(n) for n in places["msoa21_name"]),
        lad_codes=lad_codes,
        lad_names=lad_names,
        icb_code=icbs[0],
        lad_of_msoa=np.asarray(places["lad_code"].map(lad_index), dtype=np.int64),
        quintile_of_msoa=np.clip(
            np.rint(places["quintile"].fillna(3.0).to_numpy(dtype=np.float64)), 1, 5
        ).astype(np.int64),
        population=population,
    )
