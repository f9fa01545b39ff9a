"""Allocating a pooled budget to places by need: a configurable formula, pace of change,
exact pounds, and an explanation and sensitivity analysis for every place."""

from carepool.allocation.baseline import read_baseline
from carepool.allocation.charts import tornado, waterfall
from carepool.allocation.formula import (
    Component,
    Formula,
    PaceOfChange,
    load_formula,
    parse_formula,
)
from carepool.allocation.inputs import NeedData, for_england, from_warehouse
from carepool.allocation.need import NeedModel, fit_need_model
from carepool.allocation.nhs_england import SOURCE as NHS_ENGLAND_SOURCE
from carepool.allocation.nhs_england import (
    Comparison,
    compare_with_nhs_england,
    over_patient_weighted_average,
)
from carepool.allocation.registration import (
    DEFAULT_POPULATION,
    POPULATIONS,
    RegisteredLists,
    counted_as,
    registered_lists,
)
from carepool.allocation.sensitivity import sensitivity
from carepool.allocation.service import (
    DEFAULT_TOTAL,
    AllocationRequest,
    Run,
    check_year,
    default_formula_text,
    formula_summary,
    level_of_place,
    resolve,
    run_allocation,
    sensitivity_table,
    year_after_model,
)
from carepool.allocation.shares import STEPS, Allocation, allocate
from carepool.allocation.variables import SERVICES

__all__ = [
    "DEFAULT_POPULATION",
    "DEFAULT_TOTAL",
    "NHS_ENGLAND_SOURCE",
    "POPULATIONS",
    "SERVICES",
    "STEPS",
    "Allocation",
    "AllocationRequest",
    "Comparison",
    "Component",
    "Formula",
    "NeedData",
    "NeedModel",
    "PaceOfChange",
    "RegisteredLists",
    "Run",
    "allocate",
    "check_year",
    "compare_with_nhs_england",
    "counted_as",
    "default_formula_text",
    "fit_need_model",
    "for_england",
    "formula_summary",
    "from_warehouse",
    "level_of_place",
    "load_formula",
    "over_patient_weighted_average",
    "parse_formula",
    "read_baseline",
    "registered_lists",
    "resolve",
    "run_allocation",
    "sensitivity",
    "sensitivity_table",
    "tornado",
    "waterfall",
    "year_after_model",
]
