"""Places by ONS code, their hierarchy, and footprints that need not nest."""

from carepool.geography.codes import is_gss, is_local_authority, is_lsoa, level_of
from carepool.geography.footprints import MEMBERSHIP_SCHEMA, Footprint, memberships_table
from carepool.geography.places import IMD_VINTAGE, Geography, Region, resolve_region

__all__ = [
    "IMD_VINTAGE",
    "MEMBERSHIP_SCHEMA",
    "Footprint",
    "Geography",
    "Region",
    "is_gss",
    "is_local_authority",
    "is_lsoa",
    "level_of",
    "memberships_table",
    "resolve_region",
]
