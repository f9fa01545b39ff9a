"""The model as a capability: build it, read it back, check it, describe and load its tables.

These are the calls every shell makes (the command line today, the API and portal next): each
takes settings, an open warehouse or a typed request, returns typed results, and raises the
project's errors. None prints.
"""

from carepool.model.building import (
    BuildPlan,
    build_model,
    build_steps,
    check_build,
    loaded_tables,
    plan_build,
)
from carepool.model.inspection import mixed_warning, summarise, validate
from carepool.model.tables import column_rule, describe, load_extract, table_schemas

__all__ = [
    "BuildPlan",
    "build_model",
    "build_steps",
    "check_build",
    "column_rule",
    "describe",
    "load_extract",
    "loaded_tables",
    "mixed_warning",
    "plan_build",
    "summarise",
    "table_schemas",
    "validate",
]
