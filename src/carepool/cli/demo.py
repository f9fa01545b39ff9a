"""``carepool demo``: the main job — the model, its outcomes, the allocation and the fund."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from carepool.allocation import Allocation, Formula
from carepool.api import portal_database_url
from carepool.cli.allocate import print_allocation
from carepool.cli.indicators import print_gaps, print_indicators
from carepool.cli.ledger import open_ledger, print_decisions, print_position
from carepool.cli.model import print_checks, print_summary, read_checks, read_summary, run_build
from carepool.cli.prevention import print_appraisals, print_portfolio
from carepool.cli.support import err, gbp, out, warn
from carepool.config import Settings
from carepool.demo import (
    Prevention,
    default_allocation,
    headline_outcomes,
    open_prevention_consultation,
    post_fund_year,
    prevention_story,
    ten_year_outlook,
)
from carepool.governance import Governance
from carepool.model import demo_request, plan_build
from carepool.publication import publish_fund, publish_model
from carepool.warehouse import connect, read_manifest
from carepool.web import write_report


def demo_command(
    region: Annotated[
        str | None,
        typer.Option(help="'gm' or comma-separated LA codes [default: the model built, or gm]"),
    ] = None,
    scale: Annotated[
        float | None,
        typer.Option(help="share of the population to model [default: the model built, or 1]"),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="random seed [default: the model built, or 42]")
    ] = None,
) -> None:
    """The main job: build the model if needed (or use the one built), then summarise and
    validate it, allocate the pool, post a year of the fund and choose where to invest in
    prevention."""
    settings = Settings.from_env()
    request, using = demo_request(settings.warehouse_dir, region, scale, seed)
    plan = plan_build(settings.warehouse_dir, request)
    warn(plan.warning)
    if plan.notice:
        out.print(plan.notice)
    if plan.build:
        out.print(f"Building the model into {settings.warehouse_dir} ...")
        run_build(settings, request)
    elif using:
        out.print(using, highlight=False)
    else:
        out.print(f"Using the model already built in {settings.warehouse_dir}.")
    print_summary(read_summary(settings))
    print_checks(read_checks(settings))
    print_headlines(settings)
    allocation, formula = print_default_allocation(settings)
    prevention = print_prevention(settings, allocation)
    print_fund_year(settings, allocation, formula, prevention)
    publish_all(settings, allocation, prevention)
    print_outlook(settings)


def _millions(pounds: float) -> str:
    return gbp(pounds / 1e6, 1, "m")


def print_outlook(settings: Settings) -> None:
    """The story's end: ten years ahead, each partner's gap under the baseline and a reform."""
    with connect(settings) as wh, err.status("Projecting ten years ahead"):
        result = ten_year_outlook(wh)
    base, reform = result.scenarios
    last = result.years[-1]
    table = Table(
        title=f"Ten years ahead: each partner's gap in {last} (cost less income, "
        f"{result.price_year} prices; 10th to 90th percentiles of {result.request.draws} draws)"
    )
    for heading in (
        "partner",
        base.scenario.name,
        "short from",
        reform.scenario.name,
        "short from",
    ):
        table.add_column(heading, justify="left" if heading == "partner" else "right")
    short = [item.money.first_year_short(result.years) for item in (base, reform)]
    for p, partner in enumerate(result.partners):
        cells = []
        for item, when in zip((base, reform), short, strict=True):
            gap = item.money.gap[-1, p]
            low, high = np.percentile(gap[1:], [10, 90])
            band = f"{_millions(gap[0])} ({_millions(low)} to {_millions(high)})"
            cells += [band, when[partner.code] or f"not by {last}"]
        table.add_row(partner.name, *cells)
    out.print(table)
    running_short = [p for p in result.partners if short[0][p.code]]
    first = min((str(short[0][p.code]) for p in running_short), default=None)
    who = [p.name for p in running_short if short[0][p.code] == first]
    lead = (
        f"Under the baseline {len(running_short)} of the {len(result.partners)} partners' "
        f"budgets stop covering their share for good within the ten years; the first, from "
        f"{first}: {', '.join(who) if len(who) < 4 else f'{len(who)} of them'}. "
        if first
        else "Under the baseline every partner's budget covers its share to the last year. "
    )
    councils = slice(1, None)
    extra = (reform.money.cost[-1, councils, 0] - base.money.cost[-1, councils, 0]).sum()
    newly = float(reform.newly_supported_in(len(result.years) - 1).sum())
    command = command_name()
    out.print(
        lead + f"Under {reform.scenario.title.split(': ', 1)[-1]} from "
        f"{reform.scenario.charging.from_year}, the councils would pay "
        f"{gbp(extra / 1e6, 1, 'm')} more in {last}, and for about {newly:,.0f} more people in "
        f"care. More: {command} project --scenario NAME (the scenarios: {command} project "
        f"scenarios), {command} project compare baseline free-personal-care, {command} project "
        f"backcast, and one person's charges: {command} charge --setting care-home --cost 1000 "
        "--savings 50000 --income 250.",
        highlight=False,
    )


def publish_all(settings: Settings, allocation: Allocation, prevention: Prevention) -> None:
    """Write the public figures the portal and the API serve, and say how to start it."""
    with err.status("Publishing the public figures"), connect(settings) as wh:
        publish_model(settings, wh, allocation, prevention.appraisals, prevention.plan)
    with open_ledger(settings) as ledger:
        folder = publish_fund(settings, ledger)
    with Governance.connect(portal_database_url(settings)) as governance:
        consultation = open_prevention_consultation(governance, prevention)
    with err.status("Writing the report"):
        report = write_report(settings)
    out.print(
        f"Public figures written to {folder.parent}; the prevention portfolio is out to "
        f"consultation ({consultation})."
    )
    out.print(f"The report: open file://{report.resolve()} in a browser (it works offline).")
    command = command_name()
    out.print(
        f"The portal and API: {command} serve, then open http://127.0.0.1:8000/ (the API's "
        f"OpenAPI document: /api/openapi.json). Accounts for officers (the fund's users, such as "
        f"finance.icb and board.chair) and residents: {command} users add NAME --roles ROLE; "
        "residents can also make their own at /register. The guide: docs/portal.md.",
        highlight=False,
    )


def command_name() -> str:
    """How to run carepool again from here: ``carepool`` where it is on the PATH, else the
    path it was run by (``.venv/bin/carepool`` after ``make run``)."""
    found = shutil.which("carepool")
    invoked = Path(sys.argv[0])
    if found and invoked.name == "carepool" and Path(found).resolve() == invoked.resolve():
        return "carepool"
    if invoked.name == "carepool" and invoked.exists():
        try:
            return str(invoked.resolve().relative_to(Path.cwd()))
        except ValueError:
            return str(invoked)
    return "carepool"


def publish_everything(settings: Settings) -> None:
    """The model's public figures computed afresh (``carepool publish --model``)."""
    scale = float(read_manifest(settings.warehouse_dir)["scale"])
    with connect(settings) as wh, err.status("Computing the model's public figures"):
        allocation, _ = default_allocation(wh)
        story = prevention_story(wh, allocation, scale)
        publish_model(settings, wh, allocation, story.appraisals, story.plan)


def print_headlines(settings: Settings) -> None:
    """Headline outcomes for the region in the latest year, and their gaps."""
    with err.status("Computing headline outcomes and gaps"), connect(settings) as wh:
        headlines = headline_outcomes(wh)
    print_indicators(headlines.region)
    title = f"Gaps, {headlines.period}: region against England; SII across deciles"
    print_gaps(headlines.gaps, title=title)


def print_default_allocation(settings: Settings) -> tuple[Allocation, Formula]:
    """The default pool shared between the boroughs by the default formula."""
    with connect(settings) as wh, err.status(f"Allocating the default pool ({settings.engine})"):
        allocation, formula = default_allocation(wh)
    print_allocation(allocation)
    out.print(
        "Explain a borough's figure: carepool allocate explain E08000003; "
        "sensitivity: carepool allocate sensitivity E08000003"
    )
    return allocation, formula


def print_fund_year(
    settings: Settings, allocation: Allocation, formula: Formula, prevention: Prevention
) -> None:
    """Open the pooled fund, allocate it, post a year of spend with the prevention
    portfolio's lines, print its position."""
    manifest = read_manifest(settings.warehouse_dir)
    posting = err.status("Posting a year of the pooled fund to the ledger")
    with open_ledger(settings, create=True) as ledger, posting, connect(settings) as wh:
        year = post_fund_year(ledger, wh, manifest, allocation, formula, prevention.plan)
    run, check = year.run, year.journal
    where = settings.database_url.split("@")[-1]
    replayed = (
        f"; all {run.replayed:,} requests were already posted, so the ledger replayed them"
        if run.replayed == run.requests
        else ""
    )
    out.print(
        f"Pooled fund {run.fund} in {where}: {run.requests:,} requests{replayed}. "
        f"Spend is the model's {run.spend_year} public cost, posted in equal monthly parts; "
        "public health has no modelled activity, so its lines show no spend. Every month is "
        "closed but the last, which stays open for the year's final adjustments."
    )
    print_position(year.position, by="place")
    print_position(year.position, by="service")
    print_decisions(year.decisions)
    out.print(
        f"Journal: {check.entries:,} entries, {'verified' if check.ok else 'NOT VERIFIED'}; "
        f"digest {check.digest}. Lines: carepool ledger position --user resident; publish "
        "it: carepool ledger export --user resident --out journal.jsonl; check anyone's "
        "copy: carepool ledger verify --file journal.jsonl"
    )


def print_prevention(settings: Settings, allocation: Allocation) -> Prevention:
    """The default intervention library appraised, and the portfolio within the budget (the
    fund then carries its lines)."""
    scale = float(read_manifest(settings.warehouse_dir)["scale"])
    with connect(settings) as wh, err.status("Appraising prevention and choosing a portfolio"):
        story = prevention_story(wh, allocation, scale)
    print_appraisals(story.appraisals)
    out.print(
        f"The best prevention portfolio within {gbp(story.budget)} a year, no partner's fair "
        "share negative:"
    )
    print_portfolio(story.plan)
    out.print(
        "Each partner's share of one intervention: carepool appraise --intervention "
        "falls_prevention --json; the efficient frontier: carepool portfolio --budget "
        f"{story.budget:.0f} --frontier 10. The fund below carries the portfolio's lines, "
        "funded by virements the board approves, and its gain-share agreement."
    )
    return story
