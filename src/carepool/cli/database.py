"""``carepool db``: the ledger database's set-up, run by its owner.

Migrations change the tables, their triggers and who may do what, so they are run only on
purpose, by the database's owner (``carepool db migrate``), and never as a side effect of
another command: the logins that post to the ledger cannot change its tables.
"""

from __future__ import annotations

import json

import typer

from carepool.cli.ledger import JsonOption
from carepool.cli.support import out, user_errors
from carepool.config import Settings
from carepool.ledger import migrate

db_app = typer.Typer(
    help="The ledger database: bring it up to date (its owner only).", no_args_is_help=True
)


@db_app.command("migrate")
@user_errors
def migrate_command(as_json: JsonOption = False) -> None:
    """Create or update the ledger's tables, triggers and privileges ($CAREPOOL_DATABASE_URL)."""
    before, after = migrate(Settings.from_env().database_url)
    if as_json:
        typer.echo(json.dumps({"from": before, "to": after}))
    elif before == after:
        out.print(f"The ledger database is up to date (migration {after}).", markup=False)
    else:
        out.print(
            f"The ledger database was brought from migration {before or 'none'} to {after}.",
            markup=False,
        )
