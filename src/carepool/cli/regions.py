"""``carepool regions``: every region that can be built, with its residents."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from carepool.cli.support import emit, out
from carepool.model import KIND_NAMES, regions_table


def regions_command(
    kind: Annotated[
        str | None,
        typer.Option(help=f"only regions of this kind: {', '.join(KIND_NAMES.values())}"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print every row as JSON")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="print every row as CSV")] = False,
) -> None:
    """List the regions `carepool build --region` accepts: England, its regions, its ICBs,
    its combined authorities and its councils, with residents at Census 2021."""
    frame = regions_table(kind)
    if emit(frame, as_json, as_csv):
        return
    table = Table(title="Regions that can be built (residents: Census 2021)")
    for name, justify in (
        ("kind", "left"),
        ("--region", "left"),
        ("name", "left"),
        ("councils", "right"),
        ("LSOAs", "right"),
        ("residents", "right"),
        ("maps", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in frame.itertuples(index=False):
        table.add_row(
            str(row.kind),
            str(row.region),
            str(row.name),
            f"{row.councils:,}",
            f"{row.lsoas:,}",
            f"{row.residents:,}",
            "yes" if row.maps else "no",
        )
    out.print(table)
    out.print(
        "Every region builds with `carepool build --region <code>`; a list of councils "
        "(comma-separated codes) builds too. Maps need boundaries, vendored for Greater "
        "Manchester only: elsewhere every figure, table and chart works but the maps say so."
    )
