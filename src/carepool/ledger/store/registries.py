"""A fund's registries: written once when the fund is opened, read back as its context.

Partners and users are shared between funds: a fund's opening inserts the ones the ledger
has not seen and checks that the others match, since registries are never changed. The
fund's own row holds its specification as canonical JSON, the same text its opening journal
entry records, so :func:`load_context` reads back exactly what the hash chain covers.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Column, Connection, Table, select

from carepool.errors import LedgerError
from carepool.ledger.records.chain import canonical
from carepool.ledger.records.fund import FundContext
from carepool.ledger.records.spec import FundSpec, parse_spec
from carepool.ledger.store.schema import funds, lines, partners, rules, users


def load_context(connection: Connection, fund_id: str) -> FundContext:
    """The fund's context from its stored specification, or an error naming the funds."""
    text = connection.execute(select(funds.c.spec).where(funds.c.id == fund_id)).scalar()
    if text is None:
        known = connection.execute(select(funds.c.id).order_by(funds.c.id)).scalars().all()
        raise LedgerError(
            f"no fund {fund_id!r} in the ledger"
            + (
                f" (funds: {', '.join(known)})"
                if known
                else "; open one with `carepool ledger init`"
            )
        )
    return FundContext(parse_spec(json.loads(text), f"fund {fund_id}"))


def write_registries(connection: Connection, spec: FundSpec, spec_json: dict[str, Any]) -> None:
    """Insert the fund's partners and users (new ones; known ones must match) and its lines."""
    for partner in spec.partners:
        row: dict[str, str | None] = {"id": partner.id, "name": partner.name, "kind": partner.kind}
        _insert_or_match(connection, partners, partners.c.id, partner.id, row, "partner")
    for user in spec.users:
        row = {"name": user.name, "partner_id": user.partner, "roles": ",".join(sorted(user.roles))}
        _insert_or_match(connection, users, users.c.name, user.name, row, "user")
    connection.execute(
        funds.insert(),
        {
            "id": spec.fund.id,
            "name": spec.fund.name,
            "host_partner_id": spec.fund.host,
            "kind": spec.fund.kind,
            "year": spec.fund.year,
            "spec": canonical(spec_json),
        },
    )
    if spec.lines:
        connection.execute(
            lines.insert(),
            [
                {
                    "fund_id": spec.fund.id,
                    "id": line.id,
                    "service": line.service,
                    "place": line.place,
                    "partner_id": line.partner,
                }
                for line in spec.lines
            ],
        )
    if spec.rules:
        connection.execute(
            rules.insert(),
            [
                {
                    "fund_id": spec.fund.id,
                    "name": rule.name,
                    "position": i,
                    "kind": rule.kind,
                    "spec": canonical(rule.model_dump(mode="json")),
                }
                for i, rule in enumerate(spec.rules)
            ],
        )


def _insert_or_match(
    connection: Connection,
    table: Table,
    key: Column[Any],
    value: str,
    row: dict[str, str | None],
    what: str,
) -> None:
    existing = connection.execute(select(table).where(key == value)).first()
    if existing is None:
        connection.execute(table.insert(), row)
    elif dict(existing._mapping) != row:
        raise LedgerError(
            f"{what} {value!r} is already in the ledger with other details "
            f"({json.dumps(dict(existing._mapping))}); registries are never changed"
        )
