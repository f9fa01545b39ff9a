"""Ring-fence rules: small plugins with one contract, checked on every posting.

Each rule kind is a module with ``check(rule, change, state) -> list[Breach]``, registered
below in the order they run. ``change`` describes what a request would do; ``state`` answers
questions about the fund as it stands (inside the writer's transaction, so the answer cannot
go stale before the posting is written). A breach whose action is ``refuse`` refuses the
request; one whose action is ``hold`` sends it to the board for approval. Adding a rule kind
never touches the posting code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from carepool.ledger.rules import floor, virement
from carepool.ledger.rules.types import Breach, Change, FundState

__all__ = ["CHECKS", "Breach", "Change", "FundState", "check_all"]

Check = Callable[[Any, Change, FundState], list[Breach]]

#: Rule kind -> its check, in the order rules of that kind are reported.
CHECKS: Mapping[str, Check] = {"floor": floor.check, "virement": virement.check}


def check_all(rules: tuple[Any, ...], change: Change, state: FundState) -> list[Breach]:
    """Every breach of every rule, in the fund's order of rules."""
    breaches: list[Breach] = []
    for rule in rules:
        breaches.extend(CHECKS[rule.kind](rule, change, state))
    return breaches
