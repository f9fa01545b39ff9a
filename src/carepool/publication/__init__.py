"""Publication: the public figures, materialised for the portal and the API.

``collections`` (every public collection, described once), ``model_tables`` and
``fund_tables`` (computing them, through disclosure control), ``store`` (the
``public/`` folder, written part by part, swapped in whole) and ``publish`` (the calls the
demonstration, ``carepool publish`` and the portal's postings make).
"""

from carepool.publication.collections import BY_NAME, COLLECTIONS, LICENCE, Collection
from carepool.publication.publish import (
    PUBLIC_USER,
    choose_public_fund,
    keys_dir,
    publish_fund,
    publish_model,
)
from carepool.publication.store import PARTS, Part, public_dir, read_part

__all__ = [
    "BY_NAME",
    "COLLECTIONS",
    "LICENCE",
    "PARTS",
    "PUBLIC_USER",
    "Collection",
    "Part",
    "choose_public_fund",
    "keys_dir",
    "public_dir",
    "publish_fund",
    "publish_model",
    "read_part",
]
