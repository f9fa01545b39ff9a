"""Whether the model puts the boroughs in the published order, and how good an order noise
alone allows: Spearman's rank correlation against a bar that knows the sampling error of the
model's figures and of the published ones (docs/methods/validation.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.stats import spearmanr

if TYPE_CHECKING:
    from carepool.model.boroughs import BoroughCheck

MIN_RANK_CORRELATION = 0.7
RANK_DRAWS = 2_000
#: Boroughs with published values needed before their order is compared.
MIN_RANKED = 5
#: Below this noise floor even a perfect model's order is mostly noise: not testable.
MIN_TESTABLE_FLOOR = 0.3


@dataclass(frozen=True)
class RankCheck:
    """Whether the model puts the boroughs in the published order."""

    check: str
    basis: str
    boroughs: int
    rho: float | None
    #: What a model equal to the published values would reach at the sampling error of both
    #: (the 2.5th percentile of its rank correlation): the bar when noise is large.
    noise_floor: float
    areas: tuple[str, ...] = field(default=())

    @property
    def required(self) -> float:
        return min(MIN_RANK_CORRELATION, self.noise_floor)

    @property
    def testable(self) -> bool:
        """Whether a model equal to the published figures would usually show their order at
        this scale; if not, the order cannot be tested here (not passed)."""
        return self.noise_floor >= MIN_TESTABLE_FLOOR

    @property
    def ok(self) -> bool | None:
        if self.rho is None or not np.isfinite(self.rho) or not self.testable:
            return None
        return bool(self.rho >= self.required - 1e-12)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rho"] = None if self.rho is None or not np.isfinite(self.rho) else round(self.rho, 3)
        data["noise_floor"] = round(self.noise_floor, 3)
        data["required"] = round(self.required, 3)
        data["ok"] = self.ok
        data["areas"] = list(self.areas)
        return data


def rank_check(
    check: str, basis: str, rows: Sequence[BoroughCheck], seed: int = 0
) -> RankCheck | None:
    """Spearman's correlation of the model's and the published values over the boroughs the
    model can estimate, with the noise floor of a perfect model at the same sampling error."""
    usable = [r for r in rows if r.estimable]
    published = np.array([r.published for r in usable])
    if len(usable) < MIN_RANKED or np.ptp(published) == 0:
        return None  # too few boroughs, or no published order to follow
    model = np.array([float(r.model) for r in usable])  # type: ignore[arg-type]
    se = np.array([r.combined_se for r in usable])
    # the same figure for every borough puts them in no order at all
    rho = 0.0 if np.ptp(model) == 0 else float(spearmanr(model, published).statistic)
    rng = np.random.default_rng(seed)
    draws = published + rng.standard_normal((RANK_DRAWS, len(usable))) * se
    simulated = [float(spearmanr(d, published).statistic) for d in draws]
    floor = float(np.nanpercentile(simulated, 2.5)) if se.any() else 1.0
    return RankCheck(check, basis, len(usable), rho, floor, tuple(r.area_code for r in usable))
