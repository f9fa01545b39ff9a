"""``carepool ledger``: the pooled fund's books from the command line.

Every posting names the user making it (``--user`` or ``CAREPOOL_USER``) and carries a
request id (``--request-id``; one is made up and printed when none is given, so a retry can
reuse it). ``--json`` prints what the Python API returns. Each posting command builds the
ledger's typed request from its options (:mod:`carepool.ledger`) and posts it; the fields'
checks and their messages are the ledger's own.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from carepool.cli.fund_tables import (
    place_name,
    print_burden_shift,
    print_decisions,
    print_position,
)
from carepool.cli.support import ShareLibrary, chart_library, emit, err, new_file, out, user_errors
from carepool.config import Settings
from carepool.errors import ConfigError, WarehouseError
from carepool.ledger import (
    Allocate,
    Approve,
    ChangeUser,
    ClosePeriod,
    Commit,
    Contribute,
    Forecast,
    Ledger,
    Operation,
    Position,
    Receipt,
    Reverse,
    Settle,
    Spend,
    Virement,
    load_spec,
    parse_amount,
    read_allocations,
)
from carepool.monitoring import burden_shift
from carepool.monitoring import chart as burden_shift_chart
from carepool.warehouse import connect as open_warehouse
from carepool.warehouse import read_manifest

ledger_app = typer.Typer(
    help="The pooled fund's ledger: contributions, budgets, spend, virements, decisions, "
    "a journal anyone can verify.",
    no_args_is_help=True,
)

FundOption = Annotated[
    str | None,
    typer.Option("--fund", help="fund id (default: $CAREPOOL_FUND, or the only fund)"),
]
UserOption = Annotated[
    str | None, typer.Option("--user", help="who is asking (default: $CAREPOOL_USER)")
]
RequestOption = Annotated[
    str | None,
    typer.Option("--request-id", help="client request id; reuse it to retry safely"),
]
PeriodOption = Annotated[
    str | None, typer.Option("--period", help="month YYYY-MM (default: the first open one)")
]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON")]
CsvOption = Annotated[bool, typer.Option("--csv", help="print CSV")]
LineOption = Annotated[str, typer.Option(help="the budget line")]
AmountOption = Annotated[str, typer.Option(help="pounds (1234.56) or pence (123456p)")]
DescriptionOption = Annotated[str, typer.Option(help="shown in the journal")]
PublishedReason = Annotated[str, typer.Option(help="why; published")]


def open_ledger(settings: Settings | None = None, *, create: bool = False) -> Ledger:
    """The configured ledger. Only ``create`` (opening a fund, the demo) makes a new SQLite
    database; every other command refuses a missing one rather than leave an empty file."""
    settings = settings or Settings.from_env()
    return Ledger.connect(settings.database_url, create=create)


def choose_fund(ledger: Ledger, fund: str | None) -> str:
    fund = fund or os.environ.get("CAREPOOL_FUND") or None
    if fund:
        return fund
    funds = ledger.funds()
    if len(funds) == 1:
        return funds[0]
    if not funds:
        raise ConfigError(
            "the ledger holds no fund yet; open one with `carepool ledger init --spec FILE`"
        )
    raise ConfigError(
        f"the ledger holds several funds ({', '.join(funds)}); choose one with --fund"
    )


def user_named(ledger: Ledger, user: str | None) -> str:
    """Who is acting: on PostgreSQL the database login, always (``--user`` is refused: a
    name anyone can type is no identity); on SQLite, the single-user local mode, the fund
    user named by ``--user`` or ``CAREPOOL_USER``."""
    if ledger.login is not None:
        if user or os.environ.get("CAREPOOL_USER"):
            raise ConfigError(
                "--user and CAREPOOL_USER are refused on a PostgreSQL ledger: you act as your "
                f"database login ({ledger.login}); to act as another user, log in as them"
            )
        return ledger.login
    user = user or os.environ.get("CAREPOOL_USER") or None
    if not user:
        raise ConfigError("say who is asking: --user NAME or CAREPOOL_USER")
    return user


def _request_id(request_id: str | None) -> str:
    return request_id or uuid.uuid4().hex


def _posting_options(
    fund: FundOption = None,
    user: UserOption = None,
    request_id: RequestOption = None,
    as_json: JsonOption = False,
) -> None:
    """The options every posting command takes after its own (declared here once)."""


def posting(build: Callable[..., Operation]) -> Callable[..., None]:
    """A posting command from ``build``, a function of the command's own options that
    returns the ledger's typed request: the command also takes the shared options (fund,
    user, request id, JSON), posts the request and prints its receipt."""
    own = inspect.signature(build, eval_str=True).parameters.values()
    shared = inspect.signature(_posting_options, eval_str=True).parameters.values()

    @functools.wraps(build)
    def command(**options: Any) -> None:
        fund, user, request_id, as_json = (options.pop(p.name) for p in shared)
        request = build(**options)
        with open_ledger() as ledger:
            actor = user_named(ledger, user)
            receipt = ledger.post(
                choose_fund(ledger, fund), request, actor=actor, request_id=_request_id(request_id)
            )
        print_receipt(receipt, as_json)

    parameters = [*own, *shared]
    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    return command


def print_receipt(receipt: Receipt, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(receipt.as_dict(), indent=2))
        return
    again = " (a retry: this is the first result)" if receipt.replayed else ""
    out.print(
        f"{receipt.status.capitalize()}: entry {receipt.seq} ({receipt.kind}) in fund "
        f"{receipt.fund}{again}; request id {receipt.request_id}; hash {receipt.hash[:16]}…"
    )
    for rule in receipt.detail.get("rules", []):
        out.print(f"  held by rule {rule['rule']}: {rule['reason']}")
    if receipt.status == "held":
        out.print(f"  a board member decides it with: carepool ledger approve --hold {receipt.seq}")
    if "outcome" in receipt.detail:
        out.print(f"  outcome: {receipt.detail['outcome']}")
    if "posted_seq" in receipt.detail:
        out.print(f"  posted as entry {receipt.detail['posted_seq']}")


@ledger_app.command("init")
@user_errors
def init_command(
    spec: Annotated[Path | None, typer.Option("--spec", help="a fund specification (TOML)")] = None,
    user: UserOption = None,
    request_id: RequestOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check the ledger database is ready (a new SQLite file is set up); with --spec, also
    open a fund."""
    settings = Settings.from_env()
    with open_ledger(settings, create=True) as ledger:  # checks the tables are up to date
        if spec is None:
            where = settings.database_url.split("@")[-1]
            if as_json:
                typer.echo(json.dumps({"database": where, "ready": True}))
            else:
                out.print(f"Ledger database ready: {where}")
            return
        fund_spec = load_spec(spec)
        receipt = ledger.open_fund(
            fund_spec, actor=user_named(ledger, user), request_id=_request_id(request_id)
        )
    print_receipt(receipt, as_json)


@ledger_app.command("contribute")
@user_errors
@posting
def contribute_command(
    partner: Annotated[str, typer.Option(help="the contributing partner's code")],
    amount: AmountOption,
    description: DescriptionOption = "",
    period: PeriodOption = None,
) -> Contribute:
    """Record a partner's contribution to the fund."""
    return Contribute(
        partner=partner, amount_pence=parse_amount(amount), period=period, description=description
    )


@ledger_app.command("allocate")
@user_errors
@posting
def ledger_allocate_command(
    line: Annotated[str | None, typer.Option(help="the budget line")] = None,
    amount: Annotated[str | None, typer.Option(help="pounds (1234.56) or pence (123456p)")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="CSV of line,amount: one allocation entry")
    ] = None,
    description: DescriptionOption = "",
    period: PeriodOption = None,
) -> Allocate:
    """Allocate unallocated money to budget lines (one line, or a CSV of many)."""
    if file is not None and (line or amount):
        raise ConfigError("give either --file or --line with --amount")
    if file is not None:
        items = read_allocations(file)
    elif line and amount:
        items = [(line, parse_amount(amount))]
    else:
        raise ConfigError("give --line with --amount, or --file")
    return Allocate(allocations=items, period=period, description=description)


@ledger_app.command("spend")
@user_errors
@posting
def spend_command(
    line: LineOption,
    amount: AmountOption,
    commitment: Annotated[
        int | None, typer.Option(help="the commitment entry this spend settles")
    ] = None,
    description: DescriptionOption = "",
    period: PeriodOption = None,
) -> Spend:
    """Record actual spend on a line."""
    return Spend(
        line=line,
        amount_pence=parse_amount(amount),
        period=period,
        description=description,
        commitment=commitment,
    )


@ledger_app.command("commit")
@user_errors
@posting
def commit_command(
    line: LineOption,
    amount: AmountOption,
    description: DescriptionOption = "",
    period: PeriodOption = None,
) -> Commit:
    """Record a commitment (an order placed, not yet paid) against a line."""
    return Commit(
        line=line, amount_pence=parse_amount(amount), period=period, description=description
    )


@ledger_app.command("virement")
@user_errors
@posting
def virement_command(
    from_line: Annotated[str, typer.Option("--from", help="the line giving money")],
    to_line: Annotated[str, typer.Option("--to", help="the line receiving it")],
    amount: AmountOption,
    reason: PublishedReason,
    period: PeriodOption = None,
) -> Virement:
    """Move budget between lines; held for the board when a rule says so."""
    return Virement(
        from_line=from_line,
        to_line=to_line,
        amount_pence=parse_amount(amount),
        reason=reason,
        period=period,
    )


@ledger_app.command("approve")
@user_errors
@posting
def approve_command(
    hold: Annotated[int, typer.Option(help="the held entry's number")],
    reason: Annotated[str, typer.Option(help="the decision's reason; published")],
    reject: Annotated[bool, typer.Option("--reject", help="reject instead of approving")] = False,
) -> Approve:
    """Decide a held request (board members; never one's own)."""
    return Approve(hold=hold, reason=reason, approve=not reject)


@ledger_app.command("forecast")
@user_errors
@posting
def forecast_command(
    line: LineOption,
    amount: Annotated[str, typer.Option(help="forecast outturn for the year")],
    period: PeriodOption = None,
) -> Forecast:
    """Record a line's forecast outturn for the year (replaces the last forecast)."""
    pence = parse_amount(amount, allow_zero=True)
    return Forecast(line=line, outturn_pence=pence, period=period)


@ledger_app.command("reverse")
@user_errors
@posting
def reverse_command(
    entry: Annotated[int, typer.Option(help="the entry to reverse")],
    reason: PublishedReason,
    period: PeriodOption = None,
) -> Reverse:
    """Correct an entry by posting its reversal (nothing is ever edited or deleted)."""
    return Reverse(entry=entry, reason=reason, period=period)


@ledger_app.command("close-period")
@user_errors
@posting
def close_period_command(
    period: PeriodOption = None,
) -> ClosePeriod:
    """Close the first open month (the host's finance officers); nothing more posts into it."""
    return ClosePeriod(period=period)


@ledger_app.command("settle")
@user_errors
@posting
def settle_command(
    reason: Annotated[str, typer.Option(help="the board's reason; published")] = "",
) -> Settle:
    """Share the year's over- or underspend by the fund's risk-share rule (board members)."""
    return Settle(reason=reason)


@ledger_app.command("user")
@user_errors
@posting
def user_command(
    name: Annotated[str, typer.Argument(help="the user whose access changes")],
    role: Annotated[
        list[str] | None,
        typer.Option(
            "--role", help="a role to hold (repeat for several): finance, board, auditor, ..."
        ),
    ] = None,
    partner: Annotated[
        str | None, typer.Option(help="the partner a finance officer works for")
    ] = None,
    remove: Annotated[bool, typer.Option("--remove", help="withdraw the user's access")] = False,
    reason: Annotated[str, typer.Option(help="why the access changes; published")] = "",
) -> ChangeUser:
    """Give a user access with --role (repeat), change their roles, or --remove them (admins)."""
    roles = list(role or [])
    if remove == bool(roles):
        raise ConfigError("give the user's roles with --role, or withdraw access with --remove")
    return ChangeUser(name=name, roles=roles, reason=reason, partner=partner)


@ledger_app.command("users")
@user_errors
def users_command(
    fund: FundOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Who may use the fund now, with their partner and roles."""
    with open_ledger() as ledger:
        frame = ledger.users(choose_fund(ledger, fund), actor=user_named(ledger, user))
    if emit(frame, as_json, as_csv):
        return
    table = Table(title="Users")
    for column in ("User", "Partner", "Roles"):
        table.add_column(column)
    for record in frame.to_dict(orient="records"):
        table.add_row(str(record["name"]), str(record["partner"] or ""), str(record["roles"]))
    out.print(table)


@ledger_app.command("position")
@user_errors
def position_command(
    period: Annotated[
        str | None, typer.Option(help="as at the end of this month (default: now)")
    ] = None,
    fund: FundOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="print the lines as CSV")] = False,
    by: Annotated[
        str | None,
        typer.Option("--by", help="sum the lines by partner, place or service (as the demo)"),
    ] = None,
) -> None:
    """The fund's position: per line budget, actual, committed, forecast; fund totals."""
    if by is not None and by not in GROUPINGS:
        raise ConfigError(f"--by {by!r}: expected one of {', '.join(GROUPINGS)}")
    with open_ledger() as ledger:
        position = ledger.position(
            choose_fund(ledger, fund), actor=user_named(ledger, user), period=period
        )
    if as_json:
        result = position.as_json()
        if by is not None:
            result[f"by_{by}"] = Position.rows(position.summed(by))
        typer.echo(json.dumps(result, indent=2))
    elif not emit(position.summed(by) if by is not None else position.lines, False, as_csv):
        print_position(position, by)


#: What the position's lines can be summed by.
GROUPINGS = ("partner", "place", "service")


@ledger_app.command("decisions")
@user_errors
def decisions_command(
    fund: FundOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """The decisions register: held requests, who decided them and why; settlements."""
    with open_ledger() as ledger:
        register = ledger.decisions(choose_fund(ledger, fund), actor=user_named(ledger, user))
    if not emit(register, as_json, as_csv):
        print_decisions(register)


@ledger_app.command("monitor")
@user_errors
def monitor_command(
    threshold: Annotated[
        float, typer.Option(help="smallest change that counts, as a fraction (0.02 = 2%)")
    ] = 0.02,
    chart: Annotated[
        Path | None, typer.Option(help="also write the chart (HTML) here", callback=new_file)
    ] = None,
    share_library: ShareLibrary = False,
    fund: FundOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Burden shifting: where one partner's cut meets another partner's rising cost."""
    library = chart_library(share_library, chart)
    settings = Settings.from_env()
    with open_ledger(settings) as ledger, err.status("Comparing spend and activity"):
        fund_id, actor = choose_fund(ledger, fund), user_named(ledger, user)
        try:
            read_manifest(settings.warehouse_dir)
            with open_warehouse(settings) as warehouse:
                evidence = burden_shift(
                    ledger, fund_id, actor=actor, warehouse=warehouse, threshold=threshold
                )
        except WarehouseError as exc:
            err.print(f"No warehouse activity ({exc}); comparing ledger spend only.")
            evidence = burden_shift(ledger, fund_id, actor=actor, threshold=threshold)
    if chart is not None:
        names = {code: place_name(code) for code in evidence["place"].astype(str).unique()}
        written = burden_shift_chart(
            evidence,
            chart,
            threshold=threshold,
            names=names,
            library=library,
        )
        err.print(f"Chart: {written}")
    if not emit(evidence, as_json, as_csv):
        print_burden_shift(evidence, threshold, chart_written=chart is not None)


__all__ = [
    "FundOption",
    "JsonOption",
    "UserOption",
    "choose_fund",
    "ledger_app",
    "open_ledger",
    "print_decisions",
    "print_position",
    "user_named",
]
