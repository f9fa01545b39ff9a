"""Regions by code: every kind ``--region`` accepts, and the catalogue ``carepool regions``
lists."""

from __future__ import annotations

import pytest

from carepool.geography import (
    ENGLAND_CODE,
    Geography,
    council_of_2024,
    lsoa_lookup,
    region_catalogue,
    resolve_region,
)

GM_LADS = tuple(f"E080000{n:02d}" for n in range(1, 11))


@pytest.mark.parametrize(
    ("spec", "kind", "code", "councils"),
    [
        ("gm", "combined_authority", "E47000001", 10),
        ("E47000004", "combined_authority", "E47000004", 6),  # Liverpool City Region
        ("E54000057", "icb", "E54000057", 10),  # NHS Greater Manchester
        ("E12000002", "region", "E12000002", 35),  # North West
        ("england", "england", ENGLAND_CODE, 296),
        ("E92000001", "england", ENGLAND_CODE, 296),
        ("E08000001", "councils", None, 1),
    ],
)
def test_every_kind_of_region_resolves_to_its_councils(
    spec: str, kind: str, code: str | None, councils: int
) -> None:
    region = resolve_region(spec)
    assert region.kind == kind
    assert region.code == code
    assert len(region.lad_codes) == councils
    assert list(region.lad_codes) == sorted(region.lad_codes)


def test_greater_manchesters_icb_is_its_ten_boroughs_and_knows_its_combined_authority() -> None:
    region = resolve_region("E54000057")
    assert region.lad_codes == GM_LADS
    assert region.combined_authority_code == "E47000001"
    assert Geography.load(region).counts == {"lad": 10, "msoa": 353, "lsoa": 1702}


def test_an_icb_keeps_only_its_own_lsoas_of_a_council_it_shares() -> None:
    lookup = lsoa_lookup()
    split = lookup.groupby("lad24_code")["icb24_code"].nunique()
    council = str(split[split > 1].index[0])
    icbs = sorted(set(lookup.loc[lookup["lad24_code"] == council, "icb24_code"]))
    halves = [Geography.load(resolve_region(icb)).lsoas for icb in icbs]
    mine = [set(h.loc[h["lad_code"] == council, "lsoa21_code"]) for h in halves]
    assert all(mine)
    assert set.union(*mine) == set(lookup.loc[lookup["lad24_code"] == council, "lsoa21_code"])
    assert sum(len(m) for m in mine) == len(set.union(*mine))  # no LSOA in two ICBs


def test_england_is_every_lsoa_once_and_its_regions_partition_it() -> None:
    england = Geography.load(resolve_region("england"))
    assert england.counts["lsoa"] == 33_755
    regions = region_catalogue()
    assert regions.loc[regions["kind"] == "region", "lsoas"].sum() == 33_755
    assert regions.loc[regions["kind"] == "icb", "lsoas"].sum() == 33_755
    assert regions.loc[regions["kind"] == "councils", "lsoas"].sum() == 33_755


def test_the_catalogue_names_each_kind_and_how_to_ask_for_it() -> None:
    regions = region_catalogue()
    counts = regions.groupby("kind").size().to_dict()
    assert counts == {
        "england": 1,
        "region": 9,
        "icb": 42,
        "combined_authority": 10,
        "councils": 296,
    }
    gm = regions[regions["code"] == "E47000001"].iloc[0]
    assert (gm["spec"], gm["councils"], gm["lsoas"]) == ("gm", 10, 1702)
    for spec in regions["spec"]:
        assert resolve_region(str(spec)).lad_codes  # every row can be built as listed


def test_councils_of_2021_carry_onto_the_councils_of_2024() -> None:
    successor = council_of_2024()
    assert len(successor) == 309
    assert len(set(successor.values())) == 296
    assert successor["E07000026"] == "E06000063"  # Allerdale -> Cumberland
    assert successor["E07000163"] == "E06000065"  # Craven -> North Yorkshire
    assert successor["E07000246"] == "E06000066"  # Somerset West and Taunton -> Somerset
    assert successor["E08000003"] == "E08000003"
    assert successor["E06000062"] == "E06000062"  # one boundary LSOA does not move a council


def test_an_icb_is_published_as_its_combined_authority_only_when_it_is_all_of_it() -> None:
    # Birmingham and Solihull ICB holds two of the West Midlands' seven councils
    assert resolve_region("E54000055").combined_authority_code is None
    assert resolve_region("E54000057").combined_authority_code == "E47000001"
