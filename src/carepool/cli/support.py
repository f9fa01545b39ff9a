"""What every command shares: the consoles, user-error handling and table output."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import numpy as np
import pandas as pd
import typer
from rich.console import Console, RenderableType
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.status import Status
from rich.text import Text

from carepool.charts import INLINE, SHARED, Library
from carepool.errors import CarepoolError, ConfigError, LoadRejected


def literal(text: str) -> str:
    """``text`` with every character that is not printable escaped (``\\x1b``, ``\\u202e``),
    except new lines and tabs: what a user or a file supplied, safe to print to a terminal."""
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() or char in "\n\t" else char.encode("unicode_escape").decode()
        for char in text
    )


class LiteralConsole(Console):
    """A console that prints every string as it is.

    Names, reasons, file names and column headers come from users and files: printed as Rich
    markup, ``[bold red]URGENT[/]`` would show in bold red and ``:warning:`` as an emoji, so the
    screen would differ from the record (and markup can hide words). Here no string is read as
    markup, emoji shortcodes or highlighting, and control characters are escaped; carepool's
    own styling is given as :class:`rich.text.Text` with a style (:func:`styled`).
    """

    def render_str(self, text: str, **options: Any) -> Text:
        options.update(markup=False, emoji=False, highlight=False)
        return super().render_str(literal(text), **options)

    def status(self, status: RenderableType, **options: Any) -> Status:
        """A spinner whose message is printed as it is (Rich reads a string as markup)."""
        return super().status(
            Text(literal(status)) if isinstance(status, str) else status, **options
        )


def new_file(path: Path | None) -> Path | None:
    """An option naming a file to write, checked before any work: its folder must exist (a
    command writes the file it was asked for and nothing else, never a tree of folders), and
    it must not itself be a folder."""
    if path is None:
        return None
    if path.is_dir():
        raise typer.BadParameter(f"{literal(str(path))} is a folder; name a file in it")
    if not path.parent.is_dir():
        raise typer.BadParameter(
            f"there is no folder {literal(str(path.parent))}; create it first, or write the "
            "file somewhere else"
        )
    return path


#: ``--share-library``: for a folder of charts, the plotting library once beside them.
ShareLibrary = Annotated[
    bool,
    typer.Option(
        "--share-library",
        help="with --chart: write the plotting library once beside the chart (plotly.min.js, "
        "shared by a folder of charts) instead of inside each file",
    ),
]


def chart_library(share: bool, chart: Path | None) -> Library:
    """The ``--share-library`` flag as the charts' choice; without ``--chart`` there is no
    chart to share it with, which is a usage error rather than a flag quietly ignored."""
    if share and chart is None:
        raise typer.BadParameter("goes with --chart FILE", param_hint="--share-library")
    return SHARED if share else INLINE


def styled(text: str, style: str) -> Text:
    """``text`` in ``style``, literally."""
    return Text(literal(text), style=style)


def labelled(label: str, style: str, message: str) -> Text:
    """``Label: message``, the label in ``style`` and the message as it is."""
    return Text.assemble((label, style), " ", literal(message))


#: Piped output is not squeezed to 80 columns: tables of places need room to be read.
out = LiteralConsole(
    width=None if sys.stdout.isatty() else 140, markup=False, emoji=False, highlight=False
)
err = LiteralConsole(stderr=True, markup=False, emoji=False, highlight=False)

P = ParamSpec("P")
R = TypeVar("R")

MAX_PROBLEMS_SHOWN = 50


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Print a :class:`CarepoolError` as a message (no traceback) and exit with its code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except LoadRejected as exc:
            err.print(labelled("Rejected:", "bold red", str(exc)))
            for problem in exc.problems[:MAX_PROBLEMS_SHOWN]:
                err.print(f"  {problem}", soft_wrap=True)
            total = exc.total
            if total > MAX_PROBLEMS_SHOWN:
                err.print(f"  ... and {total - MAX_PROBLEMS_SHOWN} more problem(s)")
            err.print(f"{total} problem(s) in all; {exc.outcome}.")
            raise typer.Exit(exc.exit_code) from None
        except CarepoolError as exc:
            err.print(labelled("Error:", "bold red", str(exc)))
            raise typer.Exit(exc.exit_code) from None

    return wrapper


def _json_value(value: Any, count: bool) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if count and isinstance(value, float) and np.isfinite(value):
        return round(value)
    return value


def _json_values(name: str, column: pd.Series) -> list[Any]:
    """One column as JSON-ready values: missing as None, whole-number counts as integers."""
    missing = column.isna().to_numpy(dtype=bool).copy()
    count = name in ("numerator", "denominator")
    if count and pd.api.types.is_numeric_dtype(column.dtype) and column.dtype != bool:
        numbers = column.to_numpy(dtype=np.float64, na_value=np.nan)
        missing |= ~np.isfinite(numbers)
        whole = np.round(np.where(missing, 0.0, numbers))
        values: list[Any] = [int(v) for v in whole.tolist()]  # exact above 2**53, unlike int64
    elif pd.api.types.is_float_dtype(column.dtype):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan).tolist()
    else:
        values = [_json_value(v, count) for v in column.astype(object)]
    return [None if gone else value for value, gone in zip(values, missing, strict=True)]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: missing values as null, whole-number counts as integers."""
    names = [str(name) for name in frame.columns]
    columns = [_json_values(name, frame.iloc[:, i]) for i, name in enumerate(names)]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def json_rows(rows: list[dict[str, Any]]) -> str:
    """A JSON list with one row per line: readable, and quick to write for many rows."""
    if not rows:
        return "[]"
    return "[\n" + ",\n".join(f"  {json.dumps(row)}" for row in rows) + "\n]"


def emit(frame: pd.DataFrame, as_json: bool, as_csv: bool) -> bool:
    """Print ``frame`` as JSON or CSV if asked; False when the caller should draw a table."""
    if as_json and as_csv:
        raise ConfigError("choose one of --json and --csv")
    if as_json:
        typer.echo(json_rows(records(frame)))
    elif as_csv:
        typer.echo(frame.to_csv(index=False, float_format="%.10g"), nl=False)
    return as_json or as_csv


def tuples(frame: pd.DataFrame) -> list[Any]:
    """Rows as named tuples, for printing."""
    return list(frame.itertuples(index=False))


def fmt(value: Any, digits: int = 1) -> str:
    return "" if value is None or pd.isna(value) else f"{value:,.{digits}f}"


def gbp(pounds: float, digits: int = 0, suffix: str = "") -> str:
    """Pounds for people: ``£1,234``, and ``−£1,234`` (a minus sign before the pound sign,
    never ``£-1,234``, and no sign on an amount that rounds to nothing)."""
    shown = f"£{abs(pounds):,.{digits}f}{suffix}"
    return f"\u2212{shown}" if round(pounds, digits) < 0 else shown


def money(pence: int) -> str:
    """Pence as whole pounds for a table, ``£1,234`` or ``−£1,234``."""
    return gbp(pence / 100)


def warn(warning: str | None) -> None:
    """Print a warning on stderr, if there is one."""
    if warning:
        err.print(labelled("Warning:", "bold yellow", warning))


@contextmanager
def step_progress(total: int, enabled: bool = True) -> Iterator[Callable[[str], None]]:
    """A Rich progress bar over named steps, on stderr (so ``--json`` stays clean)."""
    if not enabled:
        yield lambda _message: None
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task("Starting", total=total)
        first = [True]

        def advance(message: str) -> None:
            if not first[0]:
                progress.advance(task)
            first[0] = False
            progress.update(task, description=message)

        yield advance
        progress.update(task, completed=total, description="Done")
