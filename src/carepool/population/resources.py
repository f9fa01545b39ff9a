"""Will the build fit? Memory and disk estimated before any work starts.

A worker holds one council's people at a time, so the build's memory is that of the
``workers`` largest councils at once plus the parent's; its disk is the staging folder, about
the size of the finished warehouse. Both are estimated from the councils' Census 2021
residents with the bytes per resident measured on full-scale builds (``make bench``), with a
margin, and compared with what the machine has free now: a build that cannot finish is refused
with what it needs, rather than dying hours in.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from carepool.errors import ConfigError
from carepool.machine import available_memory, gib

#: A worker's peak bytes per resident of the council it holds (measured: Manchester, 552,000
#: residents at scale 1, two years, 868 MiB), with a margin of a fifth; each further year adds
#: a tenth.
WORKER_BYTES_PER_RESIDENT: Final = 1_900
#: The parent process while councils are built: the lookups, the region's tables.
PARENT_BYTES: Final = 700 * 2**20
#: Warehouse bytes per resident and year (measured: Greater Manchester, 60 MB for 2.9 million
#: residents over two years), with a margin of a half.
DISK_BYTES_PER_RESIDENT_YEAR: Final = 16


@dataclass(frozen=True)
class Needs:
    memory: int
    disk: int


def build_needs(residents: list[int], scale: float, years: int, workers: int) -> Needs:
    """What a build of councils of these ``residents`` (full-scale counts) needs."""
    largest = sorted(residents, reverse=True)[:workers]
    per_worker = WORKER_BYTES_PER_RESIDENT * (1 + 0.1 * (years - 2))
    memory = PARENT_BYTES + round(sum(largest) * scale * per_worker)
    disk = round(sum(residents) * scale * years * DISK_BYTES_PER_RESIDENT_YEAR)
    return Needs(memory=memory, disk=disk)


def check_resources(needs: Needs, folder: Path, workers: int) -> None:
    """Refuse a build the machine cannot hold: a :class:`ConfigError` saying what it needs,
    what there is, and what to change."""
    free = shutil.disk_usage(folder).free
    if needs.disk > free:
        raise ConfigError(
            f"the build needs about {gib(needs.disk)} of disk beside {folder} and "
            f"{gib(free)} is free; free some space, set CAREPOOL_DATA_DIR to a larger disk, "
            "or build a smaller region or --scale"
        )
    memory = available_memory()
    if memory is not None and needs.memory > memory:
        fewer = " or fewer --workers" if workers > 1 else ""
        raise ConfigError(
            f"the build needs about {gib(needs.memory)} of memory with {workers} worker(s) "
            f"and {gib(memory)} is available; close other programs, or build with a smaller "
            f"--scale{fewer}"
        )
