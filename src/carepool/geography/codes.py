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
