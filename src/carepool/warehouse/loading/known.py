"""What a loaded file may refer to: the model's geography, partners, years and services.

:class:`KnownCodes` is read from a built warehouse; :class:`Known` is the same facts as the
checks use them, as sets (for messages) and Arrow arrays (for ``pc.is_in``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from carepool.errors import WarehouseError
from carepool.warehouse.store import read_manifest, table_path
from carepool.years import last_day

#: The payer code for care a resident pays for in full (see ``activity_cost.payer_code``).
SELF_PAYER: Final = "SELF"


@dataclass(frozen=True)
class KnownCodes:
    """What a loaded file may refer to: the model's geography, partners, years and services."""

    lsoas: frozenset[str]
    lads: frozenset[str]
    payers: frozenset[str]
    lad_of_lsoa: Mapping[str, str] = field(default_factory=dict)
    years: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()

    @classmethod
    def from_warehouse(
        cls, warehouse_dir: Path, manifest: Mapping[str, Any] | None = None
    ) -> KnownCodes:
        """Read them from the warehouse: ``lsoa`` (LSOAs, their LADs and ICBs), the manifest
        (years) and ``services``, if built -- all as committed by ``manifest`` (the current
        one if not given), so that a load checks against the state it then commits over.

        Read straight from Parquet, not through the engine, so that loading a file never
        starts Spark.
        """
        if manifest is None:
            manifest = read_manifest(warehouse_dir)
        path = table_path(warehouse_dir, "lsoa", manifest)
        if not path.is_file():
            raise WarehouseError(f"{path}: missing; build the model before loading extracts")
        lsoa = pq.read_table(path, columns=["lsoa21_code", "lad_code", "icb_code"])

        def codes(name: str) -> frozenset[str]:
            return frozenset(v for v in pc.unique(lsoa.column(name)).to_pylist() if v)

        lads = codes("lad_code")
        services_path = table_path(warehouse_dir, "services", manifest)
        services = (
            frozenset(pq.read_table(services_path, columns=["service"]).column(0).to_pylist())
            if services_path.is_file()
            else frozenset()
        )
        years = manifest.get("years", [])
        return cls(
            lsoas=codes("lsoa21_code"),
            lads=lads,
            payers=lads | codes("icb_code") | {SELF_PAYER},
            lad_of_lsoa=dict(
                zip(
                    lsoa.column("lsoa21_code").to_pylist(),
                    lsoa.column("lad_code").to_pylist(),
                    strict=True,
                )
            ),
            years=frozenset(str(year) for year in years),
            services=services,
        )


@dataclass(frozen=True)
class Known:
    """The known codes as sets (for messages) and Arrow arrays (for ``pc.is_in``)."""

    lsoas: Set[str]
    lads: Set[str]
    payers: Set[str]
    lad_of_lsoa: Mapping[str, str]
    years: Set[str]
    services: Set[str]
    #: The residents' person ids a person-year file may refer to (an Arrow array), if known.
    person_ids: Any = None

    def array(self, codes: Set[str]) -> Any:
        return pa.array(sorted(codes), pa.string())

    @property
    def model_end(self) -> dt.date | None:
        """The last day of the model's last financial year (31 March)."""
        if not self.years:
            return None
        return max(last_day(year) for year in self.years)
