"""The intervention library: preventive interventions as data, each figure with its source.

An intervention names who it is for (a cohort: a query on the warehouse in a small, checked
vocabulary), what it costs each paying partner per participant in each year, how many take
it up and succeed, what it changes (rate ratios on the warehouse's costed services and on
deaths, quality-adjusted life years gained) with the uncertainty of each figure, how much would
have happened anyway (deadweight) and how fast the effect fades (drop-off). The default library
ships in the package (``interventions.toml``); a user's own file adds to it or replaces an
intervention of the same id. Every fault is reported with the file, the intervention and the
field, before anything is computed (docs/methods/prevention.md).
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails

from carepool.allocation import SERVICES
from carepool.errors import AppraisalError
from carepool.warehouse import CONDITIONS

DEFAULT_LIBRARY = "interventions.toml"
#: Limits on what a library may ask for: every input has stated limits.
MAX_INTERVENTIONS = 200
MAX_YEARS = 30
MAX_FILE_BYTES = 1_000_000

#: Outcomes an intervention may change: the warehouse's costed services (priced at the
#: services table's unit cost and credited to the partner that pays for the service) and two
#: counted but unpriced outcomes (a spell's price already covers its bed days).
PRICED_OUTCOMES = SERVICES
COUNTED_OUTCOMES = ("emergency_bed_days", "deaths")
OUTCOMES = PRICED_OUTCOMES + COUNTED_OUTCOMES
#: Person-year flags a cohort may require or exclude.
FLAGS = (
    "breast_screening_eligible",
    "breast_screening_covered",
    "cervical_screening_eligible",
    "cervical_screening_covered",
    "bowel_screening_eligible",
    "bowel_screening_covered",
    "talking_therapies_referred",
    "ld_health_check",
)
PAYERS = ("nhs", "council")
#: The largest rate ratio an effect may have: ten times as many events.
MAX_RATE_RATIO = 10.0
#: The top shares of predicted risk a cohort (or the published top-risk table) may take: a
#: few fixed shares, so that no sweep of shares can pick out one resident.
RISK_SHARES = (0.01, 0.02, 0.05, 0.1, 0.2)
#: Optimism bias by confidence grade of the evidence (GM cost-benefit analysis guidance, HM
#: Treasury 2014; recalled in the finance reference, to be checked against the 2014 table):
#: 1 recent audited local data ... 6 unsubstantiated.
OPTIMISM_BIAS_BY_GRADE = {1: 0.0, 2: 0.05, 3: 0.10, 4: 0.15, 5: 0.25, 6: 0.40}

Probability = Annotated[float, Field(ge=0.0, le=1.0, strict=True)]
Money = Annotated[float, Field(ge=0.0, le=1_000_000.0, strict=True)]
Figure = Annotated[float, Field(ge=-1e6, le=1e6, strict=True)]
Grade = Annotated[int, Field(ge=1, le=6, strict=True)]


class _Strict(BaseModel):
    # no NaN or infinity anywhere; numbers are strict (below): "100" is not a number
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Uncertain(_Strict):
    """An uncertain figure: its central value and 95% interval, and the distribution drawn.

    ``beta`` for probabilities (mean ``value``), ``lognormal`` for ratios (median ``value``,
    the interval symmetric in logs), ``gamma`` for positive amounts (mean ``value``),
    ``normal`` otherwise, ``fixed`` for a figure taken as certain.
    """

    value: Figure
    low: Figure | None = None
    high: Figure | None = None
    dist: Literal["fixed", "normal", "lognormal", "beta", "gamma"] = "fixed"
    source: str = Field(min_length=3, max_length=500)

    @model_validator(mode="after")
    def _interval(self) -> Uncertain:
        if self.dist == "fixed":
            return self
        if self.low is None or self.high is None:
            raise ValueError(f"a {self.dist} figure needs low and high (its 95% interval)")
        if not self.low <= self.value <= self.high or self.low == self.high:
            raise ValueError(
                f"expected low < high with value between them, got low {self.low}, "
                f"value {self.value}, high {self.high}"
            )
        if self.dist in ("lognormal", "gamma") and self.low <= 0:
            raise ValueError(f"a {self.dist} figure must be positive, got low {self.low}")
        if self.dist in ("lognormal", "gamma") and self.high / self.low > 1e6:
            raise ValueError("an interval wider than a million-fold is not a figure")
        if self.dist == "beta" and not (0 < self.value < 1 and self.low >= 0 and self.high <= 1):
            raise ValueError(
                "a beta figure is a probability: expected 0 < value < 1, interval in 0-1"
            )
        return self


class Cohort(_Strict):
    """Who is offered the intervention: people alive at the start of the model's last year
    who match every clause given."""

    ages: tuple[Annotated[int, Field(ge=0, le=120)], Annotated[int, Field(ge=0, le=120)]] = (0, 120)
    sex: Literal["any", "female", "male"] = "any"
    #: on at least one of these registers (none: no condition needed)
    conditions: tuple[str, ...] = Field(default=(), max_length=len(CONDITIONS))
    flags: tuple[str, ...] = Field(default=(), max_length=len(FLAGS))
    not_flags: tuple[str, ...] = Field(default=(), max_length=len(FLAGS))
    care: Literal["any", "none", "home_care", "care_home", "not_care_home"] = "any"
    #: at least this many emergency admissions in the year (high users)
    min_emergency_admissions: Annotated[int, Field(ge=0, le=50)] = 0
    #: only residents in this top share of the risk model's predicted risk of an emergency
    #: admission next year (carepool risk), among everyone: one of RISK_SHARES
    top_risk_share: float | None = None

    @model_validator(mode="after")
    def _known(self) -> Cohort:
        if self.ages[0] > self.ages[1]:
            raise ValueError(f"ages: expected [youngest, oldest], got {list(self.ages)}")
        for field, names, known in (
            ("conditions", self.conditions, CONDITIONS),
            ("flags", self.flags, FLAGS),
            ("not_flags", self.not_flags, FLAGS),
        ):
            unknown = sorted(set(names) - set(known))
            if unknown:
                raise ValueError(f"{field}: unknown {unknown}; expected some of {list(known)}")
            if len(set(names)) != len(names):
                raise ValueError(f"{field}: a name is given twice")
        if self.top_risk_share is not None and self.top_risk_share not in RISK_SHARES:
            raise ValueError(
                f"top_risk_share: expected one of {list(RISK_SHARES)}, got {self.top_risk_share}"
            )
        return self


class Cost(_Strict):
    """What one paying partner spends per participant, by year from the start (0)."""

    payer: Literal["nhs", "council"]
    per_participant: tuple[Money, ...] = Field(min_length=1, max_length=MAX_YEARS)
    source: str = Field(min_length=3, max_length=500)


class Effect(_Strict):
    """A rate ratio on one outcome among those who succeed: 0.77 is 23% fewer events."""

    outcome: str
    rate_ratio: Uncertain

    @model_validator(mode="after")
    def _known(self) -> Effect:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome {self.outcome!r}: expected one of {list(OUTCOMES)}")
        ratio = self.rate_ratio
        bounds = [ratio.value, *(b for b in (ratio.low, ratio.high) if b is not None)]
        if any(not 0 < b <= MAX_RATE_RATIO for b in bounds):
            raise ValueError(f"rate_ratio: expected a ratio above 0 and at most {MAX_RATE_RATIO}")
        return self


class Intervention(_Strict):
    """One preventive intervention, every figure sourced."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,47}$")
    name: str = Field(min_length=3, max_length=120)
    description: str = Field(default="", max_length=2_000)
    #: the partner kind that provides it: a coalition without it cannot run it
    delivered_by: Literal["nhs", "council"]
    cohort: Cohort
    uptake: Uncertain
    success: Uncertain
    deadweight: Uncertain = Uncertain(value=0.0, source="effects measured against a control")
    #: share of the effect lost each year after the first
    drop_off: Uncertain
    costs: tuple[Cost, ...] = Field(min_length=1, max_length=len(PAYERS))
    effects: tuple[Effect, ...] = Field(default=(), max_length=len(OUTCOMES))
    qalys_per_success_year: Uncertain
    #: GM CBA confidence grades (1 audited local data ... 6 unsubstantiated): optimism bias
    cost_grade: Grade = 3
    effect_grade: Grade = 3

    @model_validator(mode="after")
    def _consistent(self) -> Intervention:
        for name in ("uptake", "success", "deadweight", "drop_off"):
            figure: Uncertain = getattr(self, name)
            bounds = [figure.value, figure.low, figure.high]
            if any(b is not None and not 0 <= b <= 1 for b in bounds):
                raise ValueError(f"{name}: a probability, expected 0-1, got {figure.value}")
        outcomes = [e.outcome for e in self.effects]
        repeated = sorted({o for o in outcomes if outcomes.count(o) > 1})
        if repeated:
            raise ValueError(f"effects: {repeated} given more than once")
        payers = [c.payer for c in self.costs]
        if len(set(payers)) != len(payers):
            raise ValueError("costs: one line per payer")
        q = self.qalys_per_success_year
        if any(b is not None and not -1 <= b <= 1 for b in (q.value, q.low, q.high)):
            raise ValueError(
                "qalys_per_success_year: expected -1 to 1 (a year of full health is 1)"
            )
        return self

    @property
    def optimism_bias(self) -> tuple[float, float]:
        """The uplift on costs and the cut in benefits its evidence grades call for."""
        return OPTIMISM_BIAS_BY_GRADE[self.cost_grade], OPTIMISM_BIAS_BY_GRADE[self.effect_grade]


class Library(_Strict):
    intervention: tuple[Intervention, ...] = Field(min_length=1, max_length=MAX_INTERVENTIONS)


def _where(error: ErrorDetails, raw: dict[str, Any]) -> str:
    """``intervention falls_prevention, field uptake.low`` from a Pydantic error location."""
    loc = list(error["loc"])
    if len(loc) >= 2 and loc[0] == "intervention" and isinstance(loc[1], int):
        items = raw.get("intervention", [])
        index = loc[1]
        ident = items[index].get("id", f"#{index + 1}") if index < len(items) else f"#{index + 1}"
        rest = ".".join(str(p) for p in loc[2:])
        return f"intervention {ident}" + (f", field {rest}" if rest else "")
    return "field " + ".".join(str(p) for p in loc) if loc else "the file"


def parse_library(text: str, origin: str) -> tuple[Intervention, ...]:
    """The interventions in TOML ``text``; ``origin`` names the file in any error."""
    if len(text.encode()) > MAX_FILE_BYTES:
        raise AppraisalError(f"{origin}: larger than {MAX_FILE_BYTES:,} bytes")
    try:
        raw = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError, ValueError) as exc:
        # ValueError: an integer of thousands of digits; RecursionError: absurd nesting
        raise AppraisalError(f"{origin}: not valid TOML: {str(exc)[:200]}") from None
    try:
        library = Library.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise AppraisalError(f"{origin}: {_where(first, raw)}: {message}{more}") from None
    ids = [i.id for i in library.intervention]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise AppraisalError(f"{origin}: intervention ids {repeated} appear more than once")
    return library.intervention


def _read(path: Path) -> str:
    """A library file's text: a regular file, at most MAX_FILE_BYTES, UTF-8."""
    try:
        if not path.is_file():
            raise AppraisalError(f"{path}: not a file (an intervention library is a TOML file)")
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise AppraisalError(f"{path}: cannot read the intervention library: {exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise AppraisalError(f"{path}: larger than {MAX_FILE_BYTES:,} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AppraisalError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def default_library_text() -> str:
    return resources.files("carepool.prevention").joinpath(DEFAULT_LIBRARY).read_text()


def load_library(extra: Sequence[Path] = (), default: bool = True) -> tuple[Intervention, ...]:
    """The default library, then each file in ``extra`` (a later intervention of the same id
    replaces an earlier one), in order."""
    chosen: dict[str, Intervention] = {}
    if default:
        for item in parse_library(default_library_text(), f"carepool's {DEFAULT_LIBRARY}"):
            chosen[item.id] = item
    for path in extra:
        text = _read(path)
        for item in parse_library(text, str(path)):
            chosen[item.id] = item
    if not chosen:
        raise AppraisalError("no interventions to appraise")
    return tuple(chosen.values())
