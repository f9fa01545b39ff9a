"""The public figures as the API serves them: read from ``public/`` once, held in memory as
rows ready to send, and swapped whole when a part is published again. No request computes a
figure."""

from __future__ import annotations

import io
import json
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from carepool.errors import NotFound, WarehouseError
from carepool.publication import BY_NAME, PARTS, Part, read_part


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class Served:
    """One collection, ready to serve: rows as JSON-ready dicts, the CSV's bytes, and an
    index of rows by place (where the collection has places)."""

    name: str
    frame: pd.DataFrame
    rows: list[dict[str, Any]]
    csv: bytes
    by_place: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def of(cls, name: str, frame: pd.DataFrame) -> Served:
        rows = [{str(k): _plain(v) for k, v in r.items()} for r in frame.to_dict("records")]
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False, lineterminator="\n")
        by_place: dict[str, list[dict[str, Any]]] = {}
        if "place" in frame.columns:
            for row in rows:
                by_place.setdefault(str(row["place"]), []).append(row)
        return cls(name, frame, rows, buffer.getvalue().encode("utf-8"), by_place)


class PublicData:
    """Both parts of the public figures, reloadable."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self.parts: dict[str, Part] = {}
        self.served: dict[str, Served] = {}
        #: rises with every reload, so caches built from the figures know they are stale
        self.generation = 0
        self.reload()

    def reload(self, part: str | None = None) -> None:
        with self._lock:
            for name in PARTS if part is None else (part,):
                self.parts[name] = read_part(self.root, name)
            served = {}
            for part_ in self.parts.values():
                for name, frame in part_.tables.items():
                    served[name] = Served.of(name, frame)
            self.served = served
            self.generation += 1

    def meta(self, part: str) -> dict[str, Any]:
        found = self.parts.get(part)
        return found.meta if found is not None else {}

    def collection(self, name: str) -> Served:
        if name not in BY_NAME:
            raise NotFound(f"no collection {name!r}")
        served = self.served.get(name)
        if served is None:
            part = BY_NAME[name].part
            raise WarehouseError(
                f"the {name} collection is not published yet: "
                + (
                    "run `carepool demo` (or `carepool publish`)"
                    if part == "model"
                    else "post to the fund and run `carepool publish`"
                )
            )
        return served

    def rows(self, name: str) -> list[dict[str, Any]]:
        """A collection's rows, or none where it is not published."""
        served = self.served.get(name)
        return served.rows if served is not None else []

    def file(self, part: str, name: str) -> Path:
        found = self.parts.get(part)
        if found is None or found.folder is None or not (found.folder / name).is_file():
            raise NotFound(f"{name} is not published")
        return found.folder / name

    def checkpoint(self) -> dict[str, Any]:
        return dict(json.loads(self.file("fund", "checkpoint.json").read_text("utf-8")))
