"""Confidence limits used across public-health statistics: Poisson (exact, Byar's) and Wilson.

Formulas as in the OHID *Public Health Data Science technical guidance* (Fingertips); see
docs/methods/intervals.md. All functions are vectorised over numpy arrays and return NaN where
a limit is undefined.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import gammaincinv, ndtri

FloatArray = npt.NDArray[np.float64]
#: Counts below this use exact Poisson limits; at or above it, Byar's approximation.
EXACT_BELOW = 10


def z_value(confidence: float) -> float:
    """Two-sided standard normal quantile: z(0.95) = 1.959963985."""
    return float(ndtri(confidence + (1.0 - confidence) / 2.0))


def check_confidence(confidence: float) -> float:
    """Accept 0.9-1 or 90-100 (percent); return it as a proportion."""
    level = confidence / 100.0 if 90.0 <= confidence <= 100.0 else confidence
    if not 0.9 <= level <= 1.0:
        raise ValueError(f"confidence {confidence} must be between 0.9 and 1 (or 90 and 100)")
    return level


def exact_limits(
    observed: npt.ArrayLike, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Exact (chi-square) Poisson limits of a count: ½χ²(α/2; 2O), ½χ²(1−α/2; 2O+2).

    ½χ²(q; 2k) is the inverse of the regularised lower incomplete gamma function P(k, ·) at
    q, which is how it is computed (as scipy.stats' chi2.ppf does, without its import cost).
    """
    o = np.asarray(observed, dtype=np.float64)
    alpha = 1.0 - confidence
    with np.errstate(invalid="ignore"):
        lower = np.where(o == 0, 0.0, gammaincinv(o, alpha / 2.0))
        upper = gammaincinv(o + 1.0, 1.0 - alpha / 2.0)
    return np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)


def byars_limits(
    observed: npt.ArrayLike, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Byar's approximation to the Poisson limits; a negative lower limit is NaN."""
    o = np.asarray(observed, dtype=np.float64)
    z = z_value(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = o * (1.0 - 1.0 / (9.0 * o) - z / (3.0 * np.sqrt(o))) ** 3
        upper = (o + 1.0) * (1.0 - 1.0 / (9.0 * (o + 1.0)) + z / (3.0 * np.sqrt(o + 1.0))) ** 3
    lower = np.where(lower < 0, np.nan, lower)
    return np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)


def poisson_limits(
    observed: npt.ArrayLike, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.str_]]:
    """Exact limits below 10 events, Byar's from 10; also which method each row used."""
    o = np.asarray(observed, dtype=np.float64)
    el, eu = exact_limits(o, confidence)
    bl, bu = byars_limits(o, confidence)
    exact = o < EXACT_BELOW
    method = np.where(np.isnan(o), "", np.where(exact, "Exact", "Byars"))
    return np.where(exact, el, bl), np.where(exact, eu, bu), method


def wilson_limits(
    successes: npt.ArrayLike, trials: npt.ArrayLike, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Wilson score limits of a proportion x/n; [0, 1] at 100% confidence."""
    x = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    if np.any((x < 0) | (n < 0) | (x > n)):
        raise ValueError("Wilson limits need 0 <= x <= n")
    if confidence >= 1.0:
        return np.zeros_like(x), np.ones_like(x)
    z = z_value(confidence)
    root = z * np.sqrt(z * z + 4.0 * x * (1.0 - x / n))
    denominator = 2.0 * (n + z * z)
    lower = (2.0 * x + z * z - root) / denominator
    upper = (2.0 * x + z * z + root) / denominator
    return np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
