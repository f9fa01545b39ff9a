"""The differencing audit on small random geographies: whatever the counts and however the
levels cross, no hidden count of 1-7 is left that linear programming can narrow, and the audit
only ever hides more than the rule's own suppression."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import highspy
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carepool.indicators import BY_ID, HES_RULE, attacker
from carepool.indicators.attacker import Attacker, Finding
from carepool.indicators.attacker_model import Geography
from carepool.indicators.differencing import _PERSISTENT, _Part, _to_hide, audit
from carepool.indicators.nesting import Nesting
from carepool.indicators.publish import keyed_counts, pattern
from tests.security.lp_attacker import narrowed, narrowed_proportion

INDICATOR = BY_ID["u75_mortality_all_causes"]
#: A proportion: its numerator counts some of its denominator's people in each LSOA.
PROPORTION = BY_ID["ld_health_checks"]


def _members(groupings: dict[str, list[int]]) -> pd.DataFrame:
    """Memberships of LSOAs L0.. in the region, themselves, and each grouping's places."""
    lsoas = len(next(iter(groupings.values())))
    frames = [
        pd.DataFrame({"level": "region", "place_code": "R", "lsoa21_code": range(lsoas)}),
        pd.DataFrame({"level": "lsoa", "place_code": range(lsoas), "lsoa21_code": range(lsoas)}),
    ]
    for level, group in groupings.items():
        frames.append(
            pd.DataFrame({"level": level, "place_code": group, "lsoa21_code": range(lsoas)})
        )
    members = pd.concat(frames, ignore_index=True)
    members["place_code"] = members["level"] + ":" + members["place_code"].astype(str)
    members["lsoa21_code"] = "lsoa:" + members["lsoa21_code"].astype(str)
    members.loc[members["level"] == "lsoa", "place_code"] = members["lsoa21_code"]
    members["place_name"] = members["place_code"]
    members["weight"] = 1.0
    return members


def _counts(
    members: pd.DataFrame, numerator: list[int], denominator: list[int], indicator: str = ""
) -> pd.DataFrame:
    """One table's counts at every place, from LSOA counts L0.. (``indicator``'s, by default
    deaths under 75)."""
    by_lsoa = pd.DataFrame(
        {
            "lsoa21_code": [f"lsoa:{i}" for i in range(len(numerator))],
            "numerator": numerator,
            "denominator": denominator,
        }
    )
    sums = members.merge(by_lsoa, on="lsoa21_code").groupby(["level", "place_code"], sort=False)
    totals = sums[["numerator", "denominator"]].sum().reset_index()
    return totals.assign(indicator=indicator or INDICATOR.id, year="2024-25").astype(
        {"numerator": float, "denominator": float}
    )


@st.composite
def geographies(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    lsoas = draw(st.integers(8, 24))
    group = st.lists(st.integers(0, 4), min_size=lsoas, max_size=lsoas)
    # neighbourhoods in order, and two groupings that cut across them (wards, deciles)
    msoa = sorted(draw(group))
    groupings = {"msoa": msoa, "ward": draw(group), "decile": draw(group)}
    deaths = draw(
        st.lists(st.sampled_from([0, 0, 1, 2, 3, 5, 7, 9, 12, 20]), min_size=lsoas, max_size=lsoas)
    )
    people = draw(st.lists(st.integers(40, 400), min_size=lsoas, max_size=lsoas))
    members = _members(groupings)
    return members, _counts(members, deaths, people)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(geographies())
def test_no_small_count_can_be_narrowed_after_the_audit(
    case: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    members, counts = case
    keyed, relations = keyed_counts(counts, [INDICATOR], members)
    result = audit(keyed, relations, members, HES_RULE)
    published = result.pattern
    columns = ["level", "place_code", "numerator", "suppressed"]
    truth = counts[["level", "place_code", "numerator"]]
    assert narrowed(published[columns], truth, members) == []
    # more hidden than by the rule alone, never less; and the record names exactly the extra
    rule_only = pattern(counts, [INDICATOR], members, HES_RULE)
    keys = ["level", "place_code"]
    both = rule_only.merge(published, on=keys, suffixes=("_rule", ""))
    assert (both["suppressed"] | ~both["suppressed_rule"]).all()
    added = both[both["suppressed"] & ~both["suppressed_rule"]]
    recorded = result.extra[result.extra["reason"] == "differencing"]
    assert set(added["place_code"]) == set(recorded["place_code"])
    assert result.report["hidden_by_audit"] == len(added)
    # the recorded cells, forced on the rule, give back the audited pattern exactly
    replayed = pattern(counts, [INDICATOR], members, HES_RULE, extra=result.extra)
    merged = replayed.merge(published, on=keys, suffixes=("_replayed", ""))
    assert np.array_equal(merged["suppressed_replayed"], merged["suppressed"])


def test_a_cell_still_bounded_after_a_few_rounds_has_every_binding_cell_hidden() -> None:
    """One cell at a time can take more rounds than the audit allows when a small count is
    held by a nest of totals (two boroughs at 2%, seed 3, once needed more than 200): a cell
    still bounded after a few rounds has every cell that binds it hidden at once."""
    quantity: Any = SimpleNamespace(
        name="deaths", published=np.array([5.0, 10.0, 15.0, 20.0]), tables=[("deaths", "2025")]
    )
    binding = [(quantity, 1), (quantity, 2), (quantity, 3)]
    finding = Finding(quantity, 0, 0.0, 4.0, binding)
    size = np.ones(4, dtype=np.int64)
    geography: Any = None
    first = _to_hide(finding, size, geography, rounds_found=1)
    assert first == [(quantity, 1)]  # the smallest published count that binds it
    assert _to_hide(finding, size, geography, rounds_found=_PERSISTENT) == binding


@st.composite
def council_geographies(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Neighbourhoods within three councils, wards that may straddle them, two ICBs that may
    cut them, and deciles that span them all, as a region's do; a proportion whose numerator
    is part of its denominator in each LSOA, both often small."""
    lsoas = draw(st.integers(9, 24))
    council = sorted(draw(st.lists(st.integers(0, 2), min_size=lsoas, max_size=lsoas)))
    group = st.lists(st.integers(0, 4), min_size=lsoas, max_size=lsoas)
    within = draw(st.lists(st.integers(0, 2), min_size=lsoas, max_size=lsoas))
    msoa = [10 * c + m for c, m in zip(council, within, strict=True)]
    icb = draw(st.lists(st.integers(0, 1), min_size=lsoas, max_size=lsoas))
    groupings = {
        "lad": council,
        "msoa": msoa,
        "ward": draw(group),
        "icb": icb,
        "decile": draw(group),
    }
    eligible = draw(
        st.lists(st.sampled_from([0, 1, 3, 5, 7, 9, 12, 20]), min_size=lsoas, max_size=lsoas)
    )
    share = draw(st.lists(st.floats(0, 1), min_size=lsoas, max_size=lsoas))
    done = [int(e * s) for e, s in zip(eligible, share, strict=True)]
    members = _members(groupings)
    return members, _counts(members, done, eligible, PROPORTION.id)


def _first_findings(
    members: pd.DataFrame, counts: pd.DataFrame, by_council: bool
) -> tuple[set[tuple[str, int, float, float]], int, int]:
    """The cells the attacker's first round finds bounded too tightly, with their bounds, and
    how many solves it made of one council at a time and of the whole (the numerator known
    to be part of the denominator)."""
    keyed, relations = keyed_counts(counts, [PROPORTION], members)
    geography = Geography.of(members)
    if not by_council:
        geography.__dict__["tiers"] = []  # the cached property, emptied
    part = _Part.of(
        keyed.reset_index(drop=True), relations, geography, HES_RULE, Nesting.of([PROPORTION])
    )
    found = {
        (finding.quantity.name, finding.slot, round(finding.low, 6), round(finding.high, 6))
        for finding in part.findings(set(part.pattern.tables), 0)
    }
    attacker = part.attacker
    return found, attacker.council_solves, attacker.solves


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(council_geographies())
def test_points_found_one_council_at_a_time_leave_open_exactly_what_the_whole_does(
    case: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    """The points found with everything outside a council (then an ICB) held at the truth
    are points of the whole programme, and the cells found there are bounded exactly so by
    the whole: the cells left bounded too tightly, and their bounds, are the same as when the
    whole programme solves every cell itself."""
    members, counts = case
    by_council, _, _ = _first_findings(members, counts, by_council=True)
    whole, council_solves, _ = _first_findings(members, counts, by_council=False)
    assert by_council == whole
    assert council_solves == 0


def test_the_audit_certifies_and_finds_council_by_council_where_the_places_are_councils() -> None:
    lsoas = 12
    groupings = {
        "lad": [0] * 6 + [1] * 6,
        "msoa": [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5],
        "decile": [i % 3 for i in range(lsoas)],
    }
    members = _members(groupings)
    eligible = [1, 3, 0, 9, 2, 12, 5, 0, 7, 20, 2, 3]
    counts = _counts(members, [e // 2 for e in eligible], eligible, PROPORTION.id)
    found, council_solves, whole_solves = _first_findings(members, counts, by_council=True)
    expected, _, alone = _first_findings(members, counts, by_council=False)
    assert found
    assert found == expected
    assert council_solves > 0
    assert whole_solves < alone  # cells found one council at a time need no whole solve
    keyed, relations = keyed_counts(counts, [PROPORTION], members)
    result = audit(keyed, relations, members, HES_RULE, Nesting.of([PROPORTION]))
    assert result.report["council_solves"] > 0
    assert result.report["taken_as_found"] == 0  # small enough to solve whole
    assert narrowed_proportion(result.pattern, counts, members) == []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(attacker, "WHOLE_LSOAS", 0)
        large = audit(keyed, relations, members, HES_RULE, Nesting.of([PROPORTION]))
    assert large.report["taken_as_found"] > 0
    assert narrowed_proportion(large.pattern, counts, members) == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(council_geographies())
def test_a_region_too_large_to_solve_whole_is_protected_as_its_areas_find_it(
    case: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    """Where the whole region is not solved (England), a cell its largest areas leave bounded
    too tightly is taken as found there: more may be hidden than the whole would need, and
    nothing is left that the independent attacker, given every published level, narrows."""
    members, counts = case
    keyed, relations = keyed_counts(counts, [PROPORTION], members)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(attacker, "WHOLE_LSOAS", 0)
        result = audit(keyed, relations, members, HES_RULE, Nesting.of([PROPORTION]))
    assert result.report["solves"] == 0  # the whole region was never solved
    assert narrowed_proportion(result.pattern, counts, members) == []


def test_a_push_the_interior_point_method_cannot_confirm_is_solved_again_by_simplex() -> None:
    """Without its crossover, HiGHS's interior point method can end a large model's solve
    not knowing whether its point is optimal; that solve is made again by simplex, and the
    options are put back for the next push."""

    class Solver:
        def __init__(self) -> None:
            self.options: dict[str, object] = {"solver": "ipm", "run_crossover": "off"}
            self.runs: list[str] = []

        def changeColsCost(self, *args: object) -> None: ...  # noqa: N802 (HiGHS's names)

        def changeObjectiveSense(self, sense: object) -> None: ...  # noqa: N802

        def getOptionValue(self, name: str) -> object:  # noqa: N802
            return self.options[name]

        def setOptionValue(self, name: str, value: object) -> None:  # noqa: N802
            self.options[name] = value

        def run(self) -> None:
            self.runs.append(str(self.options["solver"]))

        def getModelStatus(self) -> highspy.HighsModelStatus:  # noqa: N802
            if self.runs[-1] == "ipm":
                return highspy.HighsModelStatus.kUnknown
            return highspy.HighsModelStatus.kOptimal

    solver: Any = Solver()
    found = Attacker(Geography.of(_members({"msoa": [0, 1]})), HES_RULE)
    status = found._solve(solver, np.zeros(3), highspy.ObjSense.kMaximize)
    assert status == highspy.HighsModelStatus.kOptimal
    assert solver.runs == ["ipm", "simplex"]
    assert solver.options == {"solver": "ipm", "run_crossover": "off"}
