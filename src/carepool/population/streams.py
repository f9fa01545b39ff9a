"""Named random streams: every draw comes from a stream seeded by (seed, hash of its name).

Adding a new stream, or drawing more from one, never changes the numbers another stream gives,
so a new feature does not reshuffle every resident (the Starsim convention).
"""

from __future__ import annotations

import hashlib

import numpy as np


def stable_hash(name: str) -> int:
    """A 64-bit hash of ``name`` that is the same on every machine and Python run."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "big")


def stream(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, stable_hash(name)])
