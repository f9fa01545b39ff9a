"""The differencing audit's record: made by a build and by a load, committed with the tables it
audited, used only for the counts it audited under the rule it applied."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any
from unittest import mock

import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from carepool.indicators import HES_RULE, INDICATORS, DisclosureRule, Method, indicator_table
from carepool.indicators import record as record_module
from carepool.model import build_model, load_extract
from carepool.population import BuildRequest
from carepool.warehouse import connect, load_file, read_manifest, read_warehouse_table, table_path

TRAFFORD = BuildRequest(region="E08000009", scale=0.01, seed=3)
COUNTED = [i.id for i in INDICATORS if i.method is not Method.SHARE_OF_SPEND]


@pytest.fixture
def built(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse"
    build_model(TRAFFORD, path)
    return path


def _no_live_audit() -> contextlib.AbstractContextManager[mock.MagicMock]:
    """Fails a published table that runs the audit rather than use the record."""
    return mock.patch.object(
        record_module, "audit_warehouse", side_effect=AssertionError("audited again")
    )


def _recorded(path: Path) -> pd.DataFrame:
    frame: pd.DataFrame = pq.read_table(table_path(path, "disclosure")).to_pandas()
    return frame


def test_a_build_records_the_audit_of_every_table(built: Path) -> None:
    manifest = read_manifest(built)
    report = manifest["disclosure"]
    assert report["rule"] == HES_RULE.name
    assert report["protection"] == HES_RULE.largest_suppressed - HES_RULE.smallest
    assert report["sensitive_cells"] > 0
    assert report["seconds"] >= 0
    with connect(warehouse_dir=built) as wh:
        published = indicator_table(wh, levels=["lsoa"], rule=None)
    tables = {f"{i}/{y}" for i, y in zip(published["indicator"], published["period"], strict=True)}
    assert set(report["counts"]) == {t for t in tables if t.split("/")[0] in COUNTED}
    extra = _recorded(built)
    assert manifest["tables"]["disclosure"]["rows"] == len(extra)
    assert (extra["reason"] == "differencing").sum() == report["hidden_by_audit"]
    assert set(extra["reason"]) <= {"secondary", "differencing"}


def test_published_tables_use_the_record_and_match_a_fresh_audit(built: Path) -> None:
    with connect(warehouse_dir=built) as wh:
        fresh = record_module.audit_warehouse(wh)
        with _no_live_audit():
            published = indicator_table(wh, levels=["lsoa", "msoa", "ward", "lsoa11"])
    keys = ["indicator", "level", "place_code", "year"]
    expected = fresh.pattern.rename(columns={"place_code": "place", "year": "period"})
    both = published.merge(
        expected[["indicator", "level", "place", "period", "suppressed"]],
        on=["indicator", "level", "place", "period"],
        suffixes=("", "_audit"),
    )
    assert len(both) == published["indicator"].isin(COUNTED).sum()
    assert (both["suppressed"] == both["suppressed_audit"]).all()
    # and the audit is the same on every run: the record can be trusted to be reproduced
    with connect(warehouse_dir=built) as wh:
        second = record_module.audit_warehouse(wh)
    pd.testing.assert_frame_equal(fresh.extra, second.extra)
    assert (
        fresh.pattern.sort_values(keys)
        .reset_index(drop=True)
        .equals(second.pattern.sort_values(keys).reset_index(drop=True))
    )


def _fewer_deaths(built: Path, folder: Path) -> Path:
    """The warehouse's own person_year with every death in the first year taken out."""
    table = read_warehouse_table(built, "person_year")
    first = table["year"][0]
    keep = pc.invert(pc.and_(pc.equal(table["year"], first), table["died"]))
    extract = folder / "person_year.parquet"
    pq.write_table(table.filter(keep), extract)
    return extract


def test_a_load_audits_again_in_the_same_commit(built: Path, tmp_path: Path) -> None:
    before = read_manifest(built)["disclosure"]["counts"]
    load_extract("person_year", _fewer_deaths(built, tmp_path), built)
    manifest = read_manifest(built)
    after = manifest["disclosure"]["counts"]
    assert after != before  # the deaths tables changed, and were audited again
    assert after.keys() == before.keys()
    assert manifest["tables"]["disclosure"]["file"] != "disclosure.parquet"
    with connect(warehouse_dir=built) as wh, _no_live_audit():
        indicator_table(wh, indicators=["u75_mortality_all_causes"], levels=["lsoa"])


def test_counts_the_record_did_not_audit_are_audited_again(built: Path, tmp_path: Path) -> None:
    """A load without the audit (the warehouse layer alone) leaves a record of other counts:
    published tables then run the audit themselves rather than trust it."""
    load_file("person_year", _fewer_deaths(built, tmp_path), built)
    with (
        connect(warehouse_dir=built) as wh,
        mock.patch.object(
            record_module, "audit_warehouse", wraps=record_module.audit_warehouse
        ) as audit,
    ):
        indicator_table(wh, indicators=["u75_mortality_all_causes"], levels=["lsoa"])
    audit.assert_called_once()


def test_another_rule_is_audited_again(built: Path) -> None:
    """The record holds for the rule it applied: a table under another rule is audited anew,
    and holds that rule."""
    strict = DisclosureRule(name="counts under 10", largest_suppressed=9, round_to=1)
    wanted: dict[str, Any] = {
        "indicators": ["u75_mortality_all_causes"],
        "levels": ["lsoa", "msoa"],
    }
    with (
        connect(warehouse_dir=built) as wh,
        mock.patch.object(
            record_module, "audit_warehouse", wraps=record_module.audit_warehouse
        ) as audit,
    ):
        table = indicator_table(wh, rule=strict, **wanted)
        truth = indicator_table(wh, rule=None, **wanted)
    audit.assert_called_once()
    assert audit.call_args.args[1] == strict
    numerators = truth["numerator"].to_numpy(dtype=float)
    small = (numerators >= 1) & (numerators <= 9)
    assert small.any()
    assert table["suppressed"].to_numpy()[small].all()
