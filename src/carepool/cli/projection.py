"""``carepool project``: population, demand and money ten years ahead under scenarios, and
``carepool project backcast``: the method run from 2011 to 2021 against the census."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from carepool.cli.support import out, records, user_errors
from carepool.projection import AGE_GROUP_BOUND, BOROUGH_BOUND, BROAD_GROUPS, backcast

project_app = typer.Typer(
    help="Project population, demand and money ahead under scenarios; test the method by "
    "back-casting 2011 to 2021.",
    no_args_is_help=True,
)


@project_app.command("backcast")
@user_errors
def backcast_command(
    region: Annotated[str, typer.Option("--region", help="gm, or local authority codes")] = "gm",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Run the projection from the 2011 Census to 2021 with only what was known in 2011, and
    print its errors against Census 2021 by borough and broad age group."""
    result = backcast(region)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "borough_mape_pct": result.borough_mape,
                    "broad_age_mape_pct": result.broad_mape,
                    "fine_age_mape_pct": result.fine_mape,
                    "bounds_pct": {"borough": BOROUGH_BOUND, "broad_age": AGE_GROUP_BOUND},
                    "within_bounds": result.within_bounds,
                    "variants": records(result.variants),
                    "rows": records(result.table),
                },
                indent=2,
            )
        )
        return
    table = Table(title="Back-cast 2011 → 2021 against Census 2021: error, per cent")
    table.add_column("borough")
    columns = ["all ages", *BROAD_GROUPS]
    for label in columns:
        table.add_column(label, justify="right")
    frame = result.table
    for place in dict.fromkeys(frame["place"]):
        rows = frame[frame["place"] == place].set_index("age_group")
        table.add_row(place, *(f"{rows.loc[label, 'error_pct']:+.1f}" for label in columns))
    out.print(table)
    verdict = "within" if result.within_bounds else "OUTSIDE"
    out.print(
        f"Mean absolute error: boroughs {result.borough_mape:.2f}% (bound {BOROUGH_BOUND:.0f}%), "
        f"broad age groups {result.broad_mape:.2f}% (bound {AGE_GROUP_BOUND:.0f}%), "
        f"six age groups {result.fine_mape:.2f}%: {verdict} the bounds."
    )
    variants = Table(title="The method beside its variants")
    for name in ("variant", "boroughs %", "broad ages %"):
        variants.add_column(name, justify="left" if name == "variant" else "right")
    for row in result.variants.itertuples(index=False):
        variants.add_row(str(row.variant), f"{row.borough_mape:.2f}", f"{row.broad_age_mape:.2f}")
    out.print(variants)
