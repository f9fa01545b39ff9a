"""Consultations: read them and their published comments (anyone), comment (residents),
moderate (moderators)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from carepool.api.security import allowed, client_of, governance_of
from carepool.governance import COMMENT_CHARS, Action, Consultation, Governance, Principal

router = APIRouter(prefix="/api", tags=["consultations"])

ConsultationId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")]
GovernanceDep = Annotated[Governance, Depends(governance_of)]


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(min_length=1, max_length=COMMENT_CHARS * 2)


class ModerationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["publish", "reject"]
    reason: str = Field(default="", max_length=500)


def consultation_json(c: Consultation, comments: int | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": c.id,
        "title": c.title,
        "summary": c.summary,
        "proposal": c.proposal,
        "opens_on": c.opens_on,
        "closes_on": c.closes_on,
    }
    if comments is not None:
        record["published_comments"] = comments
    return record


@router.get("/consultations", summary="Consultations, newest first")
def consultations(
    governance: GovernanceDep,
    _: Annotated[Principal, Depends(allowed(Action.READ_PUBLIC))],
) -> JSONResponse:
    counts = governance.comment_counts()
    rows = [consultation_json(c, counts.get(c.id, 0)) for c in governance.consultations()]
    return JSONResponse({"collection": "consultations", "count": len(rows), "rows": rows})


@router.get("/consultations/{consultation_id}", summary="One consultation and its comments")
def consultation(
    consultation_id: ConsultationId,
    governance: GovernanceDep,
    _: Annotated[Principal, Depends(allowed(Action.READ_PUBLIC))],
) -> JSONResponse:
    found = governance.consultation(consultation_id)
    comments = governance.published_comments(consultation_id)
    return JSONResponse(
        {
            **consultation_json(found, len(comments)),
            "comments": comments.to_dict("records"),
        }
    )


@router.post(
    "/consultations/{consultation_id}/comments",
    status_code=202,
    summary="Leave a comment (residents); it is published after moderation",
)
def comment(
    consultation_id: ConsultationId,
    body: CommentIn,
    request: Request,
    governance: GovernanceDep,
    principal: Annotated[Principal, Depends(allowed(Action.COMMENT))],
) -> dict[str, Any]:
    comment_id = governance.leave_comment(
        principal, consultation_id, body.body, client=client_of(request)
    )
    return {"comment": comment_id, "status": "pending", "consultation": consultation_id}


@router.get("/moderation/comments", summary="Comments awaiting moderation (moderators)")
def pending(
    governance: GovernanceDep,
    principal: Annotated[Principal, Depends(allowed(Action.READ_PENDING_COMMENTS))],
) -> JSONResponse:
    rows = governance.pending_comments(principal).to_dict("records")
    return JSONResponse({"collection": "pending_comments", "count": len(rows), "rows": rows})


@router.post("/moderation/comments/{comment_id}", summary="Publish or reject a comment")
def moderate(
    comment_id: Annotated[int, Path(ge=1, le=2**53)],
    body: ModerationIn,
    request: Request,
    governance: GovernanceDep,
    principal: Annotated[Principal, Depends(allowed(Action.MODERATE))],
) -> dict[str, Any]:
    consultation_id = governance.moderate(
        principal, comment_id, body.decision, body.reason, client=client_of(request)
    )
    return {"comment": comment_id, "decision": body.decision, "consultation": consultation_id}
