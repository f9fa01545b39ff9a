"""Vendored open data (ONS, MHCLG, OHID; Open Government Licence) and its provenance."""

from carepool.reference.catalogue import (
    Dataset,
    data_digest,
    data_root,
    dataset,
    dataset_path,
    datasets,
)
from carepool.reference.files import read_reference

__all__ = [
    "Dataset",
    "data_digest",
    "data_root",
    "dataset",
    "dataset_path",
    "datasets",
    "read_reference",
]
