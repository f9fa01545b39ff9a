"""The audit log: every write through the portal or the API, who made it, and what came of it.

Append-only (the database refuses ``UPDATE`` and ``DELETE``). Secrets and passwords are
never written to it; a comment's text is not either (the comment itself holds it).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection

from carepool.governance.clock import Clock, stamp
from carepool.governance.store.schema import audit_log

#: The most rows one read of the log returns.
MAX_ROWS = 1000


def record(
    connection: Connection,
    *,
    principal: str,
    action: str,
    target: str,
    outcome: str,
    client: str,
    clock: Clock,
    detail: dict[str, Any] | None = None,
) -> None:
    connection.execute(
        audit_log.insert().values(
            at=stamp(clock()),
            principal=principal[:64],
            action=action[:64],
            target=target[:500],
            outcome=outcome[:16],
            detail=json.dumps(detail or {}, sort_keys=True, default=str),
            client=client[:64],
        )
    )


def count(connection: Connection, *, action: str, client: str, since: datetime) -> int:
    """How many ``action`` records came from ``client`` since ``since``."""
    return int(
        connection.execute(
            sa.select(sa.func.count())
            .select_from(audit_log)
            .where(
                audit_log.c.action == action,
                audit_log.c.client == client[:64],
                audit_log.c.at > stamp(since),
            )
        ).scalar_one()
    )


def read(connection: Connection, *, limit: int = 200, principal: str | None = None) -> pd.DataFrame:
    query = sa.select(audit_log).order_by(audit_log.c.seq.desc()).limit(min(limit, MAX_ROWS))
    if principal is not None:
        query = query.where(audit_log.c.principal == principal)
    rows = [dict(r._mapping) for r in connection.execute(query)]
    columns = [c.name for c in audit_log.columns]
    return pd.DataFrame(rows, columns=columns)
