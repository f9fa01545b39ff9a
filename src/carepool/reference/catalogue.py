"""The catalogue of vendored reference datasets (``data/datasets.toml``)."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from carepool.errors import ReferenceDataError

_DATA = "carepool.reference"


@dataclass(frozen=True)
class Dataset:
    """One vendored file and where it came from."""

    key: str
    file: str
    title: str
    publisher: str
    vintage: str
    licence: str
    source: str
    used_for: str


def data_root() -> Path:
    """The folder that holds the vendored files (inside the installed package)."""
    return Path(str(resources.files(_DATA).joinpath("data")))


@cache
def datasets() -> tuple[Dataset, ...]:
    path = data_root() / "datasets.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ReferenceDataError(f"{path}: cannot read the dataset catalogue ({exc})") from exc
    return tuple(Dataset(**entry) for entry in raw["dataset"])


def dataset(key: str) -> Dataset:
    for entry in datasets():
        if entry.key == key:
            return entry
    raise ReferenceDataError(f"no vendored dataset with key {key!r}")


def dataset_path(key: str) -> Path:
    path = data_root() / dataset(key).file
    if not path.is_file():
        raise ReferenceDataError(f"{path}: vendored dataset {key!r} is missing from the package")
    return path


@cache
def data_digest() -> str:
    """SHA-256 over every vendored file (names and bytes, in name order): a model built from
    other reference data is out of date."""
    digest = hashlib.sha256()
    root = data_root()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in {".csv", ".toml"}):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
