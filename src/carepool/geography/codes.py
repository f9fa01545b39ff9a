"""ONS GSS codes: a nine-character code whose first three characters name the entity type."""

from __future__ import annotations

import re

GSS_PATTERN = re.compile(r"^[EWSN]\d{8}$")

#: Entity prefixes used in carepool, with what they identify.
PREFIXES = {
    "E01": "LSOA",
    "E02": "MSOA",
    "E05": "electoral ward",
    "E06": "unitary authority",
    "E07": "non-metropolitan district",
    "E08": "metropolitan district",
    "E09": "London borough",
    "E38": "NHS sub-ICB location",
    "E47": "combined authority",
    "E54": "integrated care board",
}
LOCAL_AUTHORITY_PREFIXES = ("E06", "E07", "E08", "E09")


def is_gss(code: str) -> bool:
    return bool(GSS_PATTERN.match(code))


def is_lsoa(code: str) -> bool:
    return is_gss(code) and code.startswith("E01")


def is_local_authority(code: str) -> bool:
    return is_gss(code) and code.startswith(LOCAL_AUTHORITY_PREFIXES)


#: The geography level (as the indicators and the allocation name them) of each code prefix.
LEVEL_OF_PREFIX = {
    "E01": "lsoa",
    "E02": "msoa",
    "E05": "ward",
    "E06": "lad",
    "E07": "lad",
    "E08": "lad",
    "E09": "lad",
    "E38": "sub_icb",
    "E47": "region",
    "E54": "icb",
}


def level_of(code: str) -> str | None:
    """The level a place code belongs to (``E02...`` -> ``msoa``), or None if not a known GSS
    entity."""
    return LEVEL_OF_PREFIX.get(code[:3]) if is_gss(code) else None
