"""The model as a capability: plan and check a build, read the model back and check it,
describe its tables.

These are the calls every shell makes (the command line today, the API and portal next): each
takes settings, an open warehouse or a typed request, returns typed results, and raises the
project's errors. None prints.
"""

from carepool.model.building import (
    BuildPlan,
    check_build,
    loaded_tables,
    plan_build,
)
from carepool.model.inspection import mixed_warning, summarise, validate
from carepool.model.tables import column_rule, describe, table_schemas

__all__ = [
    "BuildPlan",
    "check_build",
    "column_rule",
    "describe",
    "loaded_tables",
    "mixed_warning",
    "plan_build",
    "summarise",
    "table_schemas",
    "validate",
]
