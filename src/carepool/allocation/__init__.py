"""Allocating a pooled budget to places by need: a configurable formula, pace of change,
exact pounds, and an explanation and sensitivity analysis for every place."""

from carepool.allocation.baseline import read_baseline
from carepool.allocation.formula import (
    Component,
    Formula,
    PaceOfChange,
    load_formula,
    parse_formula,
)
from carepool.allocation.inputs import NeedData, for_england, from_warehouse
from carepool.allocation.need import NeedModel, fit_need_model
from carepool.allocation.sensitivity import sensitivity
from carepool.allocation.shares import STEPS, Allocation, allocate

__all__ = [
    "STEPS",
    "Allocation",
    "Component",
    "Formula",
    "NeedData",
    "NeedModel",
    "PaceOfChange",
    "allocate",
    "fit_need_model",
    "for_england",
    "from_warehouse",
    "load_formula",
    "parse_formula",
    "read_baseline",
    "sensitivity",
]
