"""Reading the ledger: the fund's position, the decisions register, spend by quarter, the
journal's chain.

Balances are never stored: the position is a sum over postings every time it is asked for,
so it cannot disagree with the journal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, func, select

from carepool.ledger.records.fund import YEAR_END, FundContext, Standing, find_user, standing
from carepool.ledger.records.spec import User
from carepool.ledger.store.schema import journal, journal_standing, lines, postings
from carepool.ledger.store.writer import TOTAL_KEYS
from carepool.years import quarter

LINE_COLUMNS = (
    "line",
    "partner",
    "service",
    "place",
    "budget_pence",
    "actual_pence",
    "committed_pence",
    "forecast_pence",
    "available_pence",
    "settled_pence",
    "forecast_variance_pence",
)


#: The money columns of a position's lines, in pence.
MONEY_COLUMNS = (
    "budget_pence",
    "actual_pence",
    "committed_pence",
    "forecast_pence",
    "available_pence",
    "forecast_variance_pence",
)


def forecast_variance(budget_pence: int, forecast_pence: int | None) -> int | None:
    """Budget minus forecast outturn (negative: an overspend); None without a forecast."""
    return None if forecast_pence is None else budget_pence - forecast_pence


@dataclass(frozen=True)
class Position:
    """A fund's position: per line, per partner, and in total, as at a period (or now)."""

    fund: str
    year: str
    period: str | None
    lines: pd.DataFrame
    partners: pd.DataFrame
    totals: dict[str, Any]

    def summed(self, by: str) -> pd.DataFrame:
        """The lines' money summed by ``by`` (``place``, ``service`` or ``partner``), in its
        order. Forecast and forecast variance sum over the lines that have a forecast only (a
        line without one is not a line spending nothing), and a group none of whose lines has
        a forecast has none either; ``forecast_lines`` says how many of ``lines`` have one."""
        money = list(MONEY_COLUMNS)
        grouped = self.lines.assign(
            lines=1, forecast_lines=self.lines["forecast_pence"].notna().astype(int)
        ).groupby(by, sort=True)
        summed = grouped[money].sum(min_count=1)
        counted = grouped[["lines", "forecast_lines"]].sum()
        return summed.join(counted).reset_index()

    @staticmethod
    def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
        """A frame of the position as JSON-ready rows (missing values as None)."""
        return [
            {str(k): (None if v is None or v is pd.NA else _plain(v)) for k, v in r.items()}
            for r in frame.to_dict("records")
        ]

    def as_json(self) -> dict[str, Any]:
        rows = self.rows
        return {
            "fund": self.fund,
            "year": self.year,
            "period": self.period,
            "lines": rows(self.lines),
            "partners": rows(self.partners),
            "totals": self.totals,
        }


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def fund_standing(connection: Connection, ctx: FundContext, *, closes: bool = True) -> Standing:
    """The fund's users now and (unless ``closes=False``: a month's close carries its totals,
    which only a position needs) its closed periods, from the ``user`` and ``close`` entries
    their makers had the right to make (:func:`carepool.ledger.records.fund.standing`)."""
    view = journal_standing.c
    kinds = ["user", "close"] if closes else ["user"]
    rows = connection.execute(  # sorted here: ORDER BY would lead SQLite off the kind index
        select(view.seq, view.kind, view.actor, view.period, view.payload).where(
            view.fund_id == ctx.id, view.kind.in_(kinds)
        )
    ).all()
    return standing(ctx, (dict(row._mapping) for row in sorted(rows, key=lambda row: row.seq)))


def _closed_totals(made: Standing) -> dict[str, list[list[Any]]]:
    """Each closed period's totals, from its close entry (periods closed without them: none)."""
    return {
        period: payload["totals"]
        for period, payload in made.closes.items()
        if isinstance(payload, dict) and isinstance(payload.get("totals"), list)
    }


def reader(
    connection: Connection, ctx: FundContext, actor: str, made: Standing | None = None
) -> User:
    """``actor`` as a user of the fund now (every role may read), or PermissionDenied; from
    ``made`` when the caller has read the fund's standing already."""
    made = made or fund_standing(connection, ctx, closes=False)
    return find_user(made.users, actor, ctx.id)


def position(
    connection: Connection, ctx: FundContext, period: str | None, made: Standing
) -> Position:
    """Closed months from their close entries' totals (``made``: the fund's standing, closes
    included); open months summed from postings."""
    closed = {
        p: totals for p, totals in _closed_totals(made).items() if period is None or p <= period
    }
    open_periods = [
        p for p in (*ctx.periods, YEAR_END) if p not in closed and (period is None or p <= period)
    ]
    query = (
        select(*TOTAL_KEYS, func.sum(postings.c.amount_pence), func.count())
        .where(postings.c.fund_id == ctx.id, postings.c.period.in_(open_periods))
        .group_by(*TOTAL_KEYS)
    )
    if connection.dialect.name == "postgresql":
        # a short aggregate: compiling it to machine code costs more than it saves
        connection.exec_driver_sql("SET LOCAL jit = off")
    rows: list[Any] = [tuple(r) for totals in closed.values() for r in totals]
    if open_periods:
        rows += connection.execute(query).all()
    per_line: dict[str, dict[str, int]] = {line: {} for line in ctx.lines}
    forecast_lines: set[str] = set()
    per_partner: dict[str, dict[str, int]] = {p: {} for p in ctx.partner_kinds}
    pool = 0
    for line, partner, account, category, amount, count in rows:
        amount = int(amount)
        if line is not None:
            cell = per_line[line]
            if account == "line" and category == "budget":
                cell["budget"] = cell.get("budget", 0) + amount
            if account == "line" and category == "settlement":
                cell["settled"] = cell.get("settled", 0) + amount
            if account in ("line", "spend", "commit", "forecast"):
                cell[account] = cell.get(account, 0) + amount
            if account == "forecast" and count:
                forecast_lines.add(line)
        elif partner is not None:
            key = "contributed" if category == "contribution" else "settlement"
            per_partner[partner][key] = per_partner[partner].get(key, 0) - amount
        elif account == "pool":
            pool += amount
    forecast_lines |= _forecast_without_postings(
        connection, ctx, set(ctx.lines) - forecast_lines, period
    )
    line_rows = []
    for line_id, line in ctx.lines.items():
        cell = per_line[line_id]
        line_rows.append(
            {
                "line": line_id,
                "partner": line.partner,
                "service": line.service,
                "place": line.place,
                "budget_pence": cell.get("budget", 0),
                "actual_pence": cell.get("spend", 0),
                "committed_pence": cell.get("commit", 0),
                "forecast_pence": cell.get("forecast", 0) if line_id in forecast_lines else None,
                "available_pence": cell.get("line", 0),
                "settled_pence": cell.get("settled", 0),
            }
        )
    frame = pd.DataFrame(line_rows, columns=list(LINE_COLUMNS))
    frame["forecast_pence"] = frame["forecast_pence"].astype("Int64")
    frame["forecast_variance_pence"] = frame["budget_pence"] - frame["forecast_pence"]
    forecasted = frame["forecast_pence"].notna()
    names = {p.id: p.name for p in ctx.spec.partners}
    partner_rows = [
        {
            "partner": partner,
            "name": names[partner],
            "kind": ctx.partner_kinds[partner],
            "contributed_pence": cell.get("contributed", 0),
            "settlement_pence": cell.get("settlement", 0),
        }
        for partner, cell in per_partner.items()
    ]
    partners_frame = pd.DataFrame(
        partner_rows,
        columns=["partner", "name", "kind", "contributed_pence", "settlement_pence"],
    )
    contributed = int(partners_frame["contributed_pence"].sum())
    settlement = int(partners_frame["settlement_pence"].sum())
    totals = {
        "contributed_pence": contributed,
        "settlement_pence": settlement,
        "unallocated_pence": pool,
        "budget_pence": int(frame["budget_pence"].sum()),
        "actual_pence": int(frame["actual_pence"].sum()),
        "committed_pence": int(frame["committed_pence"].sum()),
        "forecast_pence": int(frame["forecast_pence"].sum()) if forecast_lines else None,
        "available_pence": int(frame["available_pence"].sum()),
        # over the lines with a forecast only: the others have not said what they will spend
        "forecast_variance_pence": (
            int(frame["forecast_variance_pence"].sum()) if forecasted.any() else None
        ),
        "forecast_lines": int(forecasted.sum()),
        "lines": len(frame),
    }
    # What partners put in is unallocated, available on a line, committed or spent.
    held = pool + sum(
        int(frame[c].sum()) for c in ("available_pence", "committed_pence", "actual_pence")
    )
    totals["balanced"] = held == contributed + settlement
    return Position(ctx.id, ctx.spec.fund.year, period, frame, partners_frame, totals)


def _forecast_without_postings(
    connection: Connection, ctx: FundContext, lines: set[str], period: str | None
) -> set[str]:
    """Of ``lines``, those with a forecast entry but no forecast posting: a first forecast
    of exactly zero moves nothing, yet it is a forecast (0), not the absence of one."""
    if not lines:
        return set()
    query = select(journal.c.payload).where(
        journal.c.fund_id == ctx.id, journal.c.kind == "forecast"
    )
    if period is not None:
        query = query.where(journal.c.period <= period)
    found = {_read(payload).get("line") for payload in connection.execute(query).scalars()}
    return lines & found


def _read(payload: str) -> dict[str, Any]:
    """An entry's payload; one that is not the ledger's (inserted round it: ``verify`` names
    it) reads as empty rather than stopping every report of the fund."""
    try:
        value = json.loads(payload)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def decisions(connection: Connection, ctx: FundContext) -> pd.DataFrame:
    """The decisions register: every held request with its outcome, and every settlement."""
    rows = connection.execute(
        select(
            journal.c.seq,
            journal.c.kind,
            journal.c.posted_at,
            journal.c.description,
            journal.c.ref_seq,
            journal.c.payload,
        )
        .where(journal.c.fund_id == ctx.id, journal.c.kind.in_(["hold", "decision", "settlement"]))
        .order_by(journal.c.seq)
    )
    register: dict[int, dict[str, Any]] = {}
    for seq, kind, posted_at, description, ref_seq, payload_text in rows:
        payload = _read(payload_text)
        try:
            if kind == "hold":
                register[seq] = {
                    "decision": seq,
                    "requested_at": posted_at,
                    "subject": description,
                    "rules": ", ".join(r["rule"] for r in payload["rules"]),
                    "why_held": "; ".join(r["reason"] for r in payload["rules"]),
                    "status": "pending",
                    "approvers": "",
                    "reasons": "",
                    "decided_at": None,
                    "posted_entry": None,
                }
            elif kind == "decision" and ref_seq in register:
                item = register[ref_seq]
                item["status"] = {"approval": "pending"}.get(payload["outcome"], payload["outcome"])
                item["approvers"] = ", ".join(payload["approvals"])
                item["reasons"] = "; ".join(filter(None, [item["reasons"], payload["reason"]]))
                item["decided_at"] = posted_at if item["status"] != "pending" else None
                if payload.get("posted"):
                    item["posted_entry"] = seq + 1
            elif kind == "settlement":
                register[seq] = {
                    "decision": seq,
                    "requested_at": posted_at,
                    "subject": description,
                    "rules": f"risk share: {payload['rule']['rule']}",
                    "why_held": "",
                    "status": "settled",
                    "approvers": payload["decided_by"],
                    "reasons": payload["reason"],
                    "decided_at": posted_at,
                    "posted_entry": seq,
                }
        except (KeyError, TypeError, ValueError, AttributeError):
            continue  # a payload not of the ledger's making (verify names its entry)
    columns = [
        "decision",
        "requested_at",
        "subject",
        "rules",
        "why_held",
        "status",
        "approvers",
        "reasons",
        "decided_at",
        "posted_entry",
    ]
    frame = pd.DataFrame(list(register.values()), columns=columns)
    frame["posted_entry"] = frame["posted_entry"].astype("Int64")
    return frame


def quarterly_spend(connection: Connection, ctx: FundContext) -> pd.DataFrame:
    """Spend by place, service, partner kind and financial quarter, from the postings."""
    rows = connection.execute(
        select(
            lines.c.place,
            lines.c.service,
            lines.c.partner_id,
            postings.c.period,
            func.sum(postings.c.amount_pence),
        )
        .join(lines, (lines.c.fund_id == postings.c.fund_id) & (lines.c.id == postings.c.line_id))
        .where(postings.c.fund_id == ctx.id, postings.c.account == "spend")
        .group_by(lines.c.place, lines.c.service, lines.c.partner_id, postings.c.period)
    ).all()
    frame = pd.DataFrame(rows, columns=["place", "service", "partner", "period", "pence"])
    frame["partner_kind"] = frame["partner"].map(ctx.partner_kinds)
    frame["quarter"] = [quarter(p) for p in frame["period"]]
    keys = ["place", "service", "partner_kind", "quarter"]
    return frame.groupby(keys)["pence"].sum().reset_index()


def who_posted(connection: Connection, ctx: FundContext) -> pd.DataFrame:
    """Every entry with who posted it and under which request id: for auditors only (the
    published journal carries a salted commitment in their place)."""
    rows = connection.execute(
        select(
            journal.c.seq,
            journal.c.kind,
            journal.c.period,
            journal.c.posted_at,
            journal.c.actor,
            journal.c.request_id,
            journal.c.description,
        )
        .where(journal.c.fund_id == ctx.id)
        .order_by(journal.c.seq)
    )
    columns = ["seq", "kind", "period", "posted_at", "actor", "request_id", "description"]
    return pd.DataFrame([tuple(row) for row in rows], columns=columns)
