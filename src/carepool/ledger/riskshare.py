"""Year-end settlement: sharing the fund's over- or underspend between partners.

The variance is what is left when the year closes: unallocated money plus each line's
budget not spent or committed (negative for an overspend). The fund's agreement says who
bears it — see ``RiskShare`` and docs/methods/ledger.md. Every split is in whole pence and
sums exactly to the variance (largest remainder).
"""

from __future__ import annotations

from carepool.ledger.records.money import split_pence
from carepool.ledger.records.spec import RiskShare


def settlement_shares(
    rule: RiskShare,
    *,
    variance: int,
    own: dict[str, int],
    contributions: dict[str, int],
    host: str,
) -> dict[str, int]:
    """Each partner's share of ``variance`` (positive: money back; negative: money to pay).

    ``own``: the variance on each partner's own lines; ``contributions``: what each partner
    put in, net.
    """
    if rule.rule == "own":
        # before the zero shortcut: lines can net to nothing while partners' own lines do not
        shares = {partner: amount for partner, amount in own.items() if amount}
        rest = variance - sum(shares.values())
        if rest:
            for partner, amount in split_pence(rest, contributions).items():
                shares[partner] = shares.get(partner, 0) + amount
        return _nonzero(shares)
    if variance == 0:
        return {}
    if rule.rule == "host":
        return {host: variance}
    if rule.rule == "fixed":
        assert rule.shares is not None
        return _nonzero(split_pence(variance, dict(rule.shares)))
    if rule.rule == "capped" and variance < 0:
        assert rule.cap_pence is not None
        shared = max(variance, -rule.cap_pence)
        shares = split_pence(shared, contributions) if shared else {}
        excess = variance - shared
        if excess:
            payer = rule.excess_to or host
            shares[payer] = shares.get(payer, 0) + excess
        return _nonzero(shares)
    return _nonzero(split_pence(variance, contributions))


def _nonzero(shares: dict[str, int]) -> dict[str, int]:
    return {partner: amount for partner, amount in sorted(shares.items()) if amount}
