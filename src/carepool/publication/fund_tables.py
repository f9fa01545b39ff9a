"""The fund's public figures, refreshed whenever the fund is posted to: its lines and
partners as the public sees them, the decisions register, the published journal, and a
checkpoint of its head signed with the fund's key for anyone to keep."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from carepool.errors import PermissionDenied
from carepool.ledger import (
    Checkpoint,
    Ledger,
    read_private_key,
    write_checkpoint,
    write_keys,
)

JOURNAL_COLUMNS = ["seq", "kind", "period", "posted_at", "description", "ref_seq", "hash"]


@dataclass(frozen=True)
class FundFigures:
    fund: str
    name: str
    year: str
    tables: dict[str, pd.DataFrame]
    totals: dict[str, object]
    journal_path: Path
    checkpoint: Checkpoint | None


def checkpoint_keys(keys_dir: Path) -> Path:
    """The fund's private key, made on first use (kept beside the data, readable by its owner
    only; in a deployment, keep it off the database server: docs/deployment.md)."""
    key = keys_dir / "checkpoint.key"
    if not key.is_file():
        keys_dir.parent.mkdir(parents=True, exist_ok=True)
        write_keys(keys_dir)
    return key


def fund_figures(
    ledger: Ledger, fund: str, public_user: str, out_dir: Path, keys_dir: Path | None
) -> FundFigures:
    """Read the fund as ``public_user`` (a user of the fund with the public role) sees it,
    export its journal into ``out_dir`` and, with ``keys_dir``, sign its head."""
    spec = ledger.spec(fund)
    position = ledger.position(fund, actor=public_user)
    decisions = all_decisions(ledger, public_user)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=out_dir, suffix=".jsonl", delete=False) as handle:
        staging = Path(handle.name)
    ledger.export(fund, staging, actor=public_user)
    journal_path = out_dir / "journal.jsonl"
    staging.replace(journal_path)
    checkpoint = None
    if keys_dir is not None:
        checkpoint = ledger.checkpoint(fund, read_private_key(checkpoint_keys(keys_dir)))
        write_checkpoint(checkpoint, out_dir / "checkpoint.json")
        pub = (keys_dir / "checkpoint.pub").read_bytes()
        (out_dir / "checkpoint.pub").write_bytes(pub)
    names = {p.id: p.name for p in spec.partners}
    lines = position.lines.assign(partner_name=position.lines["partner"].map(names))
    return FundFigures(
        fund=fund,
        name=spec.fund.name,
        year=spec.fund.year,
        tables={
            "fund_lines": lines,
            "fund_partners": position.partners,
            **{f"fund_by_{by}": position.summed(by) for by in ("place", "service", "partner")},
            "decisions": decisions,
            "journal": journal_frame(journal_path),
        },
        totals=dict(position.totals),
        journal_path=journal_path,
        checkpoint=checkpoint,
    )


def all_decisions(ledger: Ledger, public_user: str) -> pd.DataFrame:
    """Every fund's decisions register, newest fund first: the public's record outlives the
    year. A fund the public user cannot read (not one of its users) is left out."""
    frames = []
    for fund in reversed(ledger.funds()):
        try:
            frame = ledger.decisions(fund, actor=public_user)
        except PermissionDenied:
            continue
        year = ledger.spec(fund).fund.year
        frames.append(frame.rename(columns={"decision": "seq"}).assign(fund=fund, year=year))
    if not frames:
        return pd.DataFrame(columns=["fund", "year", "seq"])
    combined = pd.concat(frames, ignore_index=True)
    first = ["fund", "year", "seq"]
    return combined[first + [c for c in combined.columns if c not in first]]


def journal_frame(path: Path) -> pd.DataFrame:
    """The published journal's entries, one row each (no payloads: the file has them)."""
    rows = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if "seq" in record and "hash" in record:
                rows.append({c: record.get(c) for c in JOURNAL_COLUMNS})
    return pd.DataFrame(rows, columns=JOURNAL_COLUMNS)
