"""A table's key identifies one row: every repeat is reported with the row it repeats."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc

from carepool.warehouse.loading.parsing import Parsed, combine
from carepool.warehouse.loading.problems import Problems, show
from carepool.warehouse.schemas import TableSchema


def check_keys(
    schema: TableSchema, parsed: dict[str, Parsed], rows: int, problems: Problems
) -> None:
    """Report every row whose key repeats an earlier row's, naming that first row.

    Keys compare by value (``007`` and ``7`` are the same person). Rows with a key value that
    is missing or did not parse are already reported, and left out here. Each key column is
    dictionary-encoded to integers, the codes are combined column by column (refactorised so
    they never overflow), and ``np.unique`` finds each key's first row.
    """
    if rows == 0 or not all(name in parsed for name in schema.key):
        return
    code = np.zeros(rows, dtype=np.int64)
    usable = np.ones(rows, dtype=bool)
    for name in schema.key:
        column = parsed[name]
        usable &= np.asarray(column.ok.to_numpy(zero_copy_only=False), dtype=bool)
        encoded = combine(pc.dictionary_encode(column.values))
        indices = pc.fill_null(encoded.indices, -1).to_numpy().astype(np.int64) + 1
        code = code * (len(encoded.dictionary) + 1) + indices
        code = np.unique(code, return_inverse=True)[1].astype(np.int64).reshape(-1)
    code = np.where(usable, code, -1 - np.arange(rows))  # unusable rows never match
    _, first_index, inverse = np.unique(code, return_index=True, return_inverse=True)
    first_row = first_index[inverse.reshape(-1)]
    duplicates = np.flatnonzero(first_row != np.arange(rows))
    if not duplicates.size:
        return
    label = ", ".join(schema.key)

    def message(i: int) -> str:
        key = ", ".join(show(parsed[name].values[i].as_py()) for name in schema.key)
        return (
            f"duplicate key ({label}) = ({key}); "
            f"first seen at row {problems.data_row(int(first_row[i]))}"
        )

    problems.indices(duplicates.astype(np.int64), ",".join(schema.key), message)
