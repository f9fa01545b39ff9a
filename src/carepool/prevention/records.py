"""The machine-readable records of an appraisal and a portfolio: the contract of
``carepool appraise --json`` and ``carepool portfolio --json``, and what the API and the
portal publish. Money in integer pence; ratios rounded."""

from __future__ import annotations

from typing import Any

from carepool.prevention.planning import PortfolioPlan
from carepool.prevention.service import InterventionAppraisal


def appraisal_record(result: InterventionAppraisal) -> dict[str, Any]:
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


def portfolio_record(plan: PortfolioPlan) -> dict[str, Any]:
    """The machine-readable contract of ``carepool portfolio --json``."""
    chosen = plan.portfolio
    return {
        "year": plan.year,
        "status": chosen.status,
        "optimal": chosen.optimal,
        "objective": round(chosen.objective, 4),
        "objective_unit": "net health benefit, QALYs (equity-weighted if weights were given)",
        "fairness_basis": chosen.basis,
        "budget_by_year_pence": [round(b * 100) for b in chosen.budget_by_year],
        "cost_by_year_pence": [round(c * 100) for c in chosen.cost_by_year],
        "qalys": round(chosen.qalys, 3),
        "cost_pence": round(chosen.cost * 100),
        "saving_pence": round(chosen.saving * 100),
        "options_considered": len(plan.options),
        "chosen": [
            {
                "intervention": c.option.intervention,
                "name": c.option.name,
                "place": c.option.place,
                "share_of_cohort": c.share,
                "cost_pence": round(c.option.cost * c.share * 100),
                "qalys": round(c.option.qalys * c.share, 3),
                "net_health_benefit": round(c.option.nhb * c.share, 3),
            }
            for c in chosen.chosen
        ],
        "partners": [
            {
                "partner": partner,
                "name": name,
                "net_position_pence": round(net * 100),
                "saving_pence": round(saving * 100),
            }
            for partner, name, net, saving in zip(
                chosen.partners,
                plan.partner_names,
                chosen.net_positions,
                chosen.savings_by_partner,
                strict=True,
            )
        ],
        "frontier": [
            {
                "budget_pence": round(budget * 100),
                "objective": round(p.objective, 4),
                "optimal": p.optimal,
            }
            for budget, p in plan.frontier
        ],
    }
