"""Places by ONS code: combined authority -> local authorities -> MSOAs -> LSOAs (2021).

The model's geography is the 2021 LSOA: it is what Census 2021, the Indices of Deprivation 2025
and current NHS and ONS products use. Data published on 2011 LSOAs is mapped onto it by the ONS
change lookup (see :mod:`carepool.population.lsoa_change`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd
import pyarrow as pa

from carepool.errors import RegionError
from carepool.geography.footprints import Footprint
from carepool.geography.lookups import combined_authorities, lsoa_lookup
from carepool.geography.regions import Region
from carepool.reference import read_reference

#: The footprint kind of a whole region that is not a combined authority (an ICB, a region of
#: England, England): the region level's code and name.
WHOLE_REGION = "whole_region"

#: The deprivation vintage the model uses (2021 LSOAs).
IMD_VINTAGE = "IoD2025"


def area_name(lad_codes: Iterable[str]) -> str:
    """What to call a model of these local authorities: the combined authority's name when
    the model holds all of it (``Greater Manchester``); otherwise the authorities' names, and
    the combined authority they are part of (``Manchester and Trafford (part of Greater
    Manchester)``), so that a partial model is never taken for the whole."""
    codes = sorted(set(lad_codes))
    lookup = lsoa_lookup()
    names = dict(zip(lookup["lad24_code"], lookup["lad24_name"], strict=False))
    listed = [str(names.get(code, code)) for code in codes]
    own: str = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]
    ca = combined_authorities()
    mine = ca[ca["lad23_code"].isin(codes)]
    if mine.empty or mine["cauth23_code"].nunique() != 1:
        return own
    whole = ca[ca["cauth23_code"] == mine["cauth23_code"].iloc[0]]
    name = str(whole["cauth23_name"].iloc[0])
    if set(whole["lad23_code"]) <= set(codes):
        return name
    return f"{own} (part of {name})"


@dataclass(frozen=True)
class Geography:
    """The places of one region, with their codes, hierarchy and deprivation."""

    region: Region
    lsoas: pd.DataFrame = field(repr=False)
    combined_authority_name: str | None = None

    @classmethod
    def load(cls, region: Region) -> Geography:
        lookup = lsoa_lookup()
        if region.icb_code is not None:
            lookup = lookup[lookup["icb24_code"] == region.icb_code]
        lsoas = lookup[lookup["lad24_code"].isin(region.lad_codes)].rename(
            columns={"lad24_code": "lad_code", "lad24_name": "lad_name"}
        )
        imd = read_reference(
            "iod2025_lsoa21", columns=["lsoa21_code", "imd_score", "imd_rank", "imd_decile"]
        ).to_pandas()
        lsoas = lsoas.merge(imd, on="lsoa21_code", how="left", validate="one_to_one")
        missing = lsoas[lsoas["imd_decile"].isna()]["lsoa21_code"].tolist()
        if missing:
            raise RegionError(f"no {IMD_VINTAGE} deprivation for LSOAs {', '.join(missing[:5])}")
        lsoas["imd_decile"] = lsoas["imd_decile"].astype("int8")
        lsoas["imd_quintile"] = ((lsoas["imd_decile"] + 1) // 2).astype("int8")
        lsoas = lsoas.sort_values("lsoa21_code").reset_index(drop=True)
        ca_name = None
        if region.combined_authority_code is not None:
            ca = combined_authorities()
            ca_name = str(
                ca[ca["cauth23_code"] == region.combined_authority_code]["cauth23_name"].iloc[0]
            )
        return cls(region=region, lsoas=lsoas, combined_authority_name=ca_name)

    @cached_property
    def lads(self) -> pd.DataFrame:
        """One row per local authority: ``lad_code, lad_name``, in code order."""
        return (
            self.lsoas[["lad_code", "lad_name"]]
            .drop_duplicates()
            .sort_values("lad_code")
            .reset_index(drop=True)
        )

    @property
    def counts(self) -> dict[str, int]:
        return {
            "lad": int(self.lsoas["lad_code"].nunique()),
            "msoa": int(self.lsoas["msoa21_code"].nunique()),
            "lsoa": len(self.lsoas),
        }

    def lad_name(self, code: str) -> str:
        names = dict(zip(self.lads["lad_code"], self.lads["lad_name"], strict=True))
        return str(names[code])

    def footprints(self) -> list[Footprint]:
        """Every footprint of the region: administrative, statistical and NHS.

        Each is a weighted membership of 2021 LSOAs. Within this region they all nest (weight 1);
        footprints that do not nest, such as 2011 LSOAs, come with weights from their builders.
        """
        frames = [
            ("lad", "lad_code", "lad_name"),
            ("msoa", "msoa21_code", "msoa21_name"),
            ("ward", "ward24_code", "ward24_name"),
            ("sub_icb", "sicbl24_code", "sicbl24_code_nhs"),
            ("icb", "icb24_code", "icb24_name"),
        ]
        result: list[Footprint] = []
        everyone = tuple((code, 1.0) for code in self.lsoas["lsoa21_code"])
        if self.region.combined_authority_code is not None and self.combined_authority_name:
            result.append(
                Footprint(
                    kind="combined_authority",
                    code=self.region.combined_authority_code,
                    name=self.combined_authority_name,
                    members=everyone,
                )
            )
        elif self.region.code is not None:
            result.append(
                Footprint(
                    kind=WHOLE_REGION,
                    code=self.region.code,
                    name=self.region.name,
                    members=everyone,
                )
            )
        for kind, code_col, name_col in frames:
            for (code, name), group in self.lsoas.groupby([code_col, name_col], sort=True):
                result.append(
                    Footprint(
                        kind=kind,
                        code=str(code),
                        name=str(name),
                        members=tuple((lsoa, 1.0) for lsoa in group["lsoa21_code"]),
                    )
                )
        return result

    def places_table(self) -> pa.Table:
        """The nesting hierarchy as ``place_code, place_name, place_kind, parent_code``."""
        rows: list[tuple[str, str, str, str | None]] = []
        ca = self.region.combined_authority_code
        if ca is not None and self.combined_authority_name:
            rows.append((ca, self.combined_authority_name, "combined_authority", None))
        elif self.region.code is not None:
            ca = self.region.code
            rows.append((ca, self.region.name, self.region.kind, None))
        for lad in self.lads.itertuples(index=False):
            rows.append((str(lad.lad_code), str(lad.lad_name), "lad", ca))
        msoas = self.lsoas[["msoa21_code", "msoa21_name", "lad_code"]].drop_duplicates()
        for m in msoas.sort_values("msoa21_code").itertuples(index=False):
            rows.append((str(m.msoa21_code), str(m.msoa21_name), "msoa", str(m.lad_code)))
        for s in self.lsoas.itertuples(index=False):
            rows.append((str(s.lsoa21_code), str(s.lsoa21_name), "lsoa", str(s.msoa21_code)))
        codes, names, kinds, parents = (list(col) for col in zip(*rows, strict=True))
        return pa.table(
            {"place_code": codes, "place_name": names, "place_kind": kinds, "parent_code": parents}
        )
