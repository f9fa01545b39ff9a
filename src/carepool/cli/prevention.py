"""``carepool appraise``: appraise preventive interventions on the built model, for the whole
system and each partner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from carepool.cli.ledger import FundOption, choose_fund, open_ledger, user_named
from carepool.cli.support import (
    ShareLibrary,
    chart_library,
    err,
    gbp,
    money,
    new_file,
    out,
    records,
    step_progress,
)
from carepool.config import Settings
from carepool.errors import AppraisalError
from carepool.geography import england_place_name
from carepool.prevention import (
    AppraisalRequest,
    InterventionAppraisal,
    PortfolioPlan,
    PortfolioRequest,
    Principal,
    RiskProfile,
    RiskRequest,
    acceptability_chart,
    appraisal_record,
    appraise,
    cash_flow_chart,
    frontier_chart,
    load_library,
    person_risks,
    plan_portfolio,
    portfolio_record,
    risk_profile,
    write_private_csv,
)
from carepool.warehouse import connect

#: Who is asking, where it matters: an analyst of a fund pooling the model's places (for a
#: library of one's own, or each resident's risk score).
AnalystOption = Annotated[
    str | None, typer.Option("--user", help="who is asking: an analyst, for --library or --people")
]


def appraise_command(
    intervention: Annotated[
        list[str] | None,
        typer.Option("--intervention", help="an intervention id (repeat; default: all)"),
    ] = None,
    library: Annotated[
        list[Path] | None,
        typer.Option("--library", help="a TOML file of interventions to add (repeat)"),
    ] = None,
    years: Annotated[int, typer.Option(help="years appraised, from the start (1-30)")] = 5,
    draws: Annotated[int, typer.Option(help="Monte Carlo draws (0: none)")] = 10_000,
    seed: Annotated[int, typer.Option(help="seed of the Monte Carlo draws")] = 42,
    threshold: Annotated[float, typer.Option(help="pounds per QALY")] = 25_000.0,
    scale: Annotated[float, typer.Option(help="share of each cohort offered it, (0, 1]")] = 1.0,
    cohorts: Annotated[
        int, typer.Option(help="fresh cohorts recruited, one a year from the start")
    ] = 1,
    chart: Annotated[
        Path | None,
        typer.Option(help="write the acceptability curve (HTML) here", callback=new_file),
    ] = None,
    cash_flows: Annotated[
        Path | None,
        typer.Option(help="write each partner's cash flow by year (HTML) here", callback=new_file),
    ] = None,
    share_library: ShareLibrary = False,
    user: AnalystOption = None,
    fund: FundOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Appraise preventive interventions for the whole system and for each partner: costs and
    savings year by year (Green Book discounting, optimism bias), NPV, payback, cost per QALY,
    the chance of gaining, and fair shares of what is saved."""
    request = AppraisalRequest(
        interventions=tuple(intervention or ()),
        library=tuple(library or ()),
        years=years,
        draws=draws,
        seed=seed,
        threshold=threshold,
        scale=scale,
        cohorts=cohorts,
    )
    settings = Settings.from_env()
    total = len(request.interventions) or len(load_library(request.library))
    with (
        _principal(settings, request.library, user, fund) as principal,
        connect(settings) as warehouse,
        step_progress(total, enabled=not as_json) as step,
    ):
        results = appraise(warehouse, request, progress=step, principal=principal)
    library_mode = chart_library(share_library, chart or cash_flows)
    if chart is not None:
        err.print(f"Chart: {acceptability_chart(results, chart, library_mode)}")
    if cash_flows is not None:
        err.print(f"Chart: {cash_flow_chart(results, cash_flows, library=library_mode)}")
    if as_json:
        typer.echo(json.dumps([appraisal_record(r) for r in results], indent=2))
        return
    print_appraisals(results)


def print_appraisals(results: list[InterventionAppraisal]) -> None:
    table = Table(title=f"Prevention appraisal, {results[0].year} cohorts" if results else "")
    for name in ("Intervention", "Cohort", "Cost", "Savings", "NPV", "QALYs", "£/QALY", "P(NPV>0)"):
        table.add_column(name, justify="left" if name == "Intervention" else "right")
    for r in results:
        per_qaly = r.cost_per_qaly
        table.add_row(
            r.intervention.name,
            f"{r.cohort:,}",
            money(r.cost_pence),
            money(r.benefit_pence),
            money(r.npv_pence),
            f"{r.qalys:,.1f}",
            "" if per_qaly is None else ("saves" if per_qaly < 0 else gbp(per_qaly)),
            "" if r.p_npv_positive is None else f"{r.p_npv_positive:.0%}",
        )
    out.print(table)
    err.print(
        "Present values over the years appraised (money at 3.5%, QALYs at 1.5%), with optimism "
        "bias; each partner's share: carepool appraise --json. Method: docs/methods/prevention.md."
    )


def portfolio_command(
    budget: Annotated[float, typer.Option(help="pounds available in each year")],
    years: Annotated[int, typer.Option(help="years of the programme (1-30)")] = 5,
    threshold: Annotated[float, typer.Option(help="pounds per QALY")] = 25_000.0,
    equity: Annotated[
        str | None,
        typer.Option(
            help="weights on health gained by IMD quintile, most deprived first: 1.5,1.25,1,1,1"
        ),
    ] = None,
    basis: Annotated[
        str, typer.Option(help="fair shares of: monetary (QALYs valued at the threshold) or cash")
    ] = "monetary",
    unfair: Annotated[
        bool, typer.Option("--no-fairness", help="drop the partners' fair-share constraint")
    ] = False,
    frontier: Annotated[int, typer.Option(help="budgets on the efficient frontier (0-50)")] = 0,
    chart: Annotated[
        Path | None,
        typer.Option(help="write the efficient frontier (HTML) here", callback=new_file),
    ] = None,
    share_library: ShareLibrary = False,
    user: AnalystOption = None,
    fund: FundOption = None,
    intervention: Annotated[
        list[str] | None,
        typer.Option("--intervention", help="an intervention id (repeat; default: all)"),
    ] = None,
    library: Annotated[
        list[Path] | None,
        typer.Option("--library", help="a TOML file of interventions to add (repeat)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Choose interventions and their scale, place by place, to maximise net health benefit
    within a yearly budget, with no partner's fair share negative; solved exactly."""
    weights = None if equity is None else _weights(equity)
    request = PortfolioRequest(
        budget=budget,
        years=years,
        threshold=threshold,
        equity_weights=weights,
        interventions=tuple(intervention or ()),
        library=tuple(library or ()),
        fair=not unfair,
        basis=basis,
        frontier_points=frontier,
    )
    total = len(request.interventions) or len(load_library(request.library))
    settings = Settings.from_env()
    with (
        _principal(settings, request.library, user, fund) as principal,
        connect(settings) as warehouse,
        step_progress(total, not as_json) as step,
    ):
        plan = plan_portfolio(warehouse, request, progress=step, principal=principal)
    if chart is not None:
        written = frontier_chart(plan.frontier, chart, chart_library(share_library, chart))
        err.print(f"Chart: {written}")
    if as_json:
        typer.echo(json.dumps(portfolio_record(plan), indent=2))
        return
    print_portfolio(plan)


def _weights(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(w) for w in text.split(","))
    except ValueError:
        raise AppraisalError(
            f"equity weights {text!r}: expected five numbers, most deprived first, "
            "e.g. 1.5,1.25,1,1,1"
        ) from None


def print_portfolio(plan: PortfolioPlan) -> None:
    chosen = plan.portfolio
    table = Table(title=f"Prevention portfolio ({chosen.status})")
    for name in ("Intervention", "Place", "Share", "Cost", "QALYs", "NHB"):
        table.add_column(name, justify="left" if name in ("Intervention", "Place") else "right")
    for c in chosen.chosen:
        table.add_row(
            c.option.name,
            england_place_name(c.option.place) or c.option.place,
            f"{c.share:.0%}",
            gbp(c.option.cost * c.share),
            f"{c.option.qalys * c.share:,.1f}",
            f"{c.option.nhb * c.share:,.2f}",
        )
    if chosen.chosen:
        out.print(table)
    else:
        out.print("No option is chosen: none adds net health benefit within the constraints.")
    partners = Table(title=f"Each partner's fair share ({chosen.basis} value)")
    for name in ("Partner", "Fair share", "Cash savings"):
        partners.add_column(name, justify="left" if name == "Partner" else "right")
    for name, net, saving in zip(
        plan.partner_names, chosen.net_positions, chosen.savings_by_partner, strict=True
    ):
        partners.add_row(name, gbp(net), gbp(saving))
    out.print(partners)
    out.print(
        f"Net health benefit {chosen.objective:,.2f} QALYs; cost {gbp(chosen.cost)} "
        f"(present value), {chosen.qalys:,.1f} QALYs. Budget a year: "
        f"{', '.join(gbp(b) for b in chosen.budget_by_year)}; spent: "
        f"{', '.join(gbp(c) for c in chosen.cost_by_year)}."
    )


def risk_json(profile: RiskProfile) -> dict[str, Any]:
    """The machine-readable output of ``carepool risk --json``: aggregates only."""
    model = profile.model
    return {
        "year": profile.year,
        "model": {
            "method": "logistic regression (scikit-learn): age spline, sex, registers, last "
            "year's use of services, care setting, deprivation quintile",
            "fitted_on": model.fitted_on,
            "validated_on": model.validated_on,
            "validation": "held-out year" if model.held_out_year else "held-out people (30%)",
            "auroc": round(model.auroc, 4),
            "published_auroc_range": [0.70, 0.78],
            "base_rate": round(model.base_rate, 4),
            "calibration": [
                {
                    "decile": c.decile,
                    "people": c.people,
                    "predicted": round(c.predicted, 4),
                    "observed": round(c.observed, 4),
                }
                for c in model.calibration
            ],
        },
        "top_share": profile.top_share,
        "top_risk_cut": round(profile.cut, 4),
        "segments": records(profile.segments),
        "top_cohort": records(profile.top_cohort),
    }


def risk_command(
    top_share: Annotated[
        float,
        typer.Option(
            help="share of residents counted as the top-risk cohort: 0.01, 0.02, 0.05, 0.1 or 0.2"
        ),
    ] = 0.05,
    seed: Annotated[int, typer.Option(help="seed of the held-out sample")] = 42,
    people: Annotated[
        Path | None,
        typer.Option(help="write each resident's risk to this CSV (analysts only: --user)"),
    ] = None,
    user: AnalystOption = None,
    fund: FundOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Each resident's risk of an emergency admission next year: the model's validation,
    the population's segments and each neighbourhood's top-risk cohort (published, with small
    numbers suppressed); each resident's score only to analysts (--people)."""
    request = RiskRequest(top_share=top_share, seed=seed)
    settings = Settings.from_env()
    if people is not None:
        target = new_file(people)
        assert target is not None
        if target.exists() or target.is_symlink():
            raise AppraisalError(f"{target} exists: person-level results go to a new file")
        with open_ledger(settings) as ledger:
            actor = user_named(ledger, user)
            chosen_fund = choose_fund(ledger, fund)
            with connect(settings) as warehouse, err.status("Scoring every resident"):
                frame = person_risks(warehouse, request, ledger, chosen_fund, actor)
        write_private_csv(frame, target)
        err.print(
            f"Wrote {len(frame):,} residents' risk scores to {target} (readable by you only)."
        )
        return
    with connect(settings) as warehouse, err.status("Fitting and validating the risk model"):
        profile = risk_profile(warehouse, request)
    if as_json:
        typer.echo(json.dumps(risk_json(profile), indent=2))
        return
    _print_risk(profile)


def _print_risk(profile: RiskProfile) -> None:
    model = profile.model
    how = "a held-out year" if model.held_out_year else "held-out people (30%)"
    out.print(
        f"Risk of an emergency admission next year: fitted on {model.fitted_on}, validated on "
        f"{how}. AUROC {model.auroc:.3f} (published models on real records: 0.70-0.78); "
        f"{model.base_rate:.1%} admitted."
    )
    calibration = Table(title="Calibration by decile of predicted risk")
    for name in ("Decile", "People", "Predicted", "Observed"):
        calibration.add_column(name, justify="right")
    for c in model.calibration:
        calibration.add_row(
            str(c.decile), f"{c.people:,}", f"{c.predicted:.1%}", f"{c.observed:.1%}"
        )
    out.print(calibration)
    segments = profile.segments.groupby("segment")["residents"].sum()
    out.print(
        "Segments (residents, borough counts rounded to 5): "
        + "; ".join(f"{name} {int(n):,}" for name, n in segments.items())
    )
    top = profile.top_cohort.sort_values("per_1000", ascending=False).head(10)
    table = Table(
        title=f"Neighbourhoods with the most residents in the top {profile.top_share:.0%}"
    )
    for name in ("Neighbourhood", "Borough", "Top-risk residents", "Per 1,000"):
        table.add_column(name, justify="left" if name in ("Neighbourhood", "Borough") else "right")
    for row in top.to_dict("records"):
        count, rate = row["top_risk"], row["per_1000"]
        table.add_row(
            england_place_name(str(row["msoa21_code"])) or str(row["msoa21_code"]),
            england_place_name(str(row["lad_code"])) or str(row["lad_code"]),
            "" if pd.isna(count) else f"{int(count):,}",
            "" if pd.isna(rate) else f"{float(rate):.1f}",
        )
    out.print(table)


@contextmanager
def _principal(
    settings: Settings, library: tuple[Path, ...], user: str | None, fund: str | None
) -> Iterator[Principal | None]:
    """Who is asking, when it matters: a library of one's own is for analysts."""
    if not library and user is None:
        yield None
        return
    with open_ledger(settings) as ledger:
        yield Principal(ledger, choose_fund(ledger, fund), user_named(ledger, user))
