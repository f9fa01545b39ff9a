"""Ten years ahead: population by neighbourhood, sex and single year of age (the
cohort-component method), demand and money by partner under scenarios, with uncertainty; and
the back-cast from 2011 to 2021 that tests the method.

``cohort`` (one year of a population), ``ages``, ``censuses``, ``mortality``, ``fertility``,
``migration`` (the census residual and the registers' level), ``history`` (the decades before a
base), ``backcast``; ``base`` (the model's residents), ``demand`` (the model's rates),
``assumptions`` (the population's, with variants), ``scenarios`` (TOML, checked), ``draws``
(Monte Carlo), ``engine`` (every neighbourhood, every draw), ``changes`` (care closer to home,
prevention), ``prevention_hook`` (a portfolio's effects), ``reform`` (charging over the people
in care), ``money`` (cost, income and gap by partner), ``service`` (``project``), ``tables``
(the rows), ``charts`` (fan charts).
"""

from carepool.projection.ages import BROAD_GROUPS, FINE_GROUPS
from carepool.projection.backcast import AGE_GROUP_BOUND, BOROUGH_BOUND, Backcast, backcast
from carepool.projection.charts import fan_charts
from carepool.projection.cohort import StepResult, step
from carepool.projection.scenarios import (
    Scenario,
    load_scenario,
    parse_scenario,
    scenario_text,
    shipped_scenarios,
)
from carepool.projection.service import (
    LEVELS,
    MAX_DRAWS,
    MAX_HORIZON,
    ProjectionRequest,
    ProjectionResult,
    ScenarioProjection,
    project,
)
from carepool.projection.tables import FIELDS, projection_rows

__all__ = [
    "AGE_GROUP_BOUND",
    "BOROUGH_BOUND",
    "BROAD_GROUPS",
    "FIELDS",
    "FINE_GROUPS",
    "LEVELS",
    "MAX_DRAWS",
    "MAX_HORIZON",
    "Backcast",
    "ProjectionRequest",
    "ProjectionResult",
    "Scenario",
    "ScenarioProjection",
    "StepResult",
    "backcast",
    "fan_charts",
    "load_scenario",
    "parse_scenario",
    "project",
    "projection_rows",
    "scenario_text",
    "shipped_scenarios",
    "step",
]
