"""ONS GSS codes: a nine-character code whose first three characters name the entity type.

The one home of what a code looks like. Python code asks :func:`is_lsoa` and friends; code
that checks a whole column at once (the warehouse loader, with :mod:`pyarrow.compute`) takes
the same shapes as regular-expression strings (:data:`LSOA_SHAPE`, :func:`code_shape`).
"""

from __future__ import annotations

import re
from typing import Final

#: Any GSS code: a country letter and eight ASCII digits (as the column shapes below).
GSS_PATTERN = re.compile(r"^[EWSN][0-9]{8}$")

LSOA_PREFIX: Final = "E01"
MSOA_PREFIX: Final = "E02"
COMBINED_AUTHORITY_PREFIX: Final = "E47"
ICB_PREFIX: Final = "E54"
LOCAL_AUTHORITY_PREFIXES: Final = ("E06", "E07", "E08", "E09")

#: Entity prefixes used in carepool, with what they identify.
PREFIXES = {
    LSOA_PREFIX: "LSOA",
    MSOA_PREFIX: "MSOA",
    "E05": "electoral ward",
    "E06": "unitary authority",
    "E07": "non-metropolitan district",
    "E08": "metropolitan district",
    "E09": "London borough",
    "E38": "NHS sub-ICB location",
    COMBINED_AUTHORITY_PREFIX: "combined authority",
    ICB_PREFIX: "integrated care board",
}


def code_shape(prefix: str) -> str:
    """The whole-value regular expression of a code of entity ``prefix``: the prefix, then six
    ASCII digits (``^E01[0-9]{6}$``). A string, so that :mod:`pyarrow.compute` can use it."""
    return rf"^{re.escape(prefix)}[0-9]{{6}}$"


#: A 2021 LSOA code, ``E01`` and six digits, as a regular expression string.
LSOA_SHAPE: Final = code_shape(LSOA_PREFIX)


def is_gss(code: str) -> bool:
    return bool(GSS_PATTERN.match(code))


def is_lsoa(code: str) -> bool:
    return is_gss(code) and code.startswith(LSOA_PREFIX)


def is_local_authority(code: str) -> bool:
    return is_gss(code) and code.startswith(LOCAL_AUTHORITY_PREFIXES)


#: The geography level (as the indicators and the allocation name them) of each code prefix.
LEVEL_OF_PREFIX = {
    LSOA_PREFIX: "lsoa",
    MSOA_PREFIX: "msoa",
    "E05": "ward",
    "E06": "lad",
    "E07": "lad",
    "E08": "lad",
    "E09": "lad",
    "E38": "sub_icb",
    COMBINED_AUTHORITY_PREFIX: "region",
    ICB_PREFIX: "icb",
}


def level_of(code: str) -> str | None:
    """The level a place code belongs to (``E02...`` -> ``msoa``), or None if not a known GSS
    entity."""
    return LEVEL_OF_PREFIX.get(code[:3]) if is_gss(code) else None
