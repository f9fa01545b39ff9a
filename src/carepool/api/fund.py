"""Officers' work on the fund: a finance officer proposes a virement, a board member
approves or refuses what is held. Each posting goes to the ledger as the signed-in person
(:class:`carepool.api.ledger_access.LedgerAccess`), is recorded in the audit log, and
republishes the fund's public figures."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from carepool.api.ledger_access import LedgerAccess
from carepool.api.security import allowed, client_of, governance_of
from carepool.errors import CarepoolError
from carepool.governance import Action, Governance, Principal
from carepool.ledger import Approve, Operation, Virement

router = APIRouter(prefix="/api/fund", tags=["fund work"])

#: A client's request id: short enough that, kept in its sender's namespace
#: (``portal:<name>:<id>``), it fits the ledger's 120 characters.
RequestId = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.:-]+$")
LineId = Field(min_length=1, max_length=96, pattern=r"^[A-Za-z0-9_.:-]+$")


class VirementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_line: str = LineId
    to_line: str = LineId
    amount_pence: int = Field(gt=0, le=10**15)
    reason: str = Field(min_length=1, max_length=2000)
    request_id: str = RequestId


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hold: int = Field(ge=1, le=2**53)
    approve: bool = True
    reason: str = Field(min_length=1, max_length=2000)
    request_id: str = RequestId


def access_of(request: Request) -> LedgerAccess:
    access: LedgerAccess = request.app.state.ledger_access
    return access


Access = Annotated[LedgerAccess, Depends(access_of)]
GovernanceDep = Annotated[Governance, Depends(governance_of)]


def post(
    access: LedgerAccess,
    governance: Governance,
    principal: Principal,
    operation: Operation,
    request_id: str,
    client: str,
) -> dict[str, Any]:
    """Post as the principal, audit the outcome either way, then republish the fund."""
    action = f"fund.{type(operation).__name__.lower()}"
    try:
        receipt = access.post(principal, operation, request_id)
    except CarepoolError as exc:
        governance.record(
            principal,
            action,
            request_id,
            client=client,
            outcome="refused",
            detail={"error": str(exc)[:500]},
        )
        raise
    governance.record(
        principal,
        action,
        f"{receipt.fund}/{receipt.seq}",
        client=client,
        detail={"status": receipt.status, "request_id": request_id},
    )
    access.republish()
    return receipt.as_dict()


@router.get("/pending", summary="Requests held for the board (officers, board, auditors)")
def pending(
    access: Access, principal: Annotated[Principal, Depends(allowed(Action.READ_FUND_WORK))]
) -> dict[str, Any]:
    rows = access.pending()
    return {"collection": "pending", "count": len(rows), "rows": rows}


@router.post("/virements", status_code=201, summary="Propose a virement (finance officers)")
def virement(
    body: VirementIn,
    request: Request,
    access: Access,
    governance: GovernanceDep,
    principal: Annotated[Principal, Depends(allowed(Action.PROPOSE_VIREMENT))],
) -> dict[str, Any]:
    operation = Virement(
        from_line=body.from_line,
        to_line=body.to_line,
        amount_pence=body.amount_pence,
        reason=body.reason,
    )
    return post(access, governance, principal, operation, body.request_id, client_of(request))


@router.post("/decisions", status_code=201, summary="Approve or refuse a held request (board)")
def decide(
    body: DecisionIn,
    request: Request,
    access: Access,
    governance: GovernanceDep,
    principal: Annotated[Principal, Depends(allowed(Action.APPROVE))],
) -> dict[str, Any]:
    operation = Approve(hold=body.hold, approve=body.approve, reason=body.reason)
    return post(access, governance, principal, operation, body.request_id, client_of(request))
