"""The governance application layer: accounts, sign-in, sessions, tokens, consultations and
the audit log, each write one transaction with its audit record.

Every shell (``carepool users``, the API, the portal) calls these; none touches the tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine

from carepool.errors import CarepoolError, RateLimited
from carepool.governance import accounts, audit, consultations, sessions
from carepool.governance.accounts import Account
from carepool.governance.clock import Clock, utc_now
from carepool.governance.consultations import Consultation
from carepool.governance.roles import Action, Principal, Role, authorise
from carepool.governance.store.database import open_engine, require_current

#: Accounts one address may make in an hour (a resident makes one; a script makes many).
REGISTRATIONS_PER_HOUR = 5
HOUR = timedelta(hours=1)
#: Who acts from the command line: the operating-system user who runs it, as for the ledger.
COMMAND_LINE = "command-line"


class Governance:
    """The portal's records in one database."""

    def __init__(self, engine: Engine, clock: Clock = utc_now) -> None:
        self.engine = engine
        self.clock = clock

    @classmethod
    def connect(cls, url: str, clock: Clock = utc_now) -> Governance:
        engine = open_engine(url)
        try:
            require_current(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, clock)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Governance:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            yield connection

    def _audited(
        self,
        principal: str,
        action: str,
        target: str,
        client: str,
        detail: dict[str, Any] | None = None,
        outcome: str = "done",
    ) -> None:
        with self._write() as connection:
            audit.record(
                connection,
                principal=principal,
                action=action,
                target=target,
                outcome=outcome,
                client=client,
                clock=self.clock,
                detail=detail,
            )

    def record(
        self,
        principal: Principal,
        action: str,
        target: str,
        *,
        client: str,
        outcome: str = "done",
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Record a write made elsewhere (a ledger posting through the portal, say)."""
        self._audited(principal.name, action, target, client, detail, outcome)

    # -- accounts ---------------------------------------------------------------------------

    def register_resident(self, name: str, password: str, *, client: str) -> sessions.Session:
        """A resident makes their own account (the resident role only; nothing else about
        them is asked or kept) and is signed in. At most :data:`REGISTRATIONS_PER_HOUR`
        accounts an hour from one address."""
        with self._write() as connection:
            made = audit.count(
                connection, action="account.register", client=client, since=self.clock() - HOUR
            )
            if made >= REGISTRATIONS_PER_HOUR:
                raise RateLimited(
                    "too many accounts have been made from here in the last hour; try later",
                    retry_after=3600,
                )
            account = accounts.add(
                connection,
                name,
                password,
                frozenset({Role.RESIDENT}),
                display_name=name,
                partner=None,
                clock=self.clock,
            )
            session = sessions.start_session(connection, account, self.clock)
            audit.record(
                connection,
                principal=name,
                action="account.register",
                target=name,
                outcome="done",
                client=client,
                clock=self.clock,
            )
        return session

    def add_account(
        self,
        name: str,
        password: str,
        roles: frozenset[Role],
        *,
        display_name: str = "",
        partner: str | None = None,
        by: str = COMMAND_LINE,
    ) -> Account:
        with self._write() as connection:
            account = accounts.add(
                connection,
                name,
                password,
                roles,
                display_name=display_name,
                partner=partner,
                clock=self.clock,
            )
            audit.record(
                connection,
                principal=by,
                action="account.add",
                target=name,
                outcome="done",
                client="local",
                clock=self.clock,
                detail={"roles": sorted(roles), "partner": partner},
            )
        return account

    def set_roles(self, name: str, roles: frozenset[Role], *, by: str = COMMAND_LINE) -> Account:
        with self._write() as connection:
            account = accounts.set_roles(connection, name, roles)
            audit.record(
                connection,
                principal=by,
                action="account.roles",
                target=name,
                outcome="done",
                client="local",
                clock=self.clock,
                detail={"roles": sorted(roles)},
            )
        return account

    def disable_account(self, name: str, *, by: str = COMMAND_LINE) -> Account:
        with self._write() as connection:
            account = accounts.disable(connection, name, self.clock)
            sessions.revoke_all(connection, name, self.clock)
            audit.record(
                connection,
                principal=by,
                action="account.disable",
                target=name,
                outcome="done",
                client="local",
                clock=self.clock,
            )
        return account

    def accounts(self) -> list[Account]:
        with self.engine.connect() as connection:
            return accounts.all_accounts(connection)

    def account(self, name: str) -> Account | None:
        with self.engine.connect() as connection:
            return accounts.find(connection, name)

    # -- sign-in, sessions, tokens ----------------------------------------------------------

    def sign_in(self, name: str, password: str, *, client: str) -> sessions.Session:
        try:
            with self._write() as connection:
                account = accounts.authenticate(
                    connection, name, password, client=client, clock=self.clock
                )
                session = sessions.start_session(connection, account, self.clock)
                audit.record(
                    connection,
                    principal=account.name,
                    action="session.start",
                    target=account.name,
                    outcome="done",
                    client=client,
                    clock=self.clock,
                )
            return session
        except CarepoolError as exc:
            # the failed attempt itself must be counted, whatever the refusal rolled back
            self._failed_attempt(name, client, exc)
            raise

    def _failed_attempt(self, name: str, client: str, exc: CarepoolError) -> None:
        from carepool.governance.clock import stamp
        from carepool.governance.store.schema import attempts

        with self._write() as connection:
            connection.execute(
                attempts.insert().values(
                    name=name[:64], client=client[:64], at=stamp(self.clock()), ok=False
                )
            )
            audit.record(
                connection,
                principal=name[:64] if accounts.NAME_PATTERN.fullmatch(name) else "unknown",
                action="session.start",
                target=name[:64],
                outcome="refused",
                client=client,
                clock=self.clock,
                detail={"reason": type(exc).__name__},
            )

    def resume(self, secret: str) -> sessions.Session:
        with self._write() as connection:
            return sessions.resume_session(connection, secret, self.clock)

    def sign_out(self, session: sessions.Session, *, client: str) -> None:
        with self._write() as connection:
            sessions.end_session(connection, session.secret, self.clock)
            audit.record(
                connection,
                principal=session.principal.name,
                action="session.end",
                target=session.principal.name,
                outcome="done",
                client=client,
                clock=self.clock,
            )

    def token_principal(self, presented: str) -> Principal:
        with self.engine.connect() as connection:
            return sessions.resolve_token(connection, presented, self.clock)

    def issue_token(
        self,
        name: str,
        *,
        label: str = "",
        days: int = sessions.TOKEN_DAYS_DEFAULT,
        by: str = COMMAND_LINE,
    ) -> sessions.IssuedToken:
        with self._write() as connection:
            token = sessions.issue_token(connection, name, label, days, self.clock)
            audit.record(
                connection,
                principal=by,
                action="token.issue",
                target=f"{name}/{token.id}",
                outcome="done",
                client="local",
                clock=self.clock,
                detail={"label": label, "expires_at": token.expires_at},
            )
        return token

    def revoke_token(self, token_id: str, *, by: str = COMMAND_LINE) -> str:
        with self._write() as connection:
            name = sessions.revoke_token(connection, token_id, self.clock)
            audit.record(
                connection,
                principal=by,
                action="token.revoke",
                target=f"{name}/{token_id}",
                outcome="done",
                client="local",
                clock=self.clock,
            )
        return name

    def tokens(self, name: str | None = None) -> list[dict[str, str]]:
        with self.engine.connect() as connection:
            return sessions.list_tokens(connection, name)

    # -- consultations ------------------------------------------------------------------------

    def open_consultation(
        self,
        principal: Principal,
        *,
        consultation_id: str,
        title: str,
        summary: str,
        proposal: str,
        opens_on: date,
        closes_on: date,
        client: str = "local",
    ) -> Consultation:
        authorise(principal, Action.OPEN_CONSULTATION)
        with self._write() as connection:
            found = consultations.open_consultation(
                connection,
                consultation_id=consultation_id,
                title=title,
                summary=summary,
                proposal=proposal,
                opens_on=opens_on,
                closes_on=closes_on,
                by=principal.name,
                clock=self.clock,
            )
            audit.record(
                connection,
                principal=principal.name,
                action="consultation.open",
                target=consultation_id,
                outcome="done",
                client=client,
                clock=self.clock,
            )
        return found

    def consultations(self) -> list[Consultation]:
        with self.engine.connect() as connection:
            return consultations.all_consultations(connection)

    def consultation(self, consultation_id: str) -> Consultation:
        with self.engine.connect() as connection:
            return consultations.require(connection, consultation_id)

    def comment_counts(self) -> dict[str, int]:
        with self.engine.connect() as connection:
            return consultations.comment_counts(connection)

    def published_comments(self, consultation_id: str) -> pd.DataFrame:
        with self.engine.connect() as connection:
            return consultations.published_comments(connection, consultation_id)

    def leave_comment(
        self, principal: Principal, consultation_id: str, body: str, *, client: str
    ) -> int:
        authorise(principal, Action.COMMENT)
        with self._write() as connection:
            comment_id = consultations.leave_comment(
                connection, consultation_id, principal.name, body, self.clock
            )
            audit.record(
                connection,
                principal=principal.name,
                action="comment.leave",
                target=f"{consultation_id}/{comment_id}",
                outcome="done",
                client=client,
                clock=self.clock,
            )
        return comment_id

    def pending_comments(self, principal: Principal) -> pd.DataFrame:
        authorise(principal, Action.READ_PENDING_COMMENTS)
        with self.engine.connect() as connection:
            return consultations.pending_comments(connection)

    def moderate(
        self, principal: Principal, comment_id: int, decision: str, reason: str, *, client: str
    ) -> str:
        authorise(principal, Action.MODERATE)
        with self._write() as connection:
            consultation_id = consultations.moderate(
                connection, comment_id, decision, reason, principal.name, self.clock
            )
            audit.record(
                connection,
                principal=principal.name,
                action=f"comment.{decision}",
                target=f"{consultation_id}/{comment_id}",
                outcome="done",
                client=client,
                clock=self.clock,
                detail={"reason": reason[:500]},
            )
        return consultation_id

    # -- the audit log ------------------------------------------------------------------------

    def audit_log(self, principal: Principal, *, limit: int = 200) -> pd.DataFrame:
        authorise(principal, Action.READ_AUDIT_LOG)
        with self.engine.connect() as connection:
            return audit.read(connection, limit=limit)
