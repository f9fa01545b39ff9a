"""What every command shares: the consoles, user-error handling and table output."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape

from carepool.errors import CarepoolError, ConfigError, LoadRejected

#: Piped output is not squeezed to 80 columns: tables of places need room to be read.
out = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True)

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
            err.print(f"[bold red]Rejected:[/] {escape(str(exc))}")
            for problem in exc.problems[:MAX_PROBLEMS_SHOWN]:
                err.print(f"  {problem}", markup=False, highlight=False, soft_wrap=True)
            total = exc.total
            if total > MAX_PROBLEMS_SHOWN:
                err.print(f"  ... and {total - MAX_PROBLEMS_SHOWN} more problem(s)")
            err.print(f"{total} problem(s) in all; nothing was loaded.")
            raise typer.Exit(exc.exit_code) from None
        except CarepoolError as exc:
            err.print(f"[bold red]Error:[/] {escape(str(exc))}", highlight=False)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: missing values as null, whole-number counts as integers."""
    rows: list[dict[str, Any]] = []
    for record in frame.astype(object).to_dict("records"):
        row: dict[str, Any] = {}
        for key, value in record.items():
            if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
                row[str(key)] = None
            elif isinstance(value, float | np.floating) and key in ("numerator", "denominator"):
                row[str(key)] = round(float(value))
            elif isinstance(value, np.generic):
                row[str(key)] = value.item()
            else:
                row[str(key)] = value
        rows.append(row)
    return rows


def emit(frame: pd.DataFrame, as_json: bool, as_csv: bool) -> bool:
    """Print ``frame`` as JSON or CSV if asked; False when the caller should draw a table."""
    if as_json and as_csv:
        raise ConfigError("choose one of --json and --csv")
    if as_json:
        typer.echo(json.dumps(records(frame), indent=2))
    elif as_csv:
        typer.echo(frame.to_csv(index=False, float_format="%.10g"), nl=False)
    return as_json or as_csv


def tuples(frame: pd.DataFrame) -> list[Any]:
    """Rows as named tuples, for printing."""
    return list(frame.itertuples(index=False))


def fmt(value: Any, digits: int = 1) -> str:
    return "" if value is None or pd.isna(value) else f"{value:,.{digits}f}"
