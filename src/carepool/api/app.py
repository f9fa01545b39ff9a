"""The application: the API under ``/api/`` (OpenAPI at ``/api/openapi.json``), and the
portal's pages at ``/`` (added by :mod:`carepool.web`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import anyio
from fastapi import Depends, FastAPI

from carepool.api import consultations, errors, fund, public
from carepool.api.data import PublicData
from carepool.api.ledger_access import LedgerAccess
from carepool.api.security import BodyLimit, SecurityHeaders, allowed, governance_of
from carepool.config import Settings
from carepool.governance import Action, Governance, Principal
from carepool.publication import public_dir

#: Threads for the synchronous routes: enough that a burst of reads never queues behind
#: a slow posting.
THREADS = 100


def portal_database_url(settings: Settings) -> str:
    import os

    url = os.environ.get("CAREPOOL_PORTAL_DATABASE_URL", "").strip()
    return url or f"sqlite:///{(settings.data_dir / 'portal.sqlite').resolve()}"


def create_app(
    settings: Settings, governance: Governance | None = None, *, portal: bool = True
) -> FastAPI:
    governance = governance or Governance.connect(portal_database_url(settings))
    data = PublicData(public_dir(settings.data_dir))
    access = LedgerAccess(
        settings,
        on_publish=lambda: data.reload("fund"),
        published_fund=data.meta("fund").get("fund"),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
        yield
        access.close()

    app = FastAPI(
        title="carepool",
        summary="The pooled health and social care fund: follow the money, outcomes and "
        "decisions; comment on proposals.",
        version="1",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.governance = governance
    app.state.data = data
    app.state.ledger_access = access
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)
    errors.install(app)
    app.include_router(public.router)
    app.include_router(consultations.router)
    app.include_router(fund.router)
    if portal:
        from carepool.web import install

        install(app)

    @app.get("/api/me", tags=["account"], summary="Who the API thinks you are")
    def me(
        principal: Annotated[Principal, Depends(allowed(Action.READ_OWN_ACCOUNT))],
    ) -> dict[str, Any]:
        return {
            "name": principal.name,
            "roles": sorted(principal.roles),
            "partner": principal.partner,
            "via": principal.via,
        }

    @app.get("/api/audit", tags=["account"], summary="The audit log (auditors, admins)")
    def audit(
        principal: Annotated[Principal, Depends(allowed(Action.READ_AUDIT_LOG))],
        gov: Annotated[Governance, Depends(governance_of)],
    ) -> dict[str, Any]:
        rows = gov.audit_log(principal).to_dict("records")
        return {"collection": "audit", "count": len(rows), "rows": rows}

    return app
