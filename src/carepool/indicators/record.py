"""The differencing audit's record in the warehouse, made when it is built or loaded.

Security-sensitive. The audit (:mod:`carepool.indicators.differencing`) takes about half a
minute over all of Greater Manchester, too long for each request, and its result depends only
on the warehouse's counts. So a build or a load runs it once over every indicator, period and
level and commits its record with the tables (:func:`record_audit`, a
:data:`carepool.warehouse.Derive` step): the cells hidden beyond the counts of 1-7 in the
``disclosure`` table, and what it found in the manifest's ``disclosure`` entry, with a digest of
the counts of each table it audited. A published table uses the record only for counts with
those very digests under the same rule (:func:`protected_pattern`); for anything else -- a
warehouse from before the audit, another rule, counts changed since -- the audit is run again
then and there, over every indicator, so nothing is published unaudited.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from carepool.indicators.attacker import COUNTS
from carepool.indicators.attacker_model import PLACE
from carepool.indicators.compute import counts_by_part
from carepool.indicators.cube import model_years, person_sums_by_part, spend_sums
from carepool.indicators.definitions import INDICATORS, Indicator
from carepool.indicators.differencing import TABLE, Audit, counts_digest, table_key
from carepool.indicators.disclosure import HES_RULE, DisclosureRule
from carepool.indicators.levels import available_levels, memberships
from carepool.indicators.nesting import Nesting
from carepool.indicators.publish import audited_pattern, keyed_counts, keyed_pattern
from carepool.warehouse import Tables, Warehouse, write_version

#: The manifest's entry for the audit, and the table of the cells it hid.
ENTRY = "disclosure"
TABLE_NAME = "disclosure"


def every_level(warehouse: Tables) -> pd.DataFrame:
    """The memberships of every level the warehouse can publish."""
    kinds = warehouse.to_pandas(
        warehouse.table("footprint_membership").select("footprint_kind").distinct()
    )
    return memberships(warehouse, available_levels(kinds))


def every_count(warehouse: Tables, members: pd.DataFrame) -> pd.DataFrame:
    """The numerators and denominators of every indicator for the places of ``members``, in
    every period (:func:`carepool.indicators.compute.counts`), summed a part at a time."""
    person = person_sums_by_part(warehouse, INDICATORS, members, model_years(warehouse))
    spend = spend_sums(warehouse, INDICATORS, members)
    return counts_by_part(INDICATORS, person, spend)


def audit_warehouse(
    warehouse: Tables, rule: DisclosureRule = HES_RULE, members: pd.DataFrame | None = None
) -> Audit:
    """The differencing audit of every indicator, period and level of ``warehouse``."""
    members = every_level(warehouse) if members is None else members
    return audited_pattern(every_count(warehouse, members), INDICATORS, members, rule)


def record_audit(warehouse_dir: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Audit the tables ``manifest`` names and return it naming the audit's record too; its
    ``seconds`` are the whole step's, the counts of every place included."""
    started = time.perf_counter()
    with Warehouse(warehouse_dir, manifest=manifest) as warehouse:
        members = every_level(warehouse)
        counted = [every_count(warehouse, members)]
    # the engine is closed first, so that its memory is let go before the linear programmes,
    # and the counts are handed over, not held here through the audit too
    result = audited_pattern(counted.pop(), INDICATORS, members, HES_RULE)
    extra = pa.Table.from_pandas(result.extra, preserve_index=False)
    file = write_version(warehouse_dir, TABLE_NAME, extra)
    tables = dict(manifest.get("tables") or {})
    tables[TABLE_NAME] = {"rows": extra.num_rows, "source": "disclosure audit", "file": file}
    report = {**result.report, "seconds": round(time.perf_counter() - started, 2)}
    return {**manifest, "tables": tables, ENTRY: report}


def audit_is_current(manifest: dict[str, Any]) -> bool:
    """Whether the manifest records an audit that knew what the definitions say today of how
    counts nest (a warehouse audited before is audited again when published from)."""
    report = manifest.get(ENTRY)
    return isinstance(report, dict) and report.get("knowledge") == Nesting.of(INDICATORS).digest()


def _rule_of(report: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(report.get(key) for key in ("rule", "smallest", "largest_suppressed", "round_to"))


def recorded_extra(
    warehouse: Tables, digests: dict[str, str], rule: DisclosureRule
) -> pd.DataFrame | None:
    """The recorded cells hidden beyond the counts of 1-7 for tables with these ``digests``
    (``indicator/year``: :func:`counts_digest`), or None unless the warehouse's audit covered
    every one of them, with the same counts, under ``rule``, knowing what the definitions
    say today of how counts nest."""
    report = warehouse.manifest().get(ENTRY)
    if not isinstance(report, dict):
        return None
    wanted = (rule.name, rule.smallest, rule.largest_suppressed, rule.round_to)
    audited = report.get("counts")
    if _rule_of(report) != wanted or not isinstance(audited, dict):
        return None
    if not audit_is_current(warehouse.manifest()):
        return None
    if any(audited.get(table) != digest for table, digest in digests.items()):
        return None
    return warehouse.to_pandas(warehouse.table(TABLE_NAME))


def protected_pattern(
    warehouse: Tables,
    table_counts: pd.DataFrame,
    indicators: Sequence[Indicator],
    members: pd.DataFrame,
    rule: DisclosureRule,
) -> pd.DataFrame:
    """Which cells of ``indicators`` are hidden, and their published counts
    (:func:`carepool.indicators.publish.pattern`), as the warehouse's audit decided; the
    audit is run now if its record does not cover these counts under ``rule``."""
    keyed, relations = keyed_counts(table_counts, indicators, members)
    counted = keyed[[*PLACE, *COUNTS]]  # the digest's columns: the rest need no copying
    digests = {
        "/".join(table_key(key)): counts_digest(counted.iloc[rows])
        for key, rows in keyed.groupby(TABLE, sort=False).indices.items()
    }
    extra = recorded_extra(warehouse, digests, rule)
    if extra is not None:
        return keyed_pattern(keyed, relations, rule, extra)
    result = audit_warehouse(warehouse, rule, members)
    wanted = {indicator.id for indicator in indicators}
    return result.pattern[result.pattern["indicator"].isin(wanted)].reset_index(drop=True)
