"""The ``carepool`` command line: one Typer app assembled from a module per capability.

Each module parses its options, calls the capability's plain functions (``carepool.model``,
``carepool.indicators``, ``carepool.allocation``, ``carepool.ledger``, ``carepool.demo``) and
prints what they return; none does domain work of its own.
"""

from __future__ import annotations

from typing import Annotated

import typer

from carepool import __version__
from carepool.cli import journal
from carepool.cli.allocate import allocate_app
from carepool.cli.charging import charge_command
from carepool.cli.database import db_app
from carepool.cli.demo import demo_command
from carepool.cli.indicators import indicators_app
from carepool.cli.ledger import ledger_app
from carepool.cli.model import (
    build_command,
    data_app,
    info_command,
    load_command,
    schema_command,
    validate_command,
)
from carepool.cli.portal import publish_command, report_command, serve_command, users_app
from carepool.cli.prevention import appraise_command, portfolio_command, risk_command
from carepool.cli.projection import project_app
from carepool.cli.regions import regions_command
from carepool.cli.support import user_errors

app = typer.Typer(
    help="carepool: the model of a devolved health and social care economy.",
    no_args_is_help=True,
    add_completion=False,
)


def _version(shown: bool) -> None:
    if shown:
        typer.echo(f"carepool {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="print carepool's version and exit", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    """carepool: the model of a devolved health and social care economy."""


for name, command in (
    ("build", build_command),
    ("regions", regions_command),
    ("info", info_command),
    ("validate", validate_command),
    ("demo", demo_command),
    ("load", load_command),
    ("schema", schema_command),
    ("appraise", appraise_command),
    ("portfolio", portfolio_command),
    ("risk", risk_command),
    ("serve", serve_command),
    ("publish", publish_command),
    ("report", report_command),
    ("charge", charge_command),
):
    app.command(name)(user_errors(command))
app.add_typer(data_app, name="data")
app.add_typer(indicators_app, name="indicators")
app.add_typer(allocate_app, name="allocate")
for name, command in journal.COMMANDS:
    ledger_app.command(name)(user_errors(command))
app.add_typer(ledger_app, name="ledger")
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(project_app, name="project")


def main() -> None:
    app()


__all__ = ["app", "main"]
