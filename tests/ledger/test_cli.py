"""`carepool ledger` as a user runs it, on SQLite and PostgreSQL, with the example fund."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from carepool.cli import app
from carepool.ledger import Ledger
from tests.ledger.conftest import login_url
from tests.ledger.test_chain import tamper

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "fund.toml"
LINE_CONTRACT = {
    "line",
    "partner",
    "service",
    "place",
    "budget_pence",
    "actual_pence",
    "forecast_pence",
}


#: The PostgreSQL ledger the test uses, or None on SQLite: there, ``--user X`` becomes
#: logging in as X, since PostgreSQL takes who acts from the login and refuses --user.
POSTGRES: list[str | None] = [None]


@pytest.fixture
def cli_env(
    database_url: str, backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    POSTGRES[0] = database_url if backend == "postgresql" else None
    monkeypatch.setenv("CAREPOOL_DATABASE_URL", database_url)
    monkeypatch.setenv("CAREPOOL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CAREPOOL_USER", raising=False)
    monkeypatch.delenv("CAREPOOL_FUND", raising=False)
    fund = f"example-{tmp_path.name[-12:]}".replace("_", "-")
    spec = EXAMPLE.read_text(encoding="utf-8").replace('id = "example-2026-27"', f'id = "{fund}"')
    (tmp_path / "fund.toml").write_text(spec, encoding="utf-8")
    ok("init", "--spec", str(tmp_path / "fund.toml"), "--user", "admin", "--request-id", "open")
    monkeypatch.setenv("CAREPOOL_FUND", fund)
    yield fund
    POSTGRES[0] = None


def run(*args: str) -> Any:
    words = list(args)
    env = None
    if POSTGRES[0] is not None and "--user" in words:
        at = words.index("--user")
        user = words[at + 1]
        del words[at : at + 2]
        group = "carepool_opener" if user == "admin" else "carepool_writer"  # admin opens funds
        env = {"CAREPOOL_DATABASE_URL": login_url(POSTGRES[0], user, group)}
    return runner.invoke(app, ["ledger", *words], env=env)


def ok(*args: str) -> dict[str, Any]:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


def fund_year(cli_env: str) -> None:
    ok(
        "contribute",
        "--partner",
        "ICB",
        "--amount",
        "1,000,000",
        "--user",
        "finance.icb",
        "--request-id",
        "c1",
    )
    ok(
        "contribute",
        "--partner",
        "COUNCIL",
        "--amount",
        "£400,000.50",
        "--user",
        "finance.council",
        "--request-id",
        "c2",
    )


def winter_virement(request_id: str) -> dict[str, Any]:
    """£25,000 from acute to social care: a virement across services, held for the board."""
    return ok(
        "virement",
        "--from",
        "acute",
        "--to",
        "social-care",
        "--amount",
        "25000",
        "--reason",
        "winter",
        "--user",
        "finance.icb",
        "--request-id",
        request_id,
    )


def test_a_year_from_the_command_line(cli_env: str, tmp_path: Path) -> None:
    fund_year(cli_env)
    allocations = tmp_path / "allocations.csv"
    allocations.write_text(
        "line,amount\nacute,700000\nmental-health,350000\nsocial-care,300000\n"
        "public-health,50000.50\n",
        encoding="utf-8",
    )
    ok("allocate", "--file", str(allocations), "--user", "finance.icb", "--request-id", "a1")
    ok(
        "spend",
        "--line",
        "social-care",
        "--amount",
        "1234.56",
        "--user",
        "finance.council",
        "--request-id",
        "s1",
    )
    ok(
        "forecast",
        "--line",
        "acute",
        "--amount",
        "690000",
        "--user",
        "finance.icb",
        "--request-id",
        "f1",
    )
    held = winter_virement("v1")
    assert held["status"] == "held"
    decided = ok(
        "approve",
        "--hold",
        str(held["seq"]),
        "--reason",
        "winter plan",
        "--user",
        "board.chair",
        "--request-id",
        "d1",
    )
    assert decided["outcome"] == "approved"
    position = ok("position", "--user", "resident")
    lines = {row["line"]: row for row in position["lines"]}
    for row in position["lines"]:
        assert set(row) >= LINE_CONTRACT
    assert lines["social-care"]["budget_pence"] == 325_000_00
    assert lines["social-care"]["actual_pence"] == 1_234_56
    assert lines["acute"]["forecast_pence"] == 690_000_00
    assert lines["mental-health"]["forecast_pence"] is None
    assert position["totals"]["contributed_pence"] == 1_400_000_50
    assert position["totals"]["balanced"] is True
    verified = ok("verify")
    assert set(verified) == {"ok", "entries", "first_bad_entry", "digest"}
    assert verified["ok"] is True
    assert verified["first_bad_entry"] is None
    exported = ok("export", "--out", str(tmp_path / "journal.jsonl"), "--user", "resident")
    assert exported["digest"] == verified["digest"]
    table = run("position", "--user", "resident")
    assert table.exit_code == 0
    assert "social-care" in table.stdout
    register = run("decisions", "--user", "resident", "--json")
    assert json.loads(register.stdout)[0]["status"] == "approved"


def test_a_retry_prints_the_first_result(cli_env: str) -> None:
    request = ("contribute", "--partner", "ICB", "--amount", "10", "--user", "finance.icb")
    first = ok(*request, "--request-id", "same")
    again = ok(*request, "--request-id", "same")
    assert again["replayed"] is True
    assert (again["seq"], again["hash"]) == (first["seq"], first["hash"])


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["spend", "--line", "nope", "--amount", "5", "--user", "finance.council"],
            8,
            "'nope' is not a line",
        ),
        (
            ["spend", "--line", "social-care", "--amount", "5.001", "--user", "finance.council"],
            8,
            "fraction of a penny",
        ),
        (
            ["spend", "--line", "social-care", "--amount", "-5", "--user", "finance.council"],
            8,
            "positive amount",
        ),
        (
            ["spend", "--line", "social-care", "--amount", "5", "--user", "finance.icb"],
            6,
            "only those of COUNCIL",
        ),
        (["spend", "--line", "social-care", "--amount", "5"], 2, "say who is asking"),  # SQLite
        (
            ["contribute", "--partner", "NOPE", "--amount", "5", "--user", "finance.icb"],
            8,
            "'NOPE' is not a partner",
        ),
        (
            [
                "virement",
                "--from",
                "mental-health",
                "--to",
                "acute",
                "--amount",
                "350000",
                "--reason",
                "raid",
                "--user",
                "finance.icb",
            ],
            7,
            "mental-health-floor",
        ),
        (
            [
                "spend",
                "--line",
                "acute",
                "--amount",
                "5",
                "--period",
                "2026-04",
                "--user",
                "finance.icb",
            ],
            8,
            "period 2026-04 is closed",
        ),
        (
            [
                "contribute",
                "--partner",
                "ICB",
                "--amount",
                "11",
                "--user",
                "finance.icb",
                "--request-id",
                "c1",
            ],
            8,
            "used before for a different request",
        ),
        (
            [
                "virement",
                "--from",
                "acute",
                "--to",
                "acute",
                "--amount",
                "5",
                "--reason",
                "r",
                "--user",
                "finance.icb",
            ],
            8,
            "two different lines",
        ),
        # usage mistakes: the command was asked for wrongly (exit 2), not refused (6, 7, 8)
        (
            [
                "allocate",
                "--file",
                "allocations.csv",
                "--line",
                "acute",
                "--amount",
                "5",
                "--user",
                "finance.icb",
            ],
            2,
            "give either --file or --line",
        ),
        (["allocate", "--user", "finance.icb"], 2, "give --line with --amount, or --file"),
        (
            ["allocate", "--file", "no-such-allocations.csv", "--user", "finance.icb"],
            2,
            "no-such-allocations.csv: no such file",
        ),
        (
            ["init", "--spec", "no-such-fund.toml", "--user", "admin"],
            2,
            "no such fund specification",
        ),
        (
            ["position", "--period", "2030-01", "--user", "auditor"],
            2,
            "is not a month of fund",
        ),
    ],
)
def test_bad_input_is_refused_with_a_clear_error_and_nothing_written(
    cli_env: str, backend: str, args: list[str], code: int, message: str
) -> None:
    if backend == "postgresql" and message == "say who is asking":
        # PostgreSQL asks nobody: the login acts, and the tables' owner is no user of a fund
        code, message = 6, "is not a user of fund"
    fund_year(cli_env)
    ok("allocate", "--line", "mental-health", "--amount", "350000", "--user", "finance.icb")
    ok("close-period", "--user", "finance.icb", "--request-id", "close-april")
    before = ok("verify")["entries"]
    result = run(*args)
    assert result.exit_code == code, result.output
    assert message in " ".join(result.output.split())
    assert ok("verify")["entries"] == before


def test_verify_names_a_tampered_entry_and_exits_non_zero(
    cli_env: str, ledger_target: tuple[str, str | None]
) -> None:
    fund_year(cli_env)
    url, schema = ledger_target
    ledger = Ledger.connect(url, schema=schema)
    tamper(ledger, f"UPDATE postings SET amount_pence = 1 WHERE fund_id = '{cli_env}' AND seq = 3")
    ledger.close()
    result = run("verify", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "ok": False,
        "entries": 3,
        "first_bad_entry": 3,
        "digest": json.loads(result.stdout)["digest"],
    }


def test_user_changes_from_the_command_line(cli_env: str) -> None:
    granted = ok(
        "user",
        "finance.new",
        "--role",
        "finance",
        "--partner",
        "COUNCIL",
        "--reason",
        "new starter",
        "--user",
        "admin",
    )
    assert granted["kind"] == "user"
    listed = run("users", "--user", "auditor", "--json")
    assert listed.exit_code == 0, listed.output
    users = json.loads(listed.stdout, parse_constant=lambda name: pytest.fail(f"not JSON: {name}"))
    assert {"name": "finance.new", "partner": "COUNCIL", "roles": "finance"} in users
    assert {"name": "auditor", "partner": None, "roles": "auditor"} in users
    removed = ok("user", "finance.new", "--remove", "--reason", "left", "--user", "admin")
    assert removed["seq"] == granted["seq"] + 1
    refused = run("user", "finance.new", "--reason", "nothing said", "--user", "admin")
    assert refused.exit_code == 2
    assert "--role" in refused.output


def test_a_ledger_without_a_fund_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREPOOL_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite'}")
    monkeypatch.delenv("CAREPOOL_FUND", raising=False)
    missing = run("position", "--user", "auditor")
    assert missing.exit_code == 2, missing.output
    assert "no ledger database" in missing.output
    assert not (tmp_path / "empty.sqlite").exists()
    assert run("init").exit_code == 0
    result = run("position", "--user", "auditor")
    assert result.exit_code == 2, result.output
    assert "holds no fund yet" in result.output


def test_what_users_write_is_printed_as_written(cli_env: str) -> None:
    """A reason is shown as recorded: Rich markup, emoji shortcodes and terminal control
    characters typed into it are neither rendered nor sent to the terminal."""
    fund_year(cli_env)
    ok("allocate", "--line", "acute", "--amount", "700000", "--user", "finance.icb")
    reason = "[red]URGENT[/] :warning: \x1b[2J"
    held = winter_virement("v-literal")
    ok("approve", "--hold", str(held["seq"]), "--reason", reason, "--user", "board.chair")
    table = run("decisions", "--user", "resident")
    assert table.exit_code == 0, table.output
    assert "[red]URGENT[/] :warning: \\x1b[2J" in table.stdout, table.stdout
    assert "\x1b" not in table.stdout
    assert "⚠" not in table.stdout


def test_a_published_journal_is_checked_from_the_file_alone(
    cli_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ledger verify --file JOURNAL`, as the demo's closing line promises: a copy checks
    with no database; one altered, cut short or re-totalled does not; with a checkpoint, a
    copy that lost entries the checkpoint saw does not."""
    fund_year(cli_env)
    assert run("keys", "--out", str(tmp_path / "keys")).exit_code == 0
    ok(
        "checkpoint",
        "--key",
        str(tmp_path / "keys" / "checkpoint.key"),
        "--out",
        str(tmp_path / "seen.json"),
    )
    ok("contribute", "--partner", "ICB", "--amount", "5", "--user", "finance.icb")
    journal = tmp_path / "journal.jsonl"
    exported = ok("export", "--out", str(journal), "--user", "resident")
    monkeypatch.setenv("CAREPOOL_DATABASE_URL", "sqlite:///" + str(tmp_path / "none.sqlite"))
    checked = ok("verify", "--file", str(journal))
    assert checked == {
        "ok": True,
        "entries": exported["entries"],
        "first_bad_entry": None,
        "digest": exported["digest"],
    }
    witnessed = [
        "--checkpoint",
        str(tmp_path / "seen.json"),
        "--public-key",
        str(tmp_path / "keys" / "checkpoint.pub"),
    ]
    assert ok("verify", "--file", str(journal), *witnessed)["ok"] is True
    assert not (tmp_path / "none.sqlite").exists()  # no database was opened

    lines = journal.read_text(encoding="utf-8").splitlines()
    altered = tmp_path / "altered.jsonl"
    amount = json.loads(lines[3])
    amount["description"] = "something else"
    altered.write_text(
        "\n".join([*lines[:3], json.dumps(amount, separators=(",", ":")), *lines[4:]]) + "\n"
    )
    bad = run("verify", "--file", str(altered), "--json")
    assert bad.exit_code == 1
    assert json.loads(bad.stdout)["first_bad_entry"] == amount["seq"]

    short = tmp_path / "short.jsonl"  # the last entries dropped, the trailer kept
    short.write_text("\n".join([*lines[:3], lines[-1]]) + "\n")
    assert run("verify", "--file", str(short)).exit_code == 1

    entries = len(lines) - 2
    seen = json.loads((tmp_path / "seen.json").read_text())["entries"]
    assert seen < entries
    chain = [json.loads(line) for line in lines[1:seen]]
    retotalled = tmp_path / "retotalled.jsonl"  # cut before the checkpoint, re-totalled
    trailer = {"entries": len(chain), "digest": chain[-1]["hash"]}
    retotalled.write_text(
        "\n".join([lines[0], *lines[1:seen], json.dumps(trailer, separators=(",", ":"))]) + "\n"
    )
    assert ok("verify", "--file", str(retotalled))["ok"] is True  # a whole chain on its own
    caught = run("verify", "--file", str(retotalled), *witnessed)
    assert caught.exit_code == 1
    assert "cut short" in " ".join(caught.output.split())


def test_the_position_is_read_by_name_and_summed_as_asked(cli_env: str) -> None:
    """Partners by name in the table (codes in --json), and --by partner, place or service
    as the demo prints it."""
    fund_year(cli_env)
    table = run("position", "--user", "resident", "--by", "partner")
    assert table.exit_code == 0, table.output
    text = " ".join(table.stdout.split())
    assert "Example Council" in text
    assert "Integrated Care" in text
    summed = ok("position", "--user", "resident", "--by", "partner")
    partners = {row["partner"] for row in summed["by_partner"]}
    assert partners == {p["partner"] for p in summed["partners"]}
    assert all(p["name"] for p in summed["partners"])
    budgets = sum(row["budget_pence"] for row in summed["by_partner"])
    assert budgets == summed["totals"]["budget_pence"]
    refused = run("position", "--user", "resident", "--by", "colour")
    assert refused.exit_code == 2
    assert "expected one of partner, place, service" in refused.output


def test_the_slow_ledger_commands_show_what_they_are_doing(
    cli_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """verify, export and monitor read the whole journal: each says so while it works."""
    from carepool.cli.support import err

    shown: list[str] = []

    class Status:
        def __enter__(self) -> Status:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def update(self, message: str) -> None:
            shown.append(message)

    def status(message: str, *args: object, **kwargs: object) -> Status:
        shown.append(str(message))
        return Status()

    monkeypatch.setattr(err, "status", status)
    journal = tmp_path / "journal.jsonl"
    ok("export", "--out", str(journal), "--user", "admin")
    ok("verify")
    ok("verify", "--file", str(journal))
    ok("monitor", "--user", "admin")
    for says in (
        "Writing the journal",
        "Checking the journal",
        "Checking the published journal",
        "Comparing spend and activity",
    ):
        assert any(says in message for message in shown), (says, shown)
