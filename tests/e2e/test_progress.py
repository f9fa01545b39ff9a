"""Every command that can take more than a few seconds says what it is doing while it works
(a spinner on the terminal's standard error), so that nobody is left wondering whether it
has hung. Each command is run and the statuses it showed are recorded."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carepool.cli import app
from carepool.cli.support import err

runner = CliRunner()


class Shown:
    """Stands in for a Rich status: records each message shown."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages

    def update(self, message: str) -> None:
        self.messages.append(message)


@pytest.fixture
def statuses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []

    @contextmanager
    def status(message: str, *args: object, **kwargs: object) -> Iterator[Shown]:
        shown.append(str(message))
        yield Shown(shown)

    monkeypatch.setattr(err, "status", status)
    return shown


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (["info"], "Summarising the model"),
        (["validate"], "Checking the model"),
        (["indicators", "--indicator", "u75_mortality_all_causes"], "Computing indicators"),
        (["indicators", "gaps", "--indicator", "u75_mortality_all_causes"], "Computing gaps"),
        (["allocate", "--total", "1000000"], "Allocating £1,000,000"),
        (["allocate", "explain", "E08000003", "--total", "1000000"], "Reading need"),
        (["allocate", "sensitivity", "--total", "1000000"], "Testing sensitivity"),
    ],
)
def test_a_command_on_the_model_shows_what_it_is_doing(
    command: list[str],
    says: str,
    statuses: list[str],
    small_warehouse: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CAREPOOL_DATA_DIR", str(small_warehouse.parent))
    monkeypatch.delenv("CAREPOOL_ENGINE", raising=False)
    result = runner.invoke(app, command)
    # validate exits 1 when a check fails on this small model; nothing else may fail
    assert result.exit_code in ((0, 1) if command == ["validate"] else (0,)), result.output
    assert any(says in message for message in statuses), statuses
