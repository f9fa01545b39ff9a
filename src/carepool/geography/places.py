"""Places by ONS code: combined authority -> local authorities -> MSOAs -> LSOAs (2021).

The model's geography is the 2021 LSOA: it is what Census 2021, the Indices of Deprivation 2025
and current NHS and ONS products use. Data published on 2011 LSOAs is mapped onto it by the ONS
change lookup (see :mod:`carepool.population.lsoa_change`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property

import pandas as pd
import pyarrow as pa

from carepool.errors import RegionError
from carepool.geography.codes import COMBINED_AUTHORITY_PREFIX, is_local_authority
from carepool.geography.footprints import Footprint
from carepool.reference import read_reference

#: Short names accepted by ``--region`` for combined authorities.
REGION_ALIASES = {"gm": "E47000001"}

#: The deprivation vintage the model uses (2021 LSOAs).
IMD_VINTAGE = "IoD2025"


@dataclass(frozen=True)
class Region:
    """The local authorities a model covers, and what to call them together."""

    spec: str
    name: str
    lad_codes: tuple[str, ...]
    combined_authority_code: str | None = None


#: The columns of the 2021 LSOA lookup: each LSOA's MSOA, ward, local authority, sub-ICB
#: location and ICB (2024 boundaries), with their names.
LOOKUP_COLUMNS = (
    "lsoa21_code",
    "lsoa21_name",
    "msoa21_code",
    "msoa21_name",
    "ward24_code",
    "ward24_name",
    "lad24_code",
    "lad24_name",
    "sicbl24_code",
    "sicbl24_code_nhs",
    "icb24_code",
    "icb24_name",
)


@cache
def _read_lsoa_lookup() -> pd.DataFrame:
    frame: pd.DataFrame = read_reference("lsoa21_lookup", columns=list(LOOKUP_COLUMNS)).to_pandas()
    return frame.sort_values("lsoa21_code").reset_index(drop=True)


def lsoa_lookup() -> pd.DataFrame:
    """Every 2021 LSOA in England with the places it lies in (:data:`LOOKUP_COLUMNS`), in
    ``lsoa21_code`` order: the one reader of the vendored lookup. A copy, so a caller may
    change it; the file itself is read once per process."""
    return _read_lsoa_lookup().copy()


def _combined_authorities() -> pd.DataFrame:
    frame: pd.DataFrame = read_reference("combined_authorities").to_pandas()
    return frame


def resolve_region(spec: str) -> Region:
    """Turn ``--region`` into a :class:`Region`.

    ``spec`` is ``gm`` (Greater Manchester), a combined authority code (``E47...``), or a
    comma-separated list of local authority codes (``E08000003,E08000009``).
    """
    text = spec.strip()
    if not text:
        raise RegionError("--region is empty; expected 'gm' or a comma-separated list of LA codes")
    ca = _combined_authorities()
    named = text if text.startswith(COMBINED_AUTHORITY_PREFIX) else None
    ca_code = REGION_ALIASES.get(text.lower(), named)
    if ca_code is not None:
        rows = ca[ca["cauth23_code"] == ca_code]
        if rows.empty:
            raise RegionError(f"--region {spec!r}: {ca_code} is not a known combined authority")
        return Region(
            spec=text.lower() if text.lower() in REGION_ALIASES else ca_code,
            name=str(rows["cauth23_name"].iloc[0]),
            lad_codes=tuple(sorted(rows["lad23_code"])),
            combined_authority_code=ca_code,
        )
    codes = [c.strip().upper() for c in text.split(",") if c.strip()]
    bad = [c for c in codes if not is_local_authority(c)]
    if bad:
        raise RegionError(
            f"--region {spec!r}: {', '.join(bad)} is not a local authority code "
            "(expected E06, E07, E08 or E09 followed by 6 digits), nor 'gm'"
        )
    lookup = lsoa_lookup()
    known = dict(zip(lookup["lad24_code"], lookup["lad24_name"], strict=False))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise RegionError(f"--region {spec!r}: no 2021 LSOAs are vendored for {', '.join(unknown)}")
    unique = tuple(sorted(set(codes)))
    cas = set(ca[ca["lad23_code"].isin(unique)]["cauth23_code"])
    name = (
        known[unique[0]]
        if len(unique) == 1
        else f"{len(unique)} local authorities ({', '.join(known[c] for c in unique)})"
    )
    return Region(
        spec=",".join(unique),
        name=name,
        lad_codes=unique,
        combined_authority_code=cas.pop() if len(cas) == 1 else None,
    )


@cache
def _england_places() -> dict[str, str]:
    lookup = lsoa_lookup()
    names: dict[str, str] = {}
    for kind in ("icb24", "sicbl24", "lad24", "ward24", "msoa21", "lsoa21"):
        name = f"{kind}_name" if f"{kind}_name" in lookup else f"{kind}_code"
        pairs = lookup[[f"{kind}_code", name]].drop_duplicates()
        codes = pairs.iloc[:, 0].astype(str).str.upper()
        names.update(zip(codes, pairs.iloc[:, 1].astype(str), strict=True))
    return names


def england_place_name(code: str) -> str | None:
    """The name of an English LSOA, MSOA, ward, local authority, sub-ICB or ICB with this code
    (any case), or None: so that a place outside a model is told apart from a mistyped one."""
    return _england_places().get(code.strip().upper())


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
    ca = _combined_authorities()
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
            ca = _combined_authorities()
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
        if self.region.combined_authority_code is not None and self.combined_authority_name:
            result.append(
                Footprint(
                    kind="combined_authority",
                    code=self.region.combined_authority_code,
                    name=self.combined_authority_name,
                    members=tuple((code, 1.0) for code in self.lsoas["lsoa21_code"]),
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
