"""Ten years ahead: population by neighbourhood, sex and single year of age (the
cohort-component method), demand and money by partner under scenarios, with uncertainty; and
the back-cast from 2011 to 2021 that tests the method.

``cohort`` (one year of a population), ``ages`` (single years, census groups, broad groups),
``censuses`` (1981-2021 by borough), ``mortality`` (life tables, local gaps, improvement),
``fertility`` (the national schedule at each area's level), ``migration`` (the census residual
and the registers' level), ``backcast``.
"""

from carepool.projection.ages import BROAD_GROUPS, FINE_GROUPS
from carepool.projection.backcast import AGE_GROUP_BOUND, BOROUGH_BOUND, Backcast, backcast
from carepool.projection.cohort import StepResult, step

__all__ = [
    "AGE_GROUP_BOUND",
    "BOROUGH_BOUND",
    "BROAD_GROUPS",
    "FINE_GROUPS",
    "Backcast",
    "StepResult",
    "backcast",
    "step",
]
