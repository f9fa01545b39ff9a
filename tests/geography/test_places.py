from __future__ import annotations

import pytest

from carepool.errors import ConfigError, RegionError
from carepool.geography import (
    Footprint,
    Geography,
    area_name,
    england_place_name,
    memberships_table,
    resolve_region,
)

GM_LADS = tuple(f"E080000{n:02d}" for n in range(1, 11))


def test_gm_region_is_the_ten_boroughs_of_the_combined_authority() -> None:
    region = resolve_region("gm")
    assert region.lad_codes == GM_LADS
    assert region.combined_authority_code == "E47000001"
    assert region.name == "Greater Manchester"


def test_a_list_of_la_codes_is_a_region() -> None:
    region = resolve_region("E08000009, e08000003")
    assert region.lad_codes == ("E08000003", "E08000009")
    assert "Manchester" in region.name
    assert "Trafford" in region.name


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty"),
        ("X123", "not a region or council"),
        ("E54999999", "not a known integrated care board"),
        ("E12000010", "not a region of England"),
        ("E47999999", "not a known combined authority"),
        ("E08999999", "no 2021 LSOAs are vendored"),
    ],
)
def test_bad_regions_are_refused_with_a_reason(spec: str, message: str) -> None:
    with pytest.raises(RegionError, match=message):
        resolve_region(spec)


def test_gm_geography_has_the_published_counts() -> None:
    geo = Geography.load(resolve_region("gm"))
    assert geo.counts == {"lad": 10, "msoa": 353, "lsoa": 1702}
    # IoD2025: 392 of GM's 1,702 LSOAs are in England's most deprived decile.
    assert int((geo.lsoas["imd_decile"] == 1).sum()) == 392
    assert set(geo.lsoas["imd_quintile"]) == {1, 2, 3, 4, 5}


def test_places_nest_from_combined_authority_to_lsoa() -> None:
    geo = Geography.load(resolve_region("E08000009"))
    places = geo.places_table().to_pylist()
    by_code = {p["place_code"]: p for p in places}
    lsoa = next(p for p in places if p["place_kind"] == "lsoa")
    msoa = by_code[lsoa["parent_code"]]
    assert msoa["place_kind"] == "msoa"
    assert by_code[msoa["parent_code"]]["place_code"] == "E08000009"
    assert by_code["E08000009"]["parent_code"] == "E47000001"


def test_every_lsoa_belongs_wholly_to_one_authority_and_one_icb() -> None:
    geo = Geography.load(resolve_region("gm"))
    table = memberships_table(geo.footprints()).to_pandas()
    for kind in ("lad", "msoa", "icb", "sub_icb", "ward"):
        of_kind = table[table["footprint_kind"] == kind]
        assert of_kind.groupby("lsoa21_code")["weight"].sum().eq(1.0).all(), kind
    assert set(table[table["footprint_kind"] == "icb"]["footprint_code"]) == {"E54000057"}


def test_a_footprint_that_does_not_nest_counts_partial_members() -> None:
    neighbourhood = Footprint(
        kind="neighbourhood",
        code="N1",
        name="Old Trafford and parts of Gorse Hill",
        members=(("E01006074", 1.0), ("E01006075", 0.5)),
    )
    assert not neighbourhood.nests
    assert neighbourhood.weighted_sum({"E01006074": 1000, "E01006075": 1600}) == 1800


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ((), "no member"),
        ((("E02000001", 1.0),), "not a 2021 LSOA code"),
        ((("E01006074", 0.0),), "outside"),
        ((("E01006074", 1.5),), "outside"),
        ((("E01006074", 1.0), ("E01006074", 0.5)), "listed twice"),
    ],
)
def test_footprints_check_themselves_when_built(
    members: tuple[tuple[str, float], ...], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        Footprint(kind="x", code="X1", name="x", members=members)


def test_an_area_is_named_for_what_it_holds() -> None:
    gm = [f"E0800000{i}" for i in range(1, 10)] + ["E08000010"]
    assert area_name(gm) == "Greater Manchester"
    assert area_name(["E08000009", "E08000003"]) == (
        "Manchester and Trafford (part of Greater Manchester)"
    )
    assert area_name(["E08000009"]) == "Trafford (part of Greater Manchester)"


def test_a_place_anywhere_in_england_is_told_from_a_mistyped_one() -> None:
    assert england_place_name("e08000001") == "Bolton"
    assert england_place_name("E08999999") is None
