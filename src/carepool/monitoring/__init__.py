"""Monitors that read the ledger beside the warehouse: where the money and the activity meet.

The ledger knows nothing of the warehouse, and the warehouse nothing of the ledger; a
monitor reads both through their public APIs. Today: the burden-shift monitor (is one
partner's saving another partner's cost?).
"""

from carepool.monitoring.burden_shift import (
    DEFAULT_THRESHOLD,
    LINKS,
    Link,
    burden_shift,
    chart,
    flag_shifts,
    warehouse_activity,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "LINKS",
    "Link",
    "burden_shift",
    "chart",
    "flag_shifts",
    "warehouse_activity",
]
