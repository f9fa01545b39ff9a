"""Regions a model can be built for: a combined authority, an ICB, an English region, a list
of councils, or England.

Every region is a set of councils, each built as a partition of its own. An ICB is the one
kind whose edge may cut a council: 13 councils lie in two or three ICBs (2024), so an ICB's
region keeps only its own LSOAs (:attr:`Region.icb_code`) and a council it shares is built
for its part alone.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Final, Literal

import pandas as pd

from carepool.errors import RegionError
from carepool.geography.codes import COMBINED_AUTHORITY_PREFIX, ICB_PREFIX, is_local_authority
from carepool.geography.lookups import combined_authorities, lsoa_lookup

#: Short names accepted by ``--region``.
REGION_ALIASES: Final = {"gm": "E47000001"}
ENGLAND: Final = "england"
ENGLAND_CODE: Final = "E92000001"
#: English regions (formerly government office regions).
REGION_PREFIX: Final = "E12"

RegionKind = Literal["combined_authority", "icb", "region", "england", "councils"]
#: The kinds in the order ``carepool regions`` lists them.
REGION_KINDS: Final[tuple[RegionKind, ...]] = (
    "england",
    "region",
    "icb",
    "combined_authority",
    "councils",
)
_KIND_WORDS: Final = {
    "combined_authority": "combined authority",
    "icb": "integrated care board",
    "region": "region of England",
    "england": "country",
    "councils": "council",
}


@dataclass(frozen=True)
class Region:
    """The councils a model covers, and what to call them together.

    ``code`` is the GSS code of the whole (``E47...``, ``E54...``, ``E12...``, ``E92000001``)
    where it is one entity, None for a list of councils. ``icb_code`` keeps only the LSOAs of
    that ICB (an ICB's region); otherwise every LSOA of every council is in.
    """

    spec: str
    name: str
    lad_codes: tuple[str, ...]
    combined_authority_code: str | None = None
    kind: RegionKind = "councils"
    code: str | None = None
    icb_code: str | None = None

    @property
    def kind_words(self) -> str:
        return _KIND_WORDS[self.kind]


def _expected() -> str:
    return (
        "expected 'gm', 'england', a combined authority (E47...), an integrated care board "
        "(E54...), a region (E12...), or council codes (E06, E07, E08 or E09 and 6 digits, "
        "comma-separated)"
    )


def resolve_region(spec: str) -> Region:
    """Turn ``--region`` into a :class:`Region`; a :class:`RegionError` says what is wrong
    and what is accepted (``carepool regions`` lists every region by name)."""
    text = spec.strip()
    if not text:
        raise RegionError(f"--region is empty; {_expected()}")
    lowered = text.lower()
    if lowered == ENGLAND or text.upper() == ENGLAND_CODE:
        return _england()
    code = REGION_ALIASES.get(lowered, text.upper())
    if code.startswith(COMBINED_AUTHORITY_PREFIX):
        return _combined_authority(spec, code, alias=lowered if lowered in REGION_ALIASES else None)
    if code.startswith(ICB_PREFIX):
        return _icb(spec, code)
    if code.startswith(REGION_PREFIX):
        return _english_region(spec, code)
    return _councils(spec, text)


def _england() -> Region:
    lookup = lsoa_lookup()
    return Region(
        spec=ENGLAND,
        name="England",
        lad_codes=tuple(sorted(set(lookup["lad24_code"].astype(str)))),
        kind="england",
        code=ENGLAND_CODE,
    )


def _combined_authority(spec: str, code: str, alias: str | None) -> Region:
    ca = combined_authorities()
    rows = ca[ca["cauth23_code"] == code]
    if rows.empty:
        raise RegionError(
            f"--region {spec!r}: {code} is not a known combined authority; "
            "`carepool regions --kind combined_authority` lists them"
        )
    return Region(
        spec=alias or code,
        name=str(rows["cauth23_name"].iloc[0]),
        lad_codes=tuple(sorted(rows["lad23_code"].astype(str))),
        combined_authority_code=code,
        kind="combined_authority",
        code=code,
    )


def _lsoas_where(
    lookup: pd.DataFrame, column: str, code: str, spec: str, expected: str
) -> pd.DataFrame:
    """The LSOA lookup's rows whose ``column`` is ``code``; a clear error saying what ``code``
    is not (``expected``) when there are none."""
    rows = lookup[lookup[column] == code]
    if rows.empty:
        raise RegionError(f"--region {spec!r}: {code} is not {expected}")
    return rows


def _icb(spec: str, code: str) -> Region:
    lookup = lsoa_lookup()
    rows = _lsoas_where(
        lookup,
        "icb24_code",
        code,
        spec,
        "a known integrated care board (2024); `carepool regions --kind icb` lists them",
    )
    councils = set(rows["lad24_code"].astype(str))
    cut = (lookup["lad24_code"].isin(councils) & (lookup["icb24_code"] != code)).any()
    # the ICB is its combined authority only when it is all of it, and cuts none of its councils
    ca = None if cut else _one_combined_authority(rows["lad24_code"], whole=True)
    return Region(
        spec=code,
        name=str(rows["icb24_name"].iloc[0]),
        lad_codes=tuple(sorted(councils)),
        combined_authority_code=ca,
        kind="icb",
        code=code,
        icb_code=code,
    )


def _english_region(spec: str, code: str) -> Region:
    rows = _lsoas_where(
        lsoa_lookup(),
        "region24_code",
        code,
        spec,
        "a region of England (E12000001 to E12000009); `carepool regions --kind region` lists them",
    )
    return Region(
        spec=code,
        name=str(rows["region24_name"].iloc[0]),
        lad_codes=tuple(sorted(set(rows["lad24_code"].astype(str)))),
        kind="region",
        code=code,
    )


def english_region_of(lad_code: str) -> Region | None:
    """The region of England (E12) a council of 2024 lies in, or None for a code that is
    not one."""
    code = _region_of_council().get(lad_code)
    return None if code is None else _english_region_named(code)


@functools.cache
def _english_region_named(code: str) -> Region:
    """Each of the nine regions found once: validating England asks for each council's."""
    return _english_region(code, code)


@functools.cache
def _region_of_council() -> dict[str, str]:
    lookup = lsoa_lookup().drop_duplicates("lad24_code")
    return dict(zip(lookup["lad24_code"], lookup["region24_code"], strict=True))


def _councils(spec: str, text: str) -> Region:
    codes = [c.strip().upper() for c in text.split(",") if c.strip()]
    bad = [c for c in codes if not is_local_authority(c)]
    if bad or not codes:
        shown = ", ".join(bad) if bad else repr(text)
        raise RegionError(f"--region {spec!r}: {shown} is not a region or council; {_expected()}")
    lookup = lsoa_lookup()
    known = dict(zip(lookup["lad24_code"], lookup["lad24_name"], strict=False))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise RegionError(
            f"--region {spec!r}: no 2021 LSOAs are vendored for {', '.join(unknown)} (councils "
            "are known by their 2024 codes; `carepool regions --kind council` lists them)"
        )
    unique = tuple(sorted(set(codes)))
    name = (
        known[unique[0]]
        if len(unique) == 1
        else f"{len(unique)} local authorities ({', '.join(known[c] for c in unique)})"
    )
    return Region(
        spec=",".join(unique),
        name=name,
        lad_codes=unique,
        combined_authority_code=_one_combined_authority(pd.Series(unique)),
    )


def _one_combined_authority(lad_codes: pd.Series, whole: bool = False) -> str | None:
    """The combined authority these councils lie in, when they all lie in one (``whole``:
    and are all of it)."""
    ca = combined_authorities()
    codes = set(lad_codes.astype(str))
    mine = ca[ca["lad23_code"].isin(codes)]
    cas = set(mine["cauth23_code"].astype(str))
    if len(cas) != 1 or set(mine["lad23_code"]) != codes:
        return None
    code = cas.pop()
    members = set(ca.loc[ca["cauth23_code"] == code, "lad23_code"].astype(str))
    return code if not whole or members == codes else None


def region_catalogue() -> pd.DataFrame:
    """Every region that can be named to ``--region``, one row each: ``kind, code, name,
    councils, lsoas`` (an ICB counts the LSOAs it holds; a council is its own row), in the
    order of :data:`REGION_KINDS` and then by code."""
    lookup = lsoa_lookup()
    rows: list[dict[str, object]] = [
        {
            "kind": "england",
            "code": ENGLAND_CODE,
            "spec": ENGLAND,
            "name": "England",
            "councils": int(lookup["lad24_code"].nunique()),
            "lsoas": len(lookup),
        }
    ]
    for kind, column, name in (
        ("region", "region24_code", "region24_name"),
        ("icb", "icb24_code", "icb24_name"),
        ("councils", "lad24_code", "lad24_name"),
    ):
        grouped = (
            lookup.groupby([column, name], sort=True)
            .agg(councils=("lad24_code", "nunique"), lsoas=("lsoa21_code", "size"))
            .reset_index()
        )
        for code, label, councils, lsoas in grouped.itertuples(index=False):
            rows.append(
                {
                    "kind": kind,
                    "code": str(code),
                    "spec": str(code),
                    "name": str(label),
                    "councils": int(councils),
                    "lsoas": int(lsoas),
                }
            )
    ca = combined_authorities()
    lsoas = lookup.groupby("lad24_code").size()
    for (code, label), group in ca.groupby(["cauth23_code", "cauth23_name"], sort=True):
        alias = next((a for a, c in REGION_ALIASES.items() if c == code), str(code))
        rows.append(
            {
                "kind": "combined_authority",
                "code": str(code),
                "spec": alias,
                "name": str(label),
                "councils": int(group["lad23_code"].nunique()),
                "lsoas": int(lsoas.reindex(group["lad23_code"]).fillna(0).sum()),
            }
        )
    frame = pd.DataFrame(rows)
    frame["order"] = frame["kind"].map({k: i for i, k in enumerate(REGION_KINDS)})
    frame = frame.sort_values(["order", "code"], kind="stable").drop(columns="order")
    return frame.reset_index(drop=True)
