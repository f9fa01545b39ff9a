"""Who may see results that could pick out residents: analysts of a fund that pools the
model's places, as the pooled fund's ledger records them (on PostgreSQL, the database login).

Person-level risk scores, and appraisals of an intervention library of one's own (whose
cohorts a user chooses, so that narrow ones could describe a handful of people), are theirs
only; the default library's appraisal and every published table are for everyone.
"""

from __future__ import annotations

from dataclasses import dataclass

from carepool.errors import PermissionDenied
from carepool.ledger import Ledger
from carepool.warehouse import Tables

ANALYST = "analyst"


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user of a fund in a ledger."""

    ledger: Ledger
    fund: str
    actor: str


def require_analyst(ledger: Ledger, fund: str, actor: str) -> None:
    """Refuse anyone the fund's ledger does not give the analyst role."""
    roles = ledger.roles_of(fund, actor=actor)
    if ANALYST not in roles:
        raise PermissionDenied(
            f"user {actor!r} ({', '.join(roles)}) may not read person-level risk scores: "
            "it needs the analyst role"
        )


def require_fund_of_model(ledger: Ledger, fund: str, warehouse: Tables) -> None:
    """The fund must pool every place of the model: an analyst of another partnership's fund
    has no business with these residents."""
    places = warehouse.to_pandas(warehouse.table("lsoa").select("lad_code").distinct())
    partners = {p.id for p in ledger.spec(fund).partners}
    missing = sorted(set(places["lad_code"].astype(str)) - partners)
    if missing:
        raise PermissionDenied(
            f"fund {fund} does not pool this model's places ({', '.join(missing[:3])} ...): "
            "its analysts may not read these residents' scores"
        )


def require_model_analyst(principal: Principal | None, warehouse: Tables, what: str) -> None:
    """Refuse ``what`` to anyone but an analyst of a fund that pools the model's places."""
    if principal is None:
        raise PermissionDenied(
            f"{what} needs an analyst: name one (--user) of a fund that pools this model's places"
        )
    require_analyst(principal.ledger, principal.fund, principal.actor)
    require_fund_of_model(principal.ledger, principal.fund, warehouse)
