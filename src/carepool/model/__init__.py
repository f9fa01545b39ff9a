"""The model as a capability: plan, check and run a build, load an extract, read the model back
and check it, describe its tables.

These are the calls every shell makes (the command line today, the API and portal next): each
takes settings, an open warehouse or a typed request, returns typed results, and raises the
project's errors. None prints.
"""

from carepool.indicators import Z95
from carepool.model.boroughs import BoroughValidation
from carepool.model.building import (
    AUDIT_STEP,
    BuildPlan,
    build_model,
    build_steps,
    check_build,
    demo_request,
    load_extract,
    loaded_tables,
    plan_build,
)
from carepool.model.inspection import mixed_warning, summarise, validate, validate_boroughs
from carepool.model.orders import MIN_RANK_CORRELATION, MIN_RANKED, MIN_TESTABLE_FLOOR
from carepool.model.regions import KIND_NAMES, lsoa_residents, regions_table
from carepool.model.tables import column_rule, describe, table_schemas
from carepool.model.validation_chart import validation_scatter

__all__ = [
    "AUDIT_STEP",
    "KIND_NAMES",
    "MIN_RANKED",
    "MIN_RANK_CORRELATION",
    "MIN_TESTABLE_FLOOR",
    "Z95",
    "BoroughValidation",
    "BuildPlan",
    "build_model",
    "build_steps",
    "check_build",
    "column_rule",
    "demo_request",
    "describe",
    "load_extract",
    "loaded_tables",
    "lsoa_residents",
    "mixed_warning",
    "plan_build",
    "regions_table",
    "summarise",
    "table_schemas",
    "validate",
    "validate_boroughs",
    "validation_scatter",
]
