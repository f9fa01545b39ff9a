"""Readers for vendored CSV files that check the columns they rely on."""

from __future__ import annotations

from collections.abc import Sequence

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
