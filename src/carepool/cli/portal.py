"""``carepool serve``, ``carepool publish`` and ``carepool users``: the portal and the API,
the public figures they serve, and the people who sign in to them.

``users`` is run by whoever administers the portal's database (like ``carepool db
migrate`` for the ledger); each change is written to the audit log as made from the command
line. Passwords are read from a prompt or standard input, never from the command line,
where other users of the machine could see them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from carepool.api import create_app, portal_database_url
from carepool.cli.support import out, user_errors
from carepool.config import Settings
from carepool.errors import ConfigError
from carepool.governance import ACCOUNT_ROLES, Governance, parse_roles
from carepool.ledger import Ledger
from carepool.publication import publish_fund

users_app = typer.Typer(help="People who sign in to the portal and the API.", no_args_is_help=True)
ROLES_HELP = f"comma-separated roles: {', '.join(r.value for r in ACCOUNT_ROLES)}"


def _governance() -> Governance:
    return Governance.connect(portal_database_url(Settings.from_env()))


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = typer.prompt("Password", hide_input=True)
    second = typer.prompt("Again", hide_input=True)
    if first != second:
        raise ConfigError("the two passwords differ")
    return str(first)


@users_app.command("add")
@user_errors
def add_command(
    name: Annotated[str, typer.Argument(help="the account name (a fund user's name to post)")],
    roles: Annotated[str, typer.Option("--roles", help=ROLES_HELP)] = "resident",
    display_name: Annotated[str, typer.Option("--display-name")] = "",
    partner: Annotated[
        str | None, typer.Option(help="the partner a finance officer works for")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
) -> None:
    """Add an account; the password is asked for (or read with --password-stdin)."""
    wanted = parse_roles(roles, source="--roles")
    password = _read_password(password_stdin)
    with _governance() as governance:
        account = governance.add_account(
            name, password, wanted, display_name=display_name, partner=partner
        )
    out.print(f"Added {account.name} ({', '.join(sorted(account.roles))}).")


@users_app.command("role")
@user_errors
def role_command(
    name: Annotated[str, typer.Argument()],
    roles: Annotated[str, typer.Option("--roles", help=ROLES_HELP)],
) -> None:
    """Set an account's roles (replacing those it had)."""
    with _governance() as governance:
        account = governance.set_roles(name, parse_roles(roles, source="--roles"))
    out.print(f"{account.name} now has: {', '.join(sorted(account.roles))}.")


@users_app.command("token")
@user_errors
def token_command(
    name: Annotated[str, typer.Argument()],
    label: Annotated[str, typer.Option(help="what the token is for")] = "API token",
    days: Annotated[int, typer.Option(help="days until it expires (1-365)")] = 90,
) -> None:
    """Issue an API token for an account; it is shown once."""
    with _governance() as governance:
        token = governance.issue_token(name, label=label, days=days)
    out.print(f"Token {token.id} for {token.account}, expires {token.expires_at}:")
    typer.echo(token.secret)


@users_app.command("revoke")
@user_errors
def revoke_command(
    token_id: Annotated[
        str | None, typer.Argument(help="the token's id (as `users list --tokens` shows)")
    ] = None,
    account: Annotated[
        str | None, typer.Option(help="disable this account: all its sessions and tokens end")
    ] = None,
) -> None:
    """Revoke one token, or disable an account (ending its sessions and tokens)."""
    if (token_id is None) == (account is None):
        raise ConfigError("give a token id or --account NAME")
    with _governance() as governance:
        if token_id is not None:
            owner = governance.revoke_token(token_id)
            out.print(f"Revoked token {token_id} of {owner}.")
        else:
            assert account is not None
            governance.disable_account(account)
            out.print(f"Disabled {account}: its sessions and tokens have ended.")


@users_app.command("list")
@user_errors
def list_command(
    tokens: Annotated[bool, typer.Option("--tokens", help="list API tokens instead")] = False,
) -> None:
    """Accounts (or tokens), without secrets."""
    with _governance() as governance:
        if tokens:
            table = Table("id", "account", "label", "created", "expires", "revoked")
            for t in governance.tokens():
                table.add_row(
                    t["id"],
                    t["account"],
                    t["label"],
                    t["created_at"],
                    t["expires_at"],
                    t["revoked_at"] or "",
                )
        else:
            table = Table("name", "roles", "partner", "created", "disabled")
            for a in governance.accounts():
                table.add_row(
                    a.name,
                    ", ".join(sorted(a.roles)),
                    a.partner or "",
                    a.created_at,
                    a.disabled_at or "",
                )
    out.print(table)


def serve_command(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
) -> None:
    """Serve the portal at / and the API under /api/ (OpenAPI: /api/openapi.json)."""
    import uvicorn

    app = create_app(Settings.from_env())
    out.print(f"Serving the portal at http://{host}:{port}/ and the API at /api/ (Ctrl-C stops).")
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False)


def report_command(
    out_path: Annotated[
        Path | None, typer.Option("--out", help="where to write it [default: DATA_DIR/report.html]")
    ] = None,
) -> None:
    """Write the whole picture (money, map, places, outcomes, fund, decisions, prevention)
    as one HTML file that opens offline."""
    from carepool.web import write_report

    path = write_report(Settings.from_env(), out_path)
    out.print(f"Report written to {path}; open it in a browser: file://{path.resolve()}")


def publish_command(
    model: Annotated[bool, typer.Option(help="recompute the model's figures too")] = False,
    fund: Annotated[
        str | None, typer.Option(help="the fund to publish [default: the ledger's newest]")
    ] = None,
) -> None:
    """Refresh the public figures the portal serves: the fund's (after postings from the
    command line) and, with --model, the model's."""
    from carepool.cli.demo import publish_everything

    settings = Settings.from_env()
    if model:
        publish_everything(settings)
    with Ledger.connect(settings.database_url, create=False) as ledger:
        folder = publish_fund(settings, ledger, fund)
    out.print(f"Published the fund's figures to {folder}.")


__all__ = ["publish_command", "report_command", "serve_command", "users_app"]
