"""The ledger as the signed-in person: the principal of every posting the portal makes.

On PostgreSQL each person is a database role, and the portal's login (a member of each
person's role, granted by the database's administrator) connects as that role
(``-c role=NAME``): the database's own triggers then check each entry's actor against
``current_user``, exactly as when the person logs in themselves. On SQLite, the single-user
local mode, the operating-system user who runs the portal is the principal and the ledger
takes the signed-in person's name from the session; never from the request.

A client's request id is kept within its sender's own namespace (``portal:<name>:<id>``), so
one person's retry can never be answered with another's receipt.
"""

from __future__ import annotations

import threading
from typing import Any

from carepool.config import Settings
from carepool.errors import ConfigError
from carepool.governance import Principal
from carepool.ledger import Ledger, Operation, Receipt
from carepool.publication import choose_public_fund, publish_fund

#: How many people's PostgreSQL connections the portal keeps open at once.
MAX_PEOPLE = 64


class LedgerAccess:
    def __init__(
        self, settings: Settings, on_publish: Any = None, published_fund: str | None = None
    ) -> None:
        self.settings = settings
        self.postgres = settings.database_url.startswith("postgres")
        self._lock = threading.Lock()
        self._shared: Ledger | None = None
        self._people: dict[str, Ledger] = {}
        #: the fund the portal shows: the one published, else the ledger's newest
        self._fund: str | None = published_fund
        self.on_publish = on_publish

    def _reader(self) -> Ledger:
        with self._lock:
            if self._shared is None:
                self._shared = Ledger.connect(self.settings.database_url, create=False)
            return self._shared

    def ledger_for(self, principal: Principal) -> Ledger:
        if not principal.signed_in:
            raise ConfigError("the public does not post to the ledger")
        if not self.postgres:
            return self._reader()
        with self._lock:
            found = self._people.get(principal.name)
            if found is None:
                if len(self._people) >= MAX_PEOPLE:
                    _, oldest = self._people.popitem()
                    oldest.close()
                found = Ledger.connect(
                    self.settings.database_url, create=False, role=principal.name
                )
                self._people[principal.name] = found
            return found

    def fund(self) -> str:
        if self._fund is None:
            self._fund = choose_public_fund(self._reader(), None)
        return self._fund

    def post(self, principal: Principal, operation: Operation, request_id: str) -> Receipt:
        ledger = self.ledger_for(principal)
        return ledger.post(
            self.fund(),
            operation,
            actor=principal.name,
            request_id=f"portal:{principal.name}:{request_id}",
        )

    def pending(self) -> list[dict[str, Any]]:
        """Requests held for the board, as the decisions register shows them."""
        from carepool.publication import PUBLIC_USER

        frame = self._reader().decisions(self.fund(), actor=PUBLIC_USER)
        held = frame[frame["status"] == "pending"]
        return [
            {str(k): (None if v != v else v) for k, v in r.items()}  # NaN as None
            for r in held.astype(object).to_dict("records")
        ]

    def republish(self) -> None:
        publish_fund(self.settings, self._reader(), self.fund())
        if self.on_publish is not None:
            self.on_publish()

    def close(self) -> None:
        with self._lock:
            for ledger in self._people.values():
                ledger.close()
            self._people.clear()
            if self._shared is not None:
                self._shared.close()
                self._shared = None
