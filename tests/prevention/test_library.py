"""The intervention library: the default is complete and sourced; bad input is named."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from carepool.errors import AppraisalError
from carepool.prevention import OUTCOMES, default_library_text, load_library, parse_library

GOOD = """
[[intervention]]
id = "walks"
name = "Walking groups"
delivered_by = "council"
cohort = { ages = [65, 120] }
uptake = { value = 0.2, low = 0.1, high = 0.3, dist = "beta", source = "a test" }
success = { value = 0.5, source = "a test" }
drop_off = { value = 0.3, source = "a test" }
costs = [{ payer = "council", per_participant = [50.0], source = "a test" }]
effects = [{ outcome = "gp_appointments", rate_ratio = { value = 0.9, source = "a test" } }]
qalys_per_success_year = { value = 0.01, source = "a test" }
"""


def test_the_default_library_has_ten_sourced_interventions() -> None:
    library = load_library()
    assert len(library) >= 10
    raw = tomllib.loads(default_library_text())
    for item in raw["intervention"]:
        for figure in ("uptake", "success", "drop_off", "qalys_per_success_year"):
            assert len(item[figure]["source"]) > 3, (item["id"], figure)
        for effect in item["effects"]:
            assert effect["outcome"] in OUTCOMES
            assert effect["rate_ratio"]["source"]
        assert all(cost["source"] for cost in item["costs"])


def test_a_users_file_adds_to_the_library_and_replaces_by_id(tmp_path: Path) -> None:
    extra = tmp_path / "mine.toml"
    extra.write_text(GOOD + GOOD.replace('"walks"', '"falls_prevention"'))
    library = {i.id: i for i in load_library([extra])}
    assert "walks" in library
    assert library["falls_prevention"].name == "Walking groups"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('outcome = "gp_appointments"', 'outcome = "happiness"'),
            "intervention walks, field effects.0",
        ),
        (("per_participant = [50.0]", "per_participant = [-50.0]"), "greater than or equal to 0"),
        (("value = 0.2, low = 0.1", "value = 1.2, low = 0.1"), "intervention walks, field uptake"),
        (('payer = "council"', 'payer = "police"'), "field costs.0.payer"),
        (("ages = [65, 120]", "ages = [80, 65]"), "ages: expected [youngest, oldest]"),
        (
            ("cohort = { ages = [65, 120] }", 'cohort = { conditions = ["gout"] }'),
            "unknown ['gout']",
        ),
        (('id = "walks"', 'id = "Walks; DROP TABLE"'), "field id"),
    ],
)
def test_bad_input_names_the_file_the_intervention_and_the_field(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace(*change))
    with pytest.raises(AppraisalError) as caught:
        load_library([bad], default=False)
    assert str(bad) in str(caught.value)
    assert message in str(caught.value)


def test_a_repeated_id_or_broken_toml_is_refused() -> None:
    with pytest.raises(AppraisalError, match="more than once"):
        parse_library(GOOD + GOOD, "two.toml")
    with pytest.raises(AppraisalError, match="not valid TOML"):
        parse_library("[[intervention]\n", "broken.toml")
    with pytest.raises(AppraisalError, match="larger than"):
        parse_library("#" * 2_000_000, "huge.toml")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("qalys_per_success_year = { value = 0.01", "qalys_per_success_year = { value = nan"),
            "finite",
        ),
        (
            ("qalys_per_success_year = { value = 0.01", "qalys_per_success_year = { value = 1e6"),
            "-1 to 1",
        ),
        (
            (
                'rate_ratio = { value = 0.9, source = "a test" }',
                'rate_ratio = { value = 0.5, low = 0.0, high = 1.0, dist = "normal", '
                'source = "test" }',
            ),
            "ratio above 0",
        ),
        (("rate_ratio = { value = 0.9,", "rate_ratio = { value = inf,"), "finite"),
        (("per_participant = [50.0]", 'per_participant = ["50"]'), "valid number"),
        (
            ("cohort = { ages = [65, 120] }", 'cohort = { conditions = ["frailty", "frailty"] }'),
            "given twice",
        ),
        (
            ("cohort = { ages = [65, 120] }", "cohort = { top_risk_share = 0.00001 }"),
            "top_risk_share",
        ),
        (
            (
                "costs = [",
                'costs = [{ payer = "council", per_participant = [9.0], source = "twice" }, ',
            ),
            "one line per payer",
        ),
        (
            (
                'success = { value = 0.5, source = "a test" }',
                'success = { value = 0.5, source = "a test" }\ncost_grade = true',
            ),
            "valid integer",
        ),
    ],
)
def test_hostile_numbers_in_a_library_are_refused(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace(*change))
    with pytest.raises(AppraisalError) as caught:
        load_library([bad], default=False)
    assert message in str(caught.value), str(caught.value)


def test_hostile_files_are_refused_without_a_traceback_or_a_hang(tmp_path: Path) -> None:
    cases = {
        "latin1.toml": b'name = "caf\xe9"\n',
        "deep.toml": b"x = " + b"[" * 5_000 + b"]" * 5_000 + b"\n",
        "digits.toml": b"x = " + b"9" * 5_000 + b"\n",
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(AppraisalError, match=str(path)):
            load_library([path], default=False)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for path in (tmp_path, fifo, Path("/dev/zero")):
        with pytest.raises(AppraisalError, match="not a file"):
            load_library([path], default=False)
