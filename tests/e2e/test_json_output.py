"""The JSON every ``--json`` prints: one row per line, missing values null, counts whole."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from carepool.cli.support import json_rows, records


def test_rows_are_json_with_nulls_and_whole_counts() -> None:
    frame = pd.DataFrame(
        {
            "place": ["E08000003", None],
            "value": [1.5, np.nan],
            "numerator": pd.array([10, None], dtype="Int64"),
            "denominator": [12.4, np.inf],
            "suppressed": [False, True],
            "rank": np.array([1, 2], dtype=np.int64),
        }
    )
    text = json_rows(records(frame))
    assert text.count("\n") == 3  # [, two rows, ]
    assert json.loads(text) == [
        {
            "place": "E08000003",
            "value": 1.5,
            "numerator": 10,
            "denominator": 12,
            "suppressed": False,
            "rank": 1,
        },
        {
            "place": None,
            "value": None,
            "numerator": None,
            "denominator": None,
            "suppressed": True,
            "rank": 2,
        },
    ]


def test_counts_of_mixed_type_are_rounded_and_large_ones_kept_exact() -> None:
    frame = pd.DataFrame(
        {
            "numerator": pd.Series([12.0, 3.4, None], dtype=object),
            "denominator": [2.0**60, 5.0, 7.0],
        }
    )
    rows = records(frame)
    assert [r["numerator"] for r in rows] == [12, 3, None]
    assert rows[0]["denominator"] == 2**60


def test_an_empty_table_is_an_empty_list() -> None:
    assert json.loads(json_rows(records(pd.DataFrame({"a": []})))) == []
