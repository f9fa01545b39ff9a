"""Attacks by whoever controls the database outright (its owner, a superuser, a restored
backup): the journal rewritten from some entry on, or cut short, with every hash
recomputed. The chain and the replay cannot see these — the result is a valid journal of
valid requests — so each once passed ``verify``; a signed checkpoint kept outside the
database now exposes each of them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, create_engine, text
from typer.testing import CliRunner

from carepool.cli import app
from carepool.errors import ConfigError, LedgerError
from carepool.ledger import (
    Ledger,
    Spend,
    read_checkpoint,
    read_private_key,
    read_public_key,
    write_checkpoint,
    write_keys,
)
from tests.ledger.conftest import funded


@contextmanager
def _owner(backend: str, ledger_target: tuple[str, str | None]) -> Iterator[Connection]:
    """A connection with the append-only triggers out of the way, as the tables' owner or a
    superuser can have it."""
    url, schema = ledger_target
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as connection:
            if backend == "sqlite":
                for table in ("journal", "postings"):
                    connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            else:
                connection.exec_driver_sql(f"SET search_path = {schema}")
                connection.exec_driver_sql("SET session_replication_role = replica")
            yield connection
    finally:
        engine.dispose()


def _cut(connection: Connection, fund: str, after: int) -> None:
    """Delete the fund's entries after ``after``, with their postings."""
    for table in ("postings", "journal"):
        connection.execute(
            text(f"DELETE FROM {table} WHERE fund_id = :fund AND seq > :after"),
            {"fund": fund, "after": after},
        )


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _spend(ledger: Ledger, fund: str, pence: int, request_id: str) -> None:
    ledger.post(
        fund, Spend(line="asc", amount_pence=pence), actor="t.council", request_id=request_id
    )


def test_a_journal_cut_short_fails_against_a_checkpoint(
    ledger: Ledger, backend: str, ledger_target: tuple[str, str | None], key: Ed25519PrivateKey
) -> None:
    fund = funded(ledger)
    _spend(ledger, fund, 100, "s1")
    _spend(ledger, fund, 200, "s2")
    signed = ledger.checkpoint(fund, key)
    with _owner(backend, ledger_target) as connection:
        _cut(connection, fund, signed.entries - 2)

    assert ledger.verify(fund).ok  # a shorter journal is still a valid journal
    check = ledger.verify(fund, checkpoint=signed, public_key=key.public_key())

    assert (check.ok, check.first_bad_entry) == (False, signed.entries)
    assert "cut short" in (check.problem or "")


def test_a_rewritten_journal_fails_against_a_checkpoint(
    ledger: Ledger, backend: str, ledger_target: tuple[str, str | None], key: Ed25519PrivateKey
) -> None:
    """Entries 5 on are replaced by other valid requests, as many as before, every hash
    recomputed by the ledger's own code: the chain and the replay both pass."""
    fund = funded(ledger)
    _spend(ledger, fund, 100, "s1")
    _spend(ledger, fund, 200, "s2")
    signed = ledger.checkpoint(fund, key)
    with _owner(backend, ledger_target) as connection:
        _cut(connection, fund, 4)
    url, schema = ledger_target
    with Ledger.connect(url, schema=schema) as rewriter:
        _spend(rewriter, fund, 1, "s1-rewritten")
        _spend(rewriter, fund, 2, "s2-rewritten")

    assert ledger.verify(fund).entries == signed.entries
    assert ledger.verify(fund).ok
    check = ledger.verify(fund, checkpoint=signed, public_key=key.public_key())

    assert (check.ok, check.first_bad_entry) == (False, signed.entries)
    assert "rewritten" in (check.problem or "")


def test_a_journal_that_grew_after_its_checkpoint_extends_it(
    ledger: Ledger, key: Ed25519PrivateKey
) -> None:
    fund = funded(ledger)
    signed = ledger.checkpoint(fund, key)
    _spend(ledger, fund, 100, "s-after")
    check = ledger.verify(fund, checkpoint=signed, public_key=key.public_key())
    assert (check.ok, check.entries) == (True, signed.entries + 1)


def test_an_altered_or_foreign_checkpoint_is_refused(
    ledger: Ledger, key: Ed25519PrivateKey
) -> None:
    fund = funded(ledger)
    signed = ledger.checkpoint(fund, key)
    with pytest.raises(LedgerError, match="not valid"):
        ledger.verify(
            fund,
            checkpoint=replace(signed, entries=signed.entries - 1),
            public_key=key.public_key(),
        )
    impostor = Ed25519PrivateKey.generate()
    forged = ledger.checkpoint(fund, impostor)
    with pytest.raises(LedgerError, match="not by the fund's key"):
        ledger.verify(fund, checkpoint=forged, public_key=key.public_key())


def test_keys_are_never_overwritten_and_the_private_key_is_the_owners_alone(
    tmp_path: Path,
) -> None:
    private, public = write_keys(tmp_path / "keys")
    assert private.stat().st_mode & 0o077 == 0
    assert read_private_key(private).public_key() == read_public_key(public)
    with pytest.raises(ConfigError, match="never overwritten"):
        write_keys(tmp_path / "keys")
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    with pytest.raises(ConfigError, match="not a checkpoint"):
        read_checkpoint(garbage)


def test_the_command_line_signs_and_checks_checkpoints(
    ledger: Ledger,
    database_url: str,
    backend: str,
    ledger_target: tuple[str, str | None],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fund = funded(ledger)
    monkeypatch.setenv("CAREPOOL_DATABASE_URL", database_url)
    monkeypatch.setenv("CAREPOOL_FUND", fund)
    runner = CliRunner()
    assert runner.invoke(app, ["ledger", "keys", "--out", str(tmp_path / "k")]).exit_code == 0
    signed_path = tmp_path / "checkpoint.json"
    made = runner.invoke(
        app,
        [
            "ledger",
            "checkpoint",
            "--key",
            str(tmp_path / "k/checkpoint.key"),
            "--out",
            str(signed_path),
        ],
    )
    assert made.exit_code == 0, made.output
    verify = ["ledger", "verify", "--checkpoint", str(signed_path)]
    verify += ["--public-key", str(tmp_path / "k/checkpoint.pub")]
    passed = runner.invoke(app, verify)
    assert passed.exit_code == 0, passed.output
    assert "holds the 4 entries signed" in passed.output
    with _owner(backend, ledger_target) as connection:
        _cut(connection, fund, 3)
    failed = runner.invoke(app, verify)
    assert failed.exit_code == 1
    assert "cut short" in failed.output
    write_checkpoint(read_checkpoint(signed_path), tmp_path / "copy.json")  # round trip
    assert read_checkpoint(tmp_path / "copy.json") == read_checkpoint(signed_path)


@pytest.mark.parametrize(
    "text",
    [
        '{"format": "carepool-checkpoint", "entries": 1' + "0" * 5000 + "}",  # past int parsing
        '{"format": "carepool-checkpoint", "entries": 1e400}',
        "[" * 30_000,
        '{"format": "carepool-checkpoint", "fund": "f", "entries": 1.5, "head": "0", '
        '"time": "t", "key": "k", "signature": "s"}',
        '{"format": "carepool-checkpoint", "fund": "f", "entries": true, "head": "0", '
        '"time": "t", "key": "k", "signature": "s"}',
        '{"format": "carepool-checkpoint", "fund": "f", "entries": 9223372036854775808, '
        '"head": "0", "time": "t", "key": "k", "signature": "s"}',
        '{"format": "carepool-checkpoint", "fund": "f", "entries": 3, "head": "not hex", '
        '"time": "t", "key": "k", "signature": "s"}',
    ],
    ids=["huge-int", "overflow", "deep", "fraction", "boolean", "past-bigint", "head"],
)
def test_a_crafted_checkpoint_file_is_refused_with_a_clear_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "checkpoint.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"checkpoint\.json: "):
        read_checkpoint(path)
