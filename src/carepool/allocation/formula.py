"""The allocation formula as data: a versioned TOML specification, parsed and checked.

A formula names its components (acute, mental health, adult social care, ...), each with its
share of the pool and its need model: an age-sex cost curve (estimated from the warehouse's
costed activity, flat, or supplied), an additional-need index over small-area variables, a
health-inequalities blend and a market-forces factor. It also carries the pace-of-change
policy. Every fault is reported with the file and the field path, before anything is
computed; see docs/methods/allocation.md for the method and the default formula's sources.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Final

from carepool.ages import FIVE_YEAR
from carepool.allocation.variables import SERVICES, VARIABLES
from carepool.errors import AllocationError

#: ``weight = "estimate"``: the coefficient is fitted to the warehouse's costed activity.
ESTIMATE: Final = "estimate"
#: ``cost_curve = "warehouse"`` estimates the curve; ``"flat"`` weights every age alike.
CURVE_SOURCES: Final = ("warehouse", "flat")
SEXES: Final = ("female", "male")
SHARE_TOLERANCE: Final = 1e-9
DEFAULT_FORMULA: Final = "default.toml"

_TOP_KEYS = {"formula", "inequalities", "market_forces", "pace_of_change", "component"}
_FORMULA_KEYS = {"id", "version", "title", "description", "source"}
_COMPONENT_KEYS = {
    "id",
    "name",
    "share",
    "cost_curve",
    "services",
    "need",
    "inequalities_weight",
    "market_forces",
    "note",
}


@dataclass(frozen=True)
class NeedVariable:
    """One additional-need variable and its coefficient (log need per standard deviation)."""

    variable: str
    weight: float | None  # None: estimated from the warehouse


@dataclass(frozen=True)
class CurveCell:
    """A supplied cost-curve entry: relative cost per head for an age range and sex."""

    first_band: int
    last_band: int
    sex: str | None  # None: both sexes
    weight: float


@dataclass(frozen=True)
class Component:
    id: str
    name: str
    share: float
    curve_source: str  # "warehouse", "flat" or "supplied"
    curve: tuple[CurveCell, ...] = ()
    services: tuple[str, ...] = ()
    need: tuple[NeedVariable, ...] = ()
    inequalities_weight: float = 0.0
    market_forces: bool = True
    note: str = ""


@dataclass(frozen=True)
class PaceOfChange:
    """How far allocations move from last year's baseline towards target in one year.

    ``min_growth``: every place grows by at least this fraction of its baseline (the floor).
    ``max_below_target``: no place ends more than this fraction below its target.
    ``convergence``: the fraction of the gap between baseline (grown with the pool) and
    target closed this year, before the floor and the limit apply.
    """

    min_growth: float = 0.0
    max_below_target: float | None = 0.05
    convergence: float = 0.25


@dataclass(frozen=True)
class Formula:
    id: str
    version: str
    title: str
    components: tuple[Component, ...]
    inequalities_variable: str
    market_forces: Mapping[str, float] = field(default_factory=dict)
    market_forces_default: float = 1.0
    pace: PaceOfChange = PaceOfChange()
    description: str = ""
    source: str = ""
    digest: str = ""
    path: str = ""

    def component(self, component_id: str) -> Component:
        for c in self.components:
            if c.id == component_id:
                return c
        raise KeyError(component_id)

    def variables(self) -> list[str]:
        """Every small-area variable the formula reads, in first-use order."""
        names: list[str] = []
        for c in self.components:
            for v in c.need:
                if v.variable not in names:
                    names.append(v.variable)
        uses_inequalities = any(c.inequalities_weight > 0 for c in self.components)
        if uses_inequalities and self.inequalities_variable not in names:
            names.append(self.inequalities_variable)
        return names

    def with_pace(self, **changes: float | None) -> Formula:
        """This formula with some pace-of-change settings replaced (CLI overrides)."""
        given = {k: v for k, v in changes.items() if v is not None}
        if not given:
            return self
        _check_flags(given)
        pace = replace(self.pace, **given)
        return replace(self, pace=pace)


class _Reader:
    """Reads typed values out of parsed TOML, naming the file and field path on every fault."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> AllocationError:
        return AllocationError(f"{self.source}: {where}: {message}")

    def table(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected a table, got {_shown(value)}")
        return value

    def only(self, table: Mapping[str, Any], allowed: set[str], where: str) -> None:
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise self.fail(
                where,
                f"unknown key {', '.join(map(repr, unknown))}; "
                f"expected some of {', '.join(sorted(allowed))}",
            )

    def text(
        self, table: Mapping[str, Any], key: str, where: str, default: str | None = None
    ) -> str:
        value = table.get(key, default)
        if value is None:
            raise self.fail(f"{where}.{key}", "is required")
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{where}.{key}", f"expected non-empty text, got {_shown(value)}")
        return value.strip()

    def number(
        self,
        value: Any,
        where: str,
        *,
        low: float | None = None,
        high: float | None = None,
        low_open: bool = False,
        high_open: bool = False,
    ) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(where, f"expected a number, got {_shown(value)}")
        x = float(value)
        if not math.isfinite(x):
            raise self.fail(where, f"expected a finite number, got {_shown(value)}")
        too_low = low is not None and (x <= low if low_open else x < low)
        too_high = high is not None and (x >= high if high_open else x > high)
        if too_low or too_high:
            lo = "" if low is None else ("> " if low_open else ">= ") + f"{low:g}"
            hi = "" if high is None else ("< " if high_open else "<= ") + f"{high:g}"
            bounds = " and ".join(b for b in (lo, hi) if b)
            raise self.fail(where, f"expected a number {bounds}, got {_shown(value)}")
        return x


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_ages(text: str) -> tuple[int, int]:
    """``"15-44"``, ``"85+"`` or ``"all"`` as (first band, last band) of the five-year bands
    (:data:`carepool.ages.FIVE_YEAR`); a ValueError when the ages are not on band boundaries."""
    raw = text.strip()
    open_band = len(FIVE_YEAR) - 1
    if raw == "all":
        return 0, open_band
    if raw.endswith("+"):
        return FIVE_YEAR.boundary_index(int(raw[:-1])), open_band
    low, _, high = raw.partition("-")
    start, end = int(low), int(high)
    if end < start:
        raise ValueError("the range ends before it starts")
    if end + 1 >= FIVE_YEAR.starts[-1]:
        raise ValueError(f"ranges that reach {FIVE_YEAR.starts[-1]} must be written like '75+'")
    last = FIVE_YEAR.boundary_index(end + 1) - 1
    return FIVE_YEAR.boundary_index(start), last


def _curve(reader: _Reader, raw: list[Any], where: str) -> tuple[CurveCell, ...]:
    cells: list[CurveCell] = []
    covered: set[tuple[int, str]] = set()
    for i, entry in enumerate(raw):
        at = f"{where}[{i}]"
        item = reader.table(entry, at)
        reader.only(item, {"ages", "sex", "weight"}, at)
        ages = reader.text(item, "ages", at)
        try:
            first, last = parse_ages(ages)
        except ValueError as exc:
            raise reader.fail(
                f"{at}.ages",
                f"expected five-year boundaries like '15-44', '85+' or 'all', got {ages!r} ({exc})",
            ) from None
        sex = item.get("sex", "both")
        if sex not in (*SEXES, "both"):
            raise reader.fail(f"{at}.sex", f"expected female, male or both, got {_shown(sex)}")
        weight = reader.number(item.get("weight"), f"{at}.weight", low=0)
        for band in range(first, last + 1):
            for s in SEXES if sex == "both" else (sex,):
                if (band, s) in covered:
                    raise reader.fail(at, f"ages {ages} ({s}) overlap an earlier entry")
                covered.add((band, s))
        cells.append(CurveCell(first, last, None if sex == "both" else sex, weight))
    if not cells or all(c.weight == 0 for c in cells):
        raise reader.fail(where, "a supplied cost curve needs at least one positive weight")
    return tuple(cells)


def _component(reader: _Reader, raw: Any, i: int, default_hi: float) -> Component:
    at = f"component[{i}]"
    item = reader.table(raw, at)
    cid = reader.text(item, "id", at)
    at = f"component[{i}] ({cid})"
    reader.only(item, _COMPONENT_KEYS, at)
    share = reader.number(item.get("share"), f"{at}.share", low=0, high=1, low_open=True)
    curve_raw = item.get("cost_curve", "warehouse")
    services: tuple[str, ...] = ()
    curve: tuple[CurveCell, ...] = ()
    if isinstance(curve_raw, str):
        if curve_raw not in CURVE_SOURCES:
            raise reader.fail(
                f"{at}.cost_curve",
                "expected 'warehouse', 'flat' or a list of {ages, sex, weight}, "
                f"got {curve_raw!r}",
            )
        source = curve_raw
    elif isinstance(curve_raw, list):
        source = "supplied"
        curve = _curve(reader, curve_raw, f"{at}.cost_curve")
    else:
        raise reader.fail(f"{at}.cost_curve", f"expected text or a list, got {_shown(curve_raw)}")
    raw_services = item.get("services", [])
    if not isinstance(raw_services, list) or not all(isinstance(s, str) for s in raw_services):
        raise reader.fail(
            f"{at}.services", f"expected a list of service names, got {_shown(raw_services)}"
        )
    unknown = [s for s in raw_services if s not in SERVICES]
    if unknown:
        raise reader.fail(
            f"{at}.services",
            f"unknown service {', '.join(map(repr, unknown))}; expected some of "
            f"{', '.join(SERVICES)}",
        )
    services = tuple(raw_services)
    if source == "warehouse" and not services:
        raise reader.fail(
            f"{at}.services", "a cost curve estimated from the warehouse needs its services"
        )
    need: list[NeedVariable] = []
    raw_need = item.get("need", [])
    if not isinstance(raw_need, list):
        raise reader.fail(
            f"{at}.need", f"expected a list of {{variable, weight}}, got {_shown(raw_need)}"
        )
    for j, entry in enumerate(raw_need):
        nat = f"{at}.need[{j}]"
        var = reader.table(entry, nat)
        reader.only(var, {"variable", "weight"}, nat)
        name = reader.text(var, "variable", nat)
        if name not in VARIABLES:
            raise reader.fail(
                f"{nat}.variable",
                f"unknown variable {name!r}; expected one of {', '.join(VARIABLES)}",
            )
        if any(v.variable == name for v in need):
            raise reader.fail(f"{nat}.variable", f"{name!r} is listed twice")
        weight_raw = var.get("weight", ESTIMATE)
        if weight_raw == ESTIMATE:
            if not services:
                raise reader.fail(
                    f"{nat}.weight",
                    "'estimate' fits the weight to the component's costed services; "
                    "list them in services or give a number",
                )
            weight: float | None = None
        else:
            weight = reader.number(weight_raw, f"{nat}.weight", low=-5, high=5)
        need.append(NeedVariable(name, weight))
    hi = reader.number(
        item.get("inequalities_weight", default_hi), f"{at}.inequalities_weight", low=0, high=1
    )
    mff = item.get("market_forces", True)
    if not isinstance(mff, bool):
        raise reader.fail(f"{at}.market_forces", f"expected true or false, got {_shown(mff)}")
    note = item.get("note", "")
    return Component(
        id=cid,
        name=reader.text(item, "name", at, default=cid),
        share=share,
        curve_source=source,
        curve=curve,
        services=services,
        need=tuple(need),
        inequalities_weight=hi,
        market_forces=mff,
        note=str(note),
    )


#: Each pace-of-change setting's limits, for the formula file and the flags that override it.
PACE_LIMITS = {"min_growth": (-0.5, 1.0), "max_below_target": (0.0, 1.0), "convergence": (0.0, 1.0)}


def _check_pace(pace: PaceOfChange, source: str) -> None:
    reader = _Reader(source)
    for key, (low, high) in PACE_LIMITS.items():
        value = getattr(pace, key)
        if value is not None:
            reader.number(value, f"pace_of_change.{key}", low=low, high=high)


def _check_flags(given: Mapping[str, float]) -> None:
    """Settings given as flags (``--min-growth``), refused in the flag's own name."""
    for key, value in given.items():
        low, high = PACE_LIMITS[key]
        if not (math.isfinite(value) and low <= value <= high):
            flag = "--" + key.replace("_", "-")
            raise AllocationError(
                f"{flag} must be a number from {low:g} to {high:g}, got {value:g}"
            )


def parse_formula(text: str, source: str) -> Formula:
    """Parse and check a formula; ``source`` names it in every error message."""
    reader = _Reader(source)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AllocationError(f"{source}: not valid TOML: {exc}") from None
    reader.only(doc, _TOP_KEYS, "top level")
    meta = reader.table(doc.get("formula", {}), "formula")
    reader.only(meta, _FORMULA_KEYS, "formula")
    inequalities = reader.table(doc.get("inequalities", {}), "inequalities")
    reader.only(inequalities, {"variable", "weight"}, "inequalities")
    hi_variable = reader.text(inequalities, "variable", "inequalities", default="health_score")
    if hi_variable not in VARIABLES:
        raise reader.fail(
            "inequalities.variable",
            f"unknown variable {hi_variable!r}; expected one of {', '.join(VARIABLES)}",
        )
    default_hi = reader.number(
        inequalities.get("weight", 0.0), "inequalities.weight", low=0, high=1, high_open=True
    )
    raw_components = doc.get("component")
    if not isinstance(raw_components, list) or not raw_components:
        raise reader.fail("component", "expected at least one [[component]]")
    components = [_component(reader, raw, i, default_hi) for i, raw in enumerate(raw_components)]
    ids = [c.id for c in components]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise reader.fail("component", f"duplicate id {', '.join(map(repr, duplicated))}")
    total = math.fsum(c.share for c in components)
    if abs(total - 1.0) > SHARE_TOLERANCE:
        shares = ", ".join(f"{c.id} {c.share:g}" for c in components)
        raise reader.fail("component.share", f"shares must sum to 1, got {total:.12g} ({shares})")
    mff_table = reader.table(doc.get("market_forces", {}), "market_forces")
    reader.only(mff_table, {"default", "index", "source"}, "market_forces")
    mff_default = reader.number(
        mff_table.get("default", 1.0), "market_forces.default", low=0, low_open=True
    )
    index_raw = reader.table(mff_table.get("index", {}), "market_forces.index")
    mff = {
        str(code): reader.number(value, f"market_forces.index.{code}", low=0, low_open=True)
        for code, value in index_raw.items()
    }
    pace_raw = reader.table(doc.get("pace_of_change", {}), "pace_of_change")
    reader.only(pace_raw, {"min_growth", "max_below_target", "convergence"}, "pace_of_change")
    defaults = PaceOfChange()
    below = pace_raw.get("max_below_target", defaults.max_below_target)
    pace = PaceOfChange(
        min_growth=reader.number(
            pace_raw.get("min_growth", defaults.min_growth),
            "pace_of_change.min_growth",
            low=-0.5,
            high=1,
        ),
        max_below_target=None
        if below is None or below is False
        else reader.number(below, "pace_of_change.max_below_target", low=0, high=1),
        convergence=reader.number(
            pace_raw.get("convergence", defaults.convergence),
            "pace_of_change.convergence",
            low=0,
            high=1,
        ),
    )
    return Formula(
        id=reader.text(meta, "id", "formula", default="custom"),
        version=reader.text(meta, "version", "formula", default="unversioned"),
        title=reader.text(meta, "title", "formula", default="Allocation formula"),
        description=str(meta.get("description", "")),
        source=str(meta.get("source", "")),
        components=tuple(components),
        inequalities_variable=hi_variable,
        market_forces=mff,
        market_forces_default=mff_default,
        pace=pace,
        digest=hashlib.sha256(text.encode()).hexdigest()[:16],
        path=source,
    )


def load_formula(path: Path | str | None = None) -> Formula:
    """The formula in ``path``, or the default formula shipped with carepool."""
    if path is None:
        text = resources.files("carepool.allocation").joinpath(DEFAULT_FORMULA).read_text()
        return parse_formula(text, f"carepool default formula ({DEFAULT_FORMULA})")
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AllocationError(f"{file}: formula file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AllocationError(f"{file}: cannot read the formula: {exc}") from None
    return parse_formula(text, str(file))
