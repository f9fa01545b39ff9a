"""``carepool db``: the ledger's and the portal's databases' set-up, run by their owner.

Migrations change the tables, their triggers and who may do what, so they are run only on
purpose, by the database's owner (``carepool db migrate``), and never as a side effect of
another command: the logins that post to the ledger cannot change its tables.
"""

from __future__ import annotations

import json

import typer

from carepool.api import portal_database_url
from carepool.cli.ledger import JsonOption
from carepool.cli.support import out, user_errors
from carepool.config import Settings
from carepool.governance import migrate_portal, open_portal_engine
from carepool.ledger import migrate

db_app = typer.Typer(
    help="The ledger database: bring it up to date (its owner only).", no_args_is_help=True
)


@db_app.command("migrate")
@user_errors
def migrate_command(as_json: JsonOption = False) -> None:
    """Create or update the ledger's tables, triggers and privileges ($CAREPOOL_DATABASE_URL),
    and the portal's ($CAREPOOL_PORTAL_DATABASE_URL)."""
    settings = Settings.from_env()
    before, after = migrate(settings.database_url)
    engine = open_portal_engine(portal_database_url(settings))
    try:
        portal_before, portal_after = migrate_portal(engine)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(
            json.dumps(
                {"from": before, "to": after, "portal": {"from": portal_before, "to": portal_after}}
            )
        )
    elif before == after:
        out.print(f"The ledger database is up to date (migration {after}).", markup=False)
    else:
        out.print(
            f"The ledger database was brought from migration {before or 'none'} to {after}.",
            markup=False,
        )
    if not as_json:
        out.print(
            f"The portal's database is at {portal_after}"
            + (f" (was {portal_before or 'empty'})." if portal_before != portal_after else "."),
            markup=False,
        )
