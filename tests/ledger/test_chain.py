"""Tamper evidence: verify recomputes the chain and names the first entry that was changed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from carepool.errors import LedgerError
from carepool.ledger import Ledger, Spend
from tests.ledger.conftest import funded


def tamper(ledger: Ledger, statement: str) -> None:
    """Change a row as a database administrator could: with the append-only triggers off."""
    with ledger.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            _with_triggers_off(connection, statement)
        else:
            triggers = connection.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            ).all()
            for name, _sql in triggers:
                connection.execute(text(f"DROP TRIGGER {name}"))
            connection.execute(text(statement))
            for _name, sql in triggers:
                connection.execute(text(sql))


def _with_triggers_off(connection: Connection, statement: str) -> None:
    for table in ("journal", "postings", "lines"):
        connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    connection.execute(text(statement))
    for table in ("journal", "postings", "lines"):
        connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))


def busy_fund(ledger: Ledger) -> str:
    fund = funded(ledger)
    for i in range(6):
        ledger.post(
            fund, Spend(line="asc", amount_pence=100 + i), actor="t.council", request_id=f"s{i}"
        )
    return fund  # entries: 1 open, 2-3 contributions, 4 allocation, 5-10 spends


def test_an_untouched_journal_verifies(ledger: Ledger) -> None:
    fund = busy_fund(ledger)
    check = ledger.verify(fund)
    assert check.ok
    assert check.entries == 10
    assert check.first_bad_entry is None
    assert len(check.digest) == 64


@pytest.mark.parametrize(
    ("statement", "bad"),
    [
        ("UPDATE postings SET amount_pence = 1 WHERE seq = 7 AND no = 1", 7),
        ("UPDATE postings SET amount_pence = amount_pence + 5 WHERE seq = 7", 7),
        ("UPDATE journal SET description = 'nothing to see' WHERE seq = 6", 6),
        ("UPDATE journal SET actor = 't.nhs' WHERE seq = 8", 8),
        ("UPDATE journal SET posted_at = '2026-01-01T00:00:00.000000Z' WHERE seq = 9", 9),
        ("UPDATE postings SET line_id = 'ph' WHERE seq = 5", 5),
        ("DELETE FROM postings WHERE seq = 9", 9),
        ("UPDATE postings SET period = '2026-05' WHERE seq = 10", 10),
    ],
)
def test_a_changed_row_is_named(ledger: Ledger, statement: str, bad: int) -> None:
    fund = busy_fund(ledger)
    tamper(ledger, statement.replace("WHERE", f"WHERE fund_id = '{fund}' AND"))
    check = ledger.verify(fund)
    assert not check.ok
    assert check.first_bad_entry == bad


def test_a_deleted_entry_is_named(ledger: Ledger) -> None:
    fund = busy_fund(ledger)
    tamper(ledger, f"DELETE FROM postings WHERE fund_id = '{fund}' AND seq = 6")
    tamper(ledger, f"DELETE FROM journal WHERE fund_id = '{fund}' AND seq = 6")
    check = ledger.verify(fund)
    assert (check.ok, check.first_bad_entry) == (False, 7)


def test_a_rewritten_registry_is_caught(ledger: Ledger) -> None:
    fund = busy_fund(ledger)
    tamper(ledger, f"UPDATE lines SET partner_id = 'NHS' WHERE fund_id = '{fund}' AND id = 'asc'")
    check = ledger.verify(fund)
    assert (check.ok, check.first_bad_entry) == (False, 1)
    assert "lines differ" in (check.problem or "")


def recompute(path: Path) -> tuple[int, str]:
    """The published recipe, standard library only (docs/methods/ledger-journal.md)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header, body, trailer = json.loads(lines[0]), lines[1:-1], json.loads(lines[-1])
    prev = header["genesis"]
    for line in body:
        entry = json.loads(line)
        content = {k: v for k, v in entry.items() if k not in ("prev_hash", "hash")}
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256((prev + canonical).encode("utf-8")).hexdigest()
        assert entry["prev_hash"] == prev
        assert entry["hash"] == digest
        prev = digest
    assert trailer["entries"] == len(body)
    return len(body), prev


def test_the_export_can_be_recomputed_by_anyone(ledger: Ledger, tmp_path: Path) -> None:
    fund = busy_fund(ledger)
    check = ledger.export(fund, tmp_path / "journal.jsonl", actor="t.public")
    entries, digest = recompute(tmp_path / "journal.jsonl")
    assert (entries, digest) == (check.entries, check.digest)
    spends = (tmp_path / "journal.jsonl").read_text(encoding="utf-8").splitlines()[5:11]
    # who posted each entry stays with the auditors; only its digest is published
    assert spends
    assert not any("t.council" in line for line in spends)
    assert all(len(json.loads(line)["private"]) == 64 for line in spends)


def test_a_broken_journal_is_not_exported(ledger: Ledger, tmp_path: Path) -> None:
    fund = busy_fund(ledger)
    tamper(ledger, f"UPDATE journal SET description = 'x' WHERE fund_id = '{fund}' AND seq = 5")
    with pytest.raises(LedgerError, match="first bad entry 5"):
        ledger.export(fund, tmp_path / "out" / "journal.jsonl", actor="t.public")
    assert not (tmp_path / "out").exists()
