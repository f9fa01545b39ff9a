"""Readers for vendored CSV files that check the columns they rely on."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import pyarrow as pa
import pyarrow.csv as pacsv

from carepool.errors import ReferenceDataError
from carepool.reference.catalogue import dataset_path


def read_reference(
    key: str,
    columns: Sequence[str] | None = None,
    types: dict[str, pa.DataType] | None = None,
) -> pa.Table:
    """Read vendored dataset ``key`` as an Arrow table.

    ``columns`` are the columns the caller needs: a file without one of them is a reference
    data error naming the file and the column, not a ``KeyError`` deep in the model.
    """
    if columns is None and types is None:
        return _whole(key)
    return _read(key, columns, types)


@cache
def _whole(key: str) -> pa.Table:
    """A whole vendored file, read once a process: the files never change while carepool
    runs, an Arrow table cannot be changed by a caller, and the files read whole are the small
    tables of rates, targets and facts (readers of the large ones name their columns)."""
    return _read(key, None, None)


def _read(
    key: str, columns: Sequence[str] | None, types: dict[str, pa.DataType] | None
) -> pa.Table:
    path = dataset_path(key)
    convert = pacsv.ConvertOptions(
        column_types=types or {},
        include_columns=list(columns) if columns is not None else None,
        strings_can_be_null=False,
    )
    try:
        return pacsv.read_csv(path, convert_options=convert)
    except (pa.ArrowInvalid, KeyError) as exc:
        raise ReferenceDataError(f"{path}: {exc}") from exc
