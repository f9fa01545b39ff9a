"""docs/tutorial.md, run: every command on the page, in order, exits as the page says and
prints the first line the page shows under it."""

from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carepool.cli import app

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "tutorial.md"
runner = CliRunner()


@dataclass(frozen=True)
class Step:
    command: str
    exit_code: int
    shows: str


def steps(text: str) -> list[Step]:
    """The ``$ carepool …`` lines of the page's console blocks, each with its documented exit
    code (``# exit 1``; 0 otherwise) and the first line printed under it (``…`` ending a
    line means the output goes on)."""
    found: list[Step] = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        lines = block.splitlines()
        for i, line in enumerate(lines):
            if not line.startswith("$ "):
                continue
            command, _, comment = line[2:].partition("  # ")
            code = re.fullmatch(r"exit (\d+)", comment.strip())
            after = lines[i + 1] if i + 1 < len(lines) else ""
            shows = "" if after.startswith("$ ") else after.removesuffix("…").strip()
            found.append(Step(command.strip(), int(code.group(1)) if code else 0, shows))
    return found


def _words(text: str) -> str:
    return " ".join(text.split())


def test_the_page_has_each_journey() -> None:
    text = TUTORIAL.read_text(encoding="utf-8")
    for journey in ("The analyst", "The finance officer", "The councillor"):
        assert f"## {journey.split()[0]}" in text or journey in text
    assert len(steps(text)) >= 20


def test_every_command_of_the_tutorial_does_what_the_page_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(ROOT / "docs" / "examples", tmp_path / "docs" / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CAREPOOL_DATA_DIR", str(tmp_path / "tutorial-data"))
    for name in ("CAREPOOL_ENGINE", "CAREPOOL_USER", "CAREPOOL_FUND", "CAREPOOL_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for step in steps(TUTORIAL.read_text(encoding="utf-8")):
        words = shlex.split(step.command)
        assert words[0] == "carepool", step.command
        result = runner.invoke(app, words[1:])
        assert result.exit_code == step.exit_code, f"{step.command}\n{result.output}"
        assert _words(step.shows) in _words(result.output), f"{step.command}\n{result.output}"
