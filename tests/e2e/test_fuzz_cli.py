"""Every command with every option, fed what users type by mistake (Hypothesis): no traceback
ever reaches the user, and every exit code is one the README documents.

`build` and `demo` are left out: they do minutes of work for the valid values a fuzzer also
draws, and their refusals have tests of their own (tests/e2e/test_cli.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from carepool.cli import app
from carepool.model import build_model
from carepool.population import BuildRequest

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "fund.toml"
#: The README's table of exit codes.
DOCUMENTED = set(range(10))
#: Left out: the long jobs (building the model, the demonstration) and the server, which
#: serves until it is stopped (its routes are fuzzed through the API: tests/api/test_fuzz.py).
LEFT_OUT = {("build",), ("demo",), ("serve",)}


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    subcommands = getattr(command, "commands", None)
    if path and [p for p in command.params if p.name != "help"]:
        yield path, command
    if subcommands:
        for name, sub in subcommands.items():
            yield from _commands(sub, (*path, name))
    elif path:
        yield path, command


COMMANDS = sorted(dict(_commands(typer.main.get_command(app))).items())
COMMANDS = [(path, command) for path, command in COMMANDS if path not in LEFT_OUT]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A small model and the example fund, and the environment that points at them."""
    data = tmp_path_factory.mktemp("fuzz")
    build_model(BuildRequest(region="E08000009", scale=0.01, seed=5), data / "warehouse")
    env = {"CAREPOOL_DATA_DIR": str(data), "CAREPOOL_FUND": "example-2026-27"}
    opened = runner.invoke(
        app, ["ledger", "init", "--spec", str(EXAMPLE), "--user", "admin"], env=env
    )
    assert opened.exit_code == 0, opened.output
    (data / "binary.csv").write_bytes(bytes(range(256)) * 4)
    (data / "empty.csv").write_bytes(b"")
    (data / "folder").mkdir()
    return env


#: Options whose values are files or folders, and options whose values are numbers.
PATHS = {"--chart", "--out", "--file", "--spec", "--formula", "--baseline", "--key"}
PATHS |= {"--public-key", "--checkpoint"}
NUMBERS = {"--total", "--amount", "--threshold", "--change", "--min-growth", "--convergence"}
NUMBERS |= {"--max-below-target", "--hold", "--entry", "--scale", "--seed", "--years"}
WORDS = [
    "2025",
    "2025-26",
    "E08000009",
    "E01006074",
    "lsoa",
    "ward",
    "u75_mortality_all_causes",
    "acute",
    "ICB",
    "admin",
    "board.chair",
    "residents",
    "person_year",
    "[bold red]x[/]",
    ":ok:",
    "\x1b[2J",
    "\u202e",
    "",
    " ",
]
NUMBER_WORDS = ["0", "-1", "1", "0.5", "1e309", "nan", "-0.0", "1" + "0" * 22, "1,5"]
NUMBER_WORDS += ["£1,000.00", "99999999999999999999", "-99999999999999999999"]


def _paths(data: str) -> st.SearchStrategy[str]:
    files = ["binary.csv", "empty.csv", "folder", "missing/dir/x.html", "new.html", "x.toml"]
    return st.sampled_from([*(f"{data}/{name}" for name in files), "/dev/null"])


def _values(option: str, data: str) -> st.SearchStrategy[str]:
    """What a user might type for ``option``: numbers of every size and shape, markup,
    control characters, codes the model knows, and paths that do and do not exist."""
    numbers = st.one_of(
        st.sampled_from(NUMBER_WORDS),
        st.integers(min_value=-(10**25), max_value=10**25).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
    )
    if option in PATHS:
        return st.one_of(_paths(data), st.text(max_size=8).map(lambda t: f"{data}/{t}"))
    if option in NUMBERS:
        return numbers
    return st.one_of(st.sampled_from(WORDS), numbers, st.text(max_size=12))


@st.composite
def invocations(draw: st.DrawFn, data: str) -> list[str]:
    path, command = draw(st.sampled_from(COMMANDS))
    words = list(path)
    for param in command.params:
        if param.name == "help" or not draw(st.booleans()):
            continue
        if param.param_type_name == "argument":
            words.append(draw(st.one_of(st.sampled_from(WORDS), _paths(data))))
        elif param.is_flag:
            words.append(param.opts[0])
        else:
            option = param.opts[0]
            for _ in range(draw(st.integers(1, 2)) if param.multiple else 1):
                words += [option, draw(_values(option, data))]
    return words


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_no_command_prints_a_traceback(home: dict[str, str], data: st.DataObject) -> None:
    words = data.draw(invocations(home["CAREPOOL_DATA_DIR"]))
    with contextlib.chdir(home["CAREPOOL_DATA_DIR"]):  # a relative path lands in the test's folder
        result = runner.invoke(app, words, env=home)
    event(f"exit {result.exit_code}")
    shown = f"carepool {' '.join(map(repr, words))} -> {result.exit_code}\n{result.output}"
    assert result.exception is None or isinstance(result.exception, SystemExit), shown + repr(
        result.exception
    )
    assert result.exit_code in DOCUMENTED, shown
    assert "Traceback" not in result.output, shown


HOSTILE_NUMBERS = ["1" + "0" * 22, "-" + "9" * 25, "1e309", "nan", "inf", "-0", "0x10", "١٢"]
NUMBER_OPTIONS = [
    (path, option)
    for path, command in COMMANDS
    for param in command.params
    if param.param_type_name == "option" and (option := param.opts[0]) in NUMBERS
]


@pytest.mark.parametrize(
    ("path", "option"), NUMBER_OPTIONS, ids=lambda x: " ".join(x) if isinstance(x, tuple) else x
)
def test_every_number_option_refuses_what_it_cannot_use(
    home: dict[str, str], path: tuple[str, ...], option: str
) -> None:
    """Each number option, given numbers too large, not finite or not written as numbers, on
    its own (with a place where one is needed): an error or a result, never a traceback."""
    command = dict(COMMANDS)[path]
    needs_place = any(p.param_type_name == "argument" for p in command.params)
    for value in HOSTILE_NUMBERS:
        words = [*path, *(["E08000009"] if needs_place else []), option, value, "--user", "admin"]
        words = words if any(p.opts[0] == "--user" for p in command.params) else words[:-2]
        with contextlib.chdir(home["CAREPOOL_DATA_DIR"]):
            result = runner.invoke(app, words, env=home)
        shown = f"carepool {' '.join(map(repr, words))} -> {result.exit_code}\n{result.output}"
        assert result.exception is None or isinstance(result.exception, SystemExit), shown + repr(
            result.exception
        )
        assert result.exit_code in DOCUMENTED, shown
        assert "Traceback" not in result.output, shown
