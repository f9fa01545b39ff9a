"""``carepool appraise``: appraise preventive interventions on the built model, for the whole
system and each partner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from carepool.cli.support import err, gbp, money, out, step_progress
from carepool.config import Settings
from carepool.prevention import AppraisalRequest, InterventionAppraisal, appraise, load_library
from carepool.warehouse import connect


def appraisal_json(result: InterventionAppraisal) -> dict[str, Any]:
    """One intervention in the machine-readable contract of ``carepool appraise --json``."""
    fair = result.fair
    offered = fair.offered
    return {
        "id": result.intervention.id,
        "name": result.intervention.name,
        "year": result.year,
        "cohort": result.cohort,
        "participants": round(result.participants, 1),
        "cost_pence": result.cost_pence,
        "benefit_pence": result.benefit_pence,
        "npv_pence": result.npv_pence,
        "bcr": None if result.bcr is None else round(result.bcr, 4),
        "roi": None if result.roi is None else round(result.roi, 4),
        "payback_year": result.payback_year(),
        "qalys": round(result.qalys, 3),
        "cost_per_qaly": None if result.cost_per_qaly is None else round(result.cost_per_qaly, 2),
        "threshold": result.threshold,
        "net_health_benefit": round(result.net_health_benefit, 3),
        "p_npv_positive": result.p_npv_positive,
        "by_partner": [
            {
                "partner": p.partner,
                "name": p.name,
                "kind": p.kind,
                "cost_pence": p.cost_pence,
                "benefit_pence": p.benefit_pence,
                "npv_pence": p.npv_pence,
                "shapley_pence": p.shapley_pence,
                "p_npv_positive": p.p_npv_positive,
            }
            for p in result.by_partner
        ],
        "fair_shares": {
            "shapley_in_core": fair.shapley_in_core,
            "offered": None if offered is None else offered.rule,
            "statement": fair.statement,
            "worse_off_own_services": list(fair.own_services.worse_off),
            "worse_off_proportional": list(fair.proportional.worse_off),
        },
        "avoided": {k: round(v, 2) for k, v in result.avoided.items() if v},
        "by_quintile": [{k: round(v, 3) for k, v in q.items()} for q in result.by_quintile],
        "ceac": [{"threshold": t, "p_cost_effective": round(p, 4)} for t, p in result.ceac],
    }


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
    )
    settings = Settings.from_env()
    total = len(request.interventions) or len(load_library(request.library))
    with connect(settings) as warehouse, step_progress(total, enabled=not as_json) as step:
        results = appraise(warehouse, request, progress=step)
    if as_json:
        typer.echo(json.dumps([appraisal_json(r) for r in results], indent=2))
        return
    _print(results)


def _print(results: list[InterventionAppraisal]) -> None:
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
