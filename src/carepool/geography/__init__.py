"""Places by ONS code, their hierarchy, and footprints that need not nest."""

from carepool.geography.codes import (
    COMBINED_AUTHORITY_PREFIX,
    GSS_PATTERN,
    ICB_PREFIX,
    LEVEL_OF_PREFIX,
    LOCAL_AUTHORITY_PREFIXES,
    LSOA_PREFIX,
    LSOA_SHAPE,
    MSOA_PREFIX,
    PREFIXES,
    code_shape,
    is_gss,
    is_local_authority,
    is_lsoa,
    level_of,
)
from carepool.geography.footprints import MEMBERSHIP_SCHEMA, Footprint, memberships_table
from carepool.geography.places import (
    IMD_VINTAGE,
    LOOKUP_COLUMNS,
    Geography,
    Region,
    lsoa_lookup,
    resolve_region,
)

__all__ = [
    "COMBINED_AUTHORITY_PREFIX",
    "GSS_PATTERN",
    "ICB_PREFIX",
    "IMD_VINTAGE",
    "LEVEL_OF_PREFIX",
    "LOCAL_AUTHORITY_PREFIXES",
    "LOOKUP_COLUMNS",
    "LSOA_PREFIX",
    "LSOA_SHAPE",
    "MEMBERSHIP_SCHEMA",
    "MSOA_PREFIX",
    "PREFIXES",
    "Footprint",
    "Geography",
    "Region",
    "code_shape",
    "is_gss",
    "is_local_authority",
    "is_lsoa",
    "level_of",
    "lsoa_lookup",
    "memberships_table",
    "resolve_region",
]
