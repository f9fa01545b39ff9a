"""Drawing an uncertain figure: vectorised, from one seeded stream per run.

Each figure's 95% interval fixes the spread of its distribution: a normal or lognormal's
standard deviation is the interval's width (in logs for the lognormal) over 2 × 1.96; a beta
or gamma is matched to the value as its mean and that standard deviation (method of moments).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from carepool.prevention.library import Uncertain

Array = npt.NDArray[np.float64]
Z95 = 1.959963984540054


def central(figure: Uncertain) -> float:
    return figure.value


def draw(figure: Uncertain, rng: np.random.Generator, n: int) -> Array:
    """``n`` draws of ``figure``."""
    if figure.dist == "fixed" or n == 0:
        return np.full(n, figure.value)
    low, high = float(figure.low), float(figure.high)  # type: ignore[arg-type]
    if figure.dist == "normal":
        return rng.normal(figure.value, (high - low) / (2 * Z95), n)
    if figure.dist == "lognormal":
        sigma = (np.log(high) - np.log(low)) / (2 * Z95)
        return np.exp(rng.normal(np.log(figure.value), sigma, n))
    sd = (high - low) / (2 * Z95)
    if figure.dist == "gamma":
        shape = (figure.value / sd) ** 2
        return rng.gamma(shape, figure.value / shape, n)
    # beta: the variance must be below m(1 − m); narrow it to fit if the interval is too wide
    m = figure.value
    var = min(sd**2, 0.99 * m * (1 - m))
    common = m * (1 - m) / var - 1
    return rng.beta(m * common, (1 - m) * common, n)
