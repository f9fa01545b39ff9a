"""``carepool ledger verify | export | checkpoint | keys | journal``: trusting the journal.

``verify`` checks the journal in every way the ledger can (the chain, every posting's
entry, the registries, the month closes and a replay of every request under the rules);
with ``--checkpoint`` it also proves the journal still holds what a signed checkpoint saw.
``checkpoint`` signs the journal's head with the fund's key, kept outside the database,
and ``keys`` makes that key. ``export`` writes the published journal; ``journal`` shows
auditors who posted each entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from carepool.cli.ledger import (
    FundOption,
    JsonOption,
    UserOption,
    choose_fund,
    open_ledger,
    user_named,
)
from carepool.cli.support import emit, err, labelled, literal, new_file, out
from carepool.ledger import (
    check_published,
    check_signature,
    read_checkpoint,
    read_private_key,
    read_public_key,
    write_checkpoint,
    write_keys,
)


def verify_command(
    fund: FundOption = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option("--checkpoint", help="a signed checkpoint the journal must still hold"),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option("--public-key", help="the fund's public key (checkpoint.pub)"),
    ] = None,
    published: Annotated[
        Path | None,
        typer.Option(
            "--file", help="a published journal (carepool ledger export) to check, not the ledger"
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check the journal in full; name the first entry that fails.

    Checks its chain, every posting's entry, the registries, the month closes, and every
    request posted again under the rules in force then. With --checkpoint and --public-key,
    also that it still holds the entries the signed checkpoint saw. With --file, checks a
    published copy instead (its chain and digest; no database needed).
    """
    if (checkpoint is None) != (public_key is None):
        raise typer.BadParameter("--checkpoint and --public-key go together")
    if published is not None and fund is not None:
        raise typer.BadParameter("--file names its own fund; leave out --fund")
    signed = read_checkpoint(checkpoint) if checkpoint is not None else None
    key = read_public_key(public_key) if public_key is not None else None
    if published is not None:
        if signed is not None and key is not None:
            check_signature(signed, key)
        with err.status("Checking the published journal"):
            copy = check_published(published, signed)
        check = copy.chain
        whose = literal(f"The published journal of fund {copy.fund} ({copy.year})")
    else:
        with open_ledger() as ledger, err.status("Checking the journal: chain, entries, replay"):
            check = ledger.verify(choose_fund(ledger, fund), checkpoint=signed, public_key=key)
        whose = "The journal"
    if as_json:
        result = check.as_dict()
        result.pop("problem")
        typer.echo(json.dumps(result, indent=2))
    elif check.ok:
        extends = (
            f"; it holds the {signed.entries:,} entries signed {signed.time}" if signed else ""
        )
        out.print(
            f"{whose} verifies: {check.entries:,} entries, digest {check.digest}{extends}",
            markup=False,
        )
    else:
        out.print(
            labelled(
                f"{whose} does not verify:",
                "bold red",
                f"entry {check.first_bad_entry}: {check.problem} ({check.entries:,} entries read)",
            )
        )
    if not check.ok:
        raise typer.Exit(1)


def export_command(
    output: Annotated[
        Path,
        typer.Option("--out", help="where to write the journal (JSON Lines)", callback=new_file),
    ],
    fund: FundOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write the published journal with its digest, which anyone can recompute."""
    with open_ledger() as ledger, err.status(f"Writing the journal to {literal(str(output))}"):
        check = ledger.export(choose_fund(ledger, fund), output, actor=user_named(ledger, user))
    if as_json:
        typer.echo(
            json.dumps({"path": str(output), "entries": check.entries, "digest": check.digest})
        )
    else:
        out.print(
            f"Wrote {check.entries:,} entries to {output}; digest {check.digest}", markup=False
        )


def checkpoint_command(
    key: Annotated[Path, typer.Option("--key", help="the fund's private key (checkpoint.key)")],
    output: Annotated[
        Path, typer.Option("--out", help="where to write the checkpoint", callback=new_file)
    ],
    fund: FundOption = None,
    as_json: JsonOption = False,
) -> None:
    """Sign the journal's head with the fund's key, for witnesses to keep.

    The checkpoint (entries, last hash, time) is published with the journal, so that anyone
    can later prove that nothing before it changed.
    """
    private = read_private_key(key)
    with open_ledger() as ledger:
        signed = ledger.checkpoint(choose_fund(ledger, fund), private)
    write_checkpoint(signed, output)
    if as_json:
        typer.echo(json.dumps(signed.as_dict(), indent=2))
    else:
        out.print(
            f"Signed checkpoint of {signed.entries:,} entries (head {signed.head}) "
            f"written to {output}",
            markup=False,
        )


def keys_command(
    directory: Annotated[Path, typer.Option("--out", help="a folder outside the database")],
) -> None:
    """Make the fund's checkpoint key pair: keep checkpoint.key secret, publish checkpoint.pub."""
    private, public = write_keys(directory)
    out.print(f"Private key: {private} (readable by you only; keep it off the database server)")
    out.print(f"Public key:  {public} (publish it: witnesses check checkpoints with it)")


def journal_command(
    fund: FundOption = None,
    user: UserOption = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="print CSV")] = False,
    as_json: JsonOption = False,
) -> None:
    """Every entry with who posted it and under which request id (auditors and admins)."""
    with open_ledger() as ledger:
        frame = ledger.journal(choose_fund(ledger, fund), actor=user_named(ledger, user))
    if emit(frame, as_json=as_json, as_csv=as_csv):
        return
    table = Table(title="Who posted each entry", title_justify="left")
    for column in ("seq", "kind", "period", "posted_at", "actor", "request_id", "description"):
        table.add_column(column, justify="right" if column == "seq" else "left")
    for row in frame.itertuples(index=False):
        table.add_row(*(Text(str(value)) for value in row))  # as recorded, never as markup
    out.print(table)


#: The commands this module adds to ``carepool ledger``, in the order ``--help`` lists them.
COMMANDS: tuple[tuple[str, Callable[..., Any]], ...] = (
    ("journal", journal_command),
    ("verify", verify_command),
    ("checkpoint", checkpoint_command),
    ("keys", keys_command),
    ("export", export_command),
)
