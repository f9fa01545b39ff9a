"""What this machine can give now: memory, read where the system says (Linux's
``/proc/meminfo``), so that work that cannot fit is refused before it starts."""

from __future__ import annotations

from pathlib import Path


def available_memory() -> int | None:
    """Memory the system can give now (``MemAvailable``), or None where it does not say."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def gib(n: int) -> str:
    """``n`` bytes in GiB, for messages."""
    return f"{n / 2**30:.1f} GiB"
