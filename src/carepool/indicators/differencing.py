"""The differencing audit: no hidden small count can be narrowed by linear programming.

Security-sensitive. Secondary suppression (:func:`carepool.indicators.disclosure.protect`)
makes sure no total and its parts has exactly one hidden cell, but the levels carepool
publishes overlap -- an LSOA lies in an MSOA, a ward, a 2011 LSOA and a deprivation decile at
once -- and an attacker holding every published table can set all of them against each other
at once. This module plays that attacker (:mod:`carepool.indicators.attacker`): for every
published count it solves the linear programme the attacker would, over every level together,
and hides further cells until no hidden count of 1-7 can be bounded more tightly than the
protection interval.

**The protection interval.** Every *sensitive* cell -- a hidden count the rule hides because
it is small, of a place made of whole LSOAs -- must keep bounds at least
``rule.largest_suppressed - rule.smallest`` apart (6 for counts of 1-7): the attacker learns
no more than that the count lies somewhere in a range as wide as the one the rule hides.
Apportioned places (a 2011 LSOA that takes part of a 2021 LSOA) are not themselves audited:
their counts are shares of LSOA counts, which are.

**How.** A cell bounded too tightly is protected by hiding, in every table publishing its
count, the shown cell with the smallest count among those that hold the attacker's bound,
then applying secondary suppression again; rounds repeat until every sensitive cell is
certified. Tables that publish the same counts are audited together; other groups of tables
have nothing to do with each other, and are audited side by side, a thread per core.

See docs/methods/disclosure-control.md.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from carepool.errors import IndicatorError
from carepool.indicators.attacker import COUNTS, Attacker, Block, Finding, Quantity, quantities
from carepool.indicators.attacker_model import PLACE, Geography, quiet_solver
from carepool.indicators.disclosure import SUPPRESSED, DisclosureRule, protect
from carepool.indicators.nesting import Nesting

TABLE = ["indicator", "year"]
#: Rounds of further suppression before the audit gives up (each hides at least one cell).
_MAX_ROUNDS = 200
#: Rounds a cell may stay bounded too tightly, each hiding one more cell that binds it, before
#: every cell that binds it is hidden at once: a small count held by a nest of totals (deaths
#: under 75 within all deaths, neighbourhoods within boroughs) can take more rounds, one cell at
#: a time, than the audit allows.
_PERSISTENT = 3


def counts_digest(rows: pd.DataFrame) -> str:
    """A digest of one table's counts (``level, place_code, numerator, denominator``), so a
    recorded audit is used only for the counts it audited."""
    ordered = rows[[*PLACE, *COUNTS]].sort_values(PLACE, kind="stable")
    digest = hashlib.sha256()
    for column in PLACE:
        # joined from Python strings: iterating pandas' Arrow-backed strings is slower
        digest.update("\x1f".join(ordered[column].astype(str).to_numpy(dtype=object)).encode())
        digest.update(b"\x1e")
    for column in COUNTS:
        values = ordered[column].to_numpy(dtype=np.float64)
        digest.update(np.round(values, 6).tobytes())
    return digest.hexdigest()[:32]


@dataclass
class Audit:
    """The audit's result: the cells hidden and what was found."""

    #: The published pattern: :func:`carepool.indicators.publish.pattern`'s columns.
    pattern: pd.DataFrame
    #: Cells hidden beyond the rule's own (``indicator, year, level, place_code, reason``):
    #: ``secondary`` (secondary suppression) or ``differencing`` (hidden by this audit).
    extra: pd.DataFrame
    report: dict[str, Any]


def table_key(key: Any) -> tuple[str, str]:
    """``(indicator, year)`` from a groupby key of those two columns."""
    return str(key[0]), str(key[1])


def _seed(block: Block, round_: int) -> int:
    text = f"{block.name}:{round_}".encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "little")


class _Pattern:
    """The hidden cells of a set of tables, changed only by hiding more."""

    def __init__(self, keyed: pd.DataFrame, relations: Sequence[str], rule: DisclosureRule):
        self.keyed = keyed
        self.relations = list(relations)
        self.rule = rule
        self.tables = {
            table_key(key): np.asarray(rows, dtype=np.int64)
            for key, rows in keyed.groupby(TABLE, sort=True).indices.items()
        }
        self.hidden = np.zeros(len(keyed), dtype=bool)
        for rows in self.tables.values():
            self.hidden[rows] = self._suppressed(rows, None)
        self.by_rule = self.hidden.copy()
        self.primary = rule.primary(keyed["numerator"]).to_numpy(dtype=bool) | rule.primary(
            keyed["denominator"]
        ).to_numpy(dtype=bool)

    def apply(self, rows: npt.NDArray[np.int64], forced: Any) -> pd.DataFrame:
        """The rule over table ``rows`` with the ``forced`` cells hidden too."""
        return protect(
            self.keyed.iloc[rows],
            count="numerator",
            denominator="denominator",
            groupings=[["indicator", "year", relation] for relation in self.relations],
            rule=self.rule,
            forced=forced,
        )

    def _suppressed(self, rows: npt.NDArray[np.int64], forced: Any) -> npt.NDArray[np.bool_]:
        return self.apply(rows, forced)[SUPPRESSED].to_numpy(dtype=bool)

    def hide(self, key: tuple[str, str], slots: npt.NDArray[np.int64], chosen: set[int]) -> None:
        """Hide the places ``chosen`` (slots) of table ``key``, then whatever secondary
        suppression needs; every cell hidden before stays hidden."""
        rows = self.tables[key]
        forced = self.hidden[rows] | np.isin(slots[rows], list(chosen))
        self.hidden[rows] = self._suppressed(rows, forced)

    def published(self) -> pd.DataFrame:
        """The tables as published: the rule's suppression forced by the cells it did not hide
        itself, which must give back exactly the hidden cells (the pattern is closed)."""
        frames = []
        for rows in self.tables.values():
            table = self.apply(rows, self.hidden[rows] & ~self.primary[rows])
            if not np.array_equal(table[SUPPRESSED].to_numpy(dtype=bool), self.hidden[rows]):
                raise RuntimeError("the audited pattern is not closed under secondary suppression")
            frames.append(table.drop(columns=self.relations))
        return pd.concat(frames, ignore_index=True)

    def extra(self) -> pd.DataFrame:
        beyond = self.hidden & ~self.primary
        extra: pd.DataFrame = self.keyed.loc[beyond, [*TABLE, *PLACE]].reset_index(drop=True)
        extra["reason"] = np.where(self.by_rule[beyond], "secondary", "differencing")
        return extra


def _to_hide(
    finding: Finding, size: npt.NDArray[np.int64], geography: Geography, rounds_found: int
) -> list[tuple[Quantity, int]]:
    """The cells to hide for a finding: the one :func:`_choose` picks, or, for a cell still
    bounded after :data:`_PERSISTENT` rounds, every shown cell that binds it."""
    if rounds_found >= _PERSISTENT and finding.binding:
        return list(finding.binding)
    return [_choose(finding, size, geography)]


def _choose(
    finding: Finding, size: npt.NDArray[np.int64], geography: Geography
) -> tuple[Quantity, int]:
    """The cell to hide for a finding: of the shown cells that hold the attacker's bound (of
    its own count or one it nests with), the one with the smallest published count, then the
    fewest LSOAs, then the first."""
    if not finding.binding:
        raise RuntimeError(
            f"{finding.quantity.name}: {geography.places.iloc[finding.slot].to_dict()} is "
            f"bounded to {finding.low:g}-{finding.high:g} by nothing that can be hidden"
        )
    return min(finding.binding, key=lambda cell: (cell[0].published[cell[1]], size[cell[1]]))


@dataclass
class _Part:
    """What the attacker holds of one part of the tables: every place as a sum, the hidden
    pattern, the published quantities and their blocks."""

    geography: Geography
    slots: npt.NDArray[np.int64]
    pattern: _Pattern
    published: list[Quantity]
    attacker: Attacker
    blocks: list[Block]

    @classmethod
    def of(
        cls,
        keyed: pd.DataFrame,
        relations: Sequence[str],
        geography: Geography,
        rule: DisclosureRule,
        nesting: Nesting | None,
    ) -> _Part:
        slots = geography.slots(keyed)
        pattern = _Pattern(keyed, relations, rule)
        published = quantities(keyed, pattern.tables, slots, geography, rule, nesting)
        attacker = Attacker(geography, rule)
        return cls(geography, slots, pattern, published, attacker, attacker.blocks(published))

    def hidden_at(self, key: tuple[str, str]) -> npt.NDArray[np.bool_]:
        """The places hidden in table ``key``; a place with no row is not hidden (the
        attacker knows an LSOA without one is 0)."""
        mask = np.zeros(len(self.geography.places), dtype=bool)
        rows = self.pattern.tables[key]
        mask[self.slots[rows]] = self.pattern.hidden[rows]
        return mask

    def findings(self, changed: set[tuple[str, str]], round_: int) -> list[Finding]:
        """One round of the attacker: the cells bounded too tightly in the blocks of the
        tables ``changed`` since the last."""
        found: list[Finding] = []
        for block in self.blocks:
            if changed.isdisjoint(block.tables):
                continue
            seen = [
                np.logical_and.reduce([self.hidden_at(key) for key in quantity.tables])
                for quantity in block.quantities
            ]
            self.attacker.reveal(block, seen)
            found += self.attacker.certify(block, _seed(block, round_))
        return found


def _audit_part(
    keyed: pd.DataFrame,
    relations: Sequence[str],
    members: pd.DataFrame,
    rule: DisclosureRule,
    nesting: Nesting | None,
    rows: npt.NDArray[np.int64] | None = None,
) -> Audit:
    """The audit of tables (``keyed``, or its ``rows``) that share no counts with any table
    outside them."""
    keyed = (keyed if rows is None else keyed.iloc[rows]).reset_index(drop=True)
    part = _Part.of(keyed, relations, Geography.of(members), rule, nesting)
    geography, slots, pattern, attacker = part.geography, part.slots, part.pattern, part.attacker
    size = np.diff(geography.weights.indptr).astype(np.int64)
    changed = set(pattern.tables)
    rounds = 0
    persistent: dict[tuple[str, int], int] = {}
    while findings := part.findings(changed, rounds):
        rounds += 1
        if rounds > _MAX_ROUNDS:
            raise IndicatorError(
                f"the disclosure audit could not protect every small count in {_MAX_ROUNDS} "
                f"rounds ({len(findings)} cells could still be narrowed to 1-7): this model's "
                "indicators cannot be published safely. Build at a larger --scale (or with "
                "another --seed)."
            )
        to_hide: dict[tuple[str, str], set[int]] = {}
        for finding in findings:
            cell = (finding.quantity.name, finding.slot)
            persistent[cell] = persistent.get(cell, 0) + 1
            for quantity, choice in _to_hide(finding, size, geography, persistent[cell]):
                for key in quantity.tables:
                    to_hide.setdefault(key, set()).add(choice)
        for key, chosen in to_hide.items():
            pattern.hide(key, slots, chosen)
        changed = set(to_hide)
    report = {
        "tables": len(pattern.tables),
        "quantities": len(part.published),
        "nested_blocks": sum(len(block.quantities) > 1 for block in part.blocks),
        "unrelated": attacker.unrelated,
        "sensitive_cells": int(sum(len(q.sensitive) for q in part.published)),
        "hidden_by_rule": int(pattern.by_rule.sum()),
        "hidden_by_audit": int((pattern.hidden & ~pattern.by_rule).sum()),
        "rounds": rounds,
        "solves": attacker.solves,
        "council_solves": attacker.council_solves,
        "taken_as_found": attacker.taken_as_found,
        "counts": {
            f"{i}/{y}": counts_digest(keyed.iloc[rows]) for (i, y), rows in pattern.tables.items()
        },
    }
    return Audit(pattern.published(), pattern.extra(), report)


def _parts(
    keyed: pd.DataFrame, nesting: Nesting | None, rule: DisclosureRule
) -> list[npt.NDArray[np.int64]]:
    """The rows of each group of tables linked by publishing the same counts (a numerator or
    denominator with the same value for every place) or counts that nest (``nesting``: of one
    family of measures in one period, where any of them is small enough to protect; nesting
    that protects nothing need not tie the tables' audits together), the groups with the most
    small counts first."""
    tables = {
        table_key(key): np.asarray(rows, dtype=np.int64)
        for key, rows in keyed.groupby(TABLE, sort=True).indices.items()
    }
    root = {key: key for key in tables}

    def find(key: tuple[str, str]) -> tuple[str, str]:
        while root[key] != key:
            key = root[key]
        return key

    def link(key: tuple[str, str], other: tuple[str, str]) -> None:
        root[find(key)] = find(other)

    first: dict[str, tuple[str, str]] = {}
    families: dict[str, list[tuple[str, str]]] = {}
    protected: set[str] = set()
    for key, rows in tables.items():
        ordered = keyed.iloc[rows].sort_values(PLACE, kind="stable")
        places = "\x1f".join(ordered["level"] + ":" + ordered["place_code"].astype(str))
        for column in COUNTS:
            values = np.round(ordered[column].to_numpy(dtype=np.float64), 6)
            vector = hashlib.sha256(places.encode() + values.tobytes()).hexdigest()
            if vector in first:
                link(key, first[vector])
            else:
                first[vector] = key
            count = nesting.count(key[0], column) if nesting is not None else None
            if count is not None:
                family = f"{count.family}/{key[1]}"
                families.setdefault(family, []).append(key)
                if rule.primary(pd.Series(values)).any():
                    protected.add(family)
    for family in protected:
        for key in families[family][1:]:
            link(key, families[family][0])
    groups: dict[tuple[str, str], list[npt.NDArray[np.int64]]] = {}
    for key, rows in tables.items():
        groups.setdefault(find(key), []).append(rows)
    parts = [np.sort(np.concatenate(rows)) for rows in groups.values()]
    small = rule.primary(keyed["numerator"]).to_numpy(dtype=bool) | rule.primary(
        keyed["denominator"]
    ).to_numpy(dtype=bool)
    return sorted(parts, key=lambda rows: (-int(small[rows].sum()), -len(rows), int(rows[0])))


def _threads(parts: int) -> int:
    """Threads for the audit: one per core, at most one per part (HiGHS lets go of Python's
    lock while it solves, so the parts' solves run side by side)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, parts))


def audit(
    keyed: pd.DataFrame,
    relations: Sequence[str],
    members: pd.DataFrame,
    rule: DisclosureRule,
    nesting: Nesting | None = None,
) -> Audit:
    """Hide cells until no sensitive cell of any table can be bounded more tightly than the
    protection interval by linear programming over every level together, and (``nesting``)
    over every table whose counts nest.

    ``keyed`` holds every table's counts (``indicator, level, place_code, year, numerator,
    denominator``) for every place of ``members``, with the additive-group key columns
    ``relations`` (:func:`carepool.indicators.relations.additive_groups`). The result does not
    depend on how many processes share the work.
    """
    started = time.perf_counter()
    keyed = keyed.reset_index(drop=True)
    parts = _parts(keyed, nesting, rule)
    # each part's rows are copied out when its audit starts, not all at once
    jobs = [(keyed, relations, members, rule, nesting, rows) for rows in parts]
    workers = _threads(len(parts))
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(_audit_part, *zip(*jobs, strict=True)))
    else:
        results = [_audit_part(*job) for job in jobs]
    summed = (
        "tables",
        "quantities",
        "nested_blocks",
        "sensitive_cells",
        "hidden_by_rule",
        "hidden_by_audit",
    )
    report: dict[str, Any] = {
        "rule": rule.name,
        "smallest": rule.smallest,
        "largest_suppressed": rule.largest_suppressed,
        "round_to": rule.round_to,
        "protection": float(rule.largest_suppressed - rule.smallest),
        "solver": f"HiGHS {quiet_solver().version()}",
        "knowledge": nesting.digest() if nesting is not None else "",
        **{key: sum(int(r.report[key]) for r in results) for key in summed},
        "rounds": max((int(r.report["rounds"]) for r in results), default=0),
        "solves": sum(int(r.report["solves"]) for r in results),
        "council_solves": sum(int(r.report["council_solves"]) for r in results),
        "taken_as_found": sum(int(r.report["taken_as_found"]) for r in results),
        "unrelated": sorted(name for r in results for name in r.report["unrelated"]),
        "threads": workers,
        "seconds": round(time.perf_counter() - started, 2),
        "counts": dict(sorted(kv for r in results for kv in r.report["counts"].items())),
    }
    pattern = pd.concat([r.pattern for r in results], ignore_index=True)
    extra = pd.concat([r.extra for r in results], ignore_index=True)
    extra = extra.sort_values([*TABLE, *PLACE], kind="stable").reset_index(drop=True)
    return Audit(pattern, extra, report)
