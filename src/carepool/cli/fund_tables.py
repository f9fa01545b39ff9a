"""The pooled fund's tables as people read them: position, decisions, burden shifting.

Partners, places and services are printed by name (their codes are in ``--json`` and
``--csv``); what a user or a file supplied is printed literally.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
from rich.table import Table
from rich.text import Text

from carepool.cli.support import literal, money, out, styled
from carepool.geography import england_place_name
from carepool.ledger import MONEY_COLUMNS, Position, pounds


def _gbp(pence: Any) -> str:
    if pence is None or pence is pd.NA:
        return ""
    return money(int(pence))


def print_position(position: Position, by: str | None = None) -> None:
    """The position per line, or summed ``by`` partner, place or service; partners, places
    and services by name (their codes are in ``--json``)."""
    lines = position.lines
    title = f"Fund {position.fund} ({position.year}), position " + (
        f"at the end of {position.period}" if position.period else "now"
    )
    columns = list(MONEY_COLUMNS)
    keys = [by] if by is not None else ["line", "partner"]
    frame = position.summed(by) if by is not None else lines
    partners = dict(zip(position.partners["partner"], position.partners["name"], strict=True))
    named: dict[str, Callable[[str], str]] = {
        "partner": lambda code: str(partners.get(code, code)),
        "place": place_name,
        "service": _words,
        "line": str,
    }
    table = Table(title=title)
    for key in keys:
        # a line's code is what --line takes: shown whole, on one row
        widest = int(frame[key].astype(str).str.len().max()) if key == "line" and len(frame) else 0
        table.add_column(
            key.capitalize(),
            overflow="fold",
            min_width=widest or None,
            max_width=None if by is not None or key == "line" else 12,  # names wrap in a row
        )
    for name in ("Budget", "Actual", "Committed", "Forecast", "Available", "Forecast variance"):
        # one column per money column, in MONEY_COLUMNS order
        table.add_column(name, justify="right")
    for record in frame.to_dict("records"):
        amounts = {m: None if pd.isna(record[m]) else int(record[m]) for m in columns}
        cells = [literal(named[k](str(record[k]))) for k in keys]
        table.add_row(*cells, *[_gbp(amounts[m]) for m in columns])
    totals = position.totals
    total = [_gbp(totals[m]) for m in columns]
    table.add_row("Total", *[""] * (len(keys) - 1), *total, style="bold")
    out.print(table)
    covered = (
        "every line has a forecast"
        if totals["forecast_lines"] == totals["lines"]
        else f"forecast and forecast variance cover the {totals['forecast_lines']} of "
        f"{totals['lines']} lines with a forecast (the others have not forecast their outturn)"
    )
    out.print(
        f"Contributions {pounds(totals['contributed_pence'])}; unallocated "
        f"{pounds(totals['unallocated_pence'])}; settlement {pounds(totals['settlement_pence'])}. "
        f"Books balance: {'yes' if totals['balanced'] else 'NO'}. "
        f"Forecast variance = budget − forecast outturn (negative: overspend); {covered}."
    )


def print_decisions(register: pd.DataFrame) -> None:
    table = Table(title="Decisions register")
    for name in ("Entry", "Subject", "Rules", "Status", "Approvers", "Reasons"):
        table.add_column(name)
    for r in register.to_dict("records"):
        table.add_row(
            str(r["decision"]), r["subject"], r["rules"], r["status"], r["approvers"], r["reasons"]
        )
    out.print(table if len(register) else "No decisions yet.")


def _verdict(row: dict[Any, Any], threshold: float) -> Text:
    """What the monitor found on one row, in words: a flag, or why there is none."""
    cut, rise = row["cut_change"], row["rise_change"]
    if row["flagged"]:
        return styled(f"shift? both moved more than {threshold:.0%}", "bold red")
    if cut is None or pd.isna(cut) or cut > -threshold:
        return Text("no cut")
    if rise is None or pd.isna(rise) or rise < threshold:
        return Text("cut; linked cost did not rise")
    return Text("not flagged")


def _words(measure: Any) -> str:
    """A measure's name as words (``asc home care hours``), which wrap in a narrow column."""
    return str(measure).replace("_", " ")


def place_name(code: str) -> str:
    """A place as people know it (Manchester), its code where it has no name."""
    return england_place_name(code) or code


def print_burden_shift(
    evidence: pd.DataFrame, threshold: float, *, chart_written: bool = False
) -> None:
    if evidence.empty:
        out.print(
            "Nothing to compare yet: the monitor needs spend in two quarters of the ledger, "
            "or two years of activity in the warehouse."
        )
        return
    table = Table(title=f"Burden-shift monitor (threshold {threshold:.0%})")
    for name in ("Link", "Place", "Source", "Periods", "Cut", "Change", "Linked cost", "Change"):
        # fold, never cut short: a measure's name is read whole
        table.add_column(name, justify="right" if name == "Change" else "left", overflow="fold")
    table.add_column("Finding", overflow="fold")
    for r in evidence.to_dict("records"):
        table.add_row(
            r["link"],
            place_name(str(r["place"])),
            r["source"],
            f"{r['before']} → {r['after']}",
            _words(r["cut_measure"]),
            _pct(r["cut_change"]),
            _words(r["rise_measure"]),
            _pct(r["rise_change"]),
            _verdict(r, threshold),
        )
    out.print(table)
    flagged = int(evidence["flagged"].sum())
    more = "Evidence: --csv" + ("" if chart_written else "; chart: --chart FILE")
    out.print(f"{flagged} of {len(evidence)} comparisons flagged. {more}.")


def _pct(value: Any) -> str:
    """A change as a signed percentage, ``+1.2%``; one that rounds to nothing is ``0.0%``, not
    ``-0.0%``."""
    if value is None or pd.isna(value):
        return ""
    shown = round(100 * float(value), 1)
    return "0.0%" if shown == 0 else f"{shown:+.1f}%"
