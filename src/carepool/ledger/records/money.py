"""Money in the ledger: integer pence, always.

Amounts typed by people (``1234.56``, ``£1,234.56``, ``12345600p``) are read exactly with
:class:`decimal.Decimal`; a fraction of a penny is an error, never rounded away.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from carepool.errors import LedgerError

#: The largest amount one posting may carry: £10 trillion, far above any fund, far below 2**63.
MAX_PENCE = 10**15


def check_pence(value: object, field: str = "amount", *, allow_zero: bool = False) -> int:
    """``value`` as a positive whole number of pence, or a :class:`LedgerError` naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise LedgerError(f"{field}: expected a whole number of pence, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise LedgerError(
            f"{field}: expected a {'non-negative' if allow_zero else 'positive'} amount of "
            f"pence, got {value}"
        )
    if value > MAX_PENCE:
        raise LedgerError(f"{field}: {value} pence is larger than the ledger accepts")
    return value


def parse_amount(text: str, field: str = "amount", *, allow_zero: bool = False) -> int:
    """Pounds (``1234.56``, ``£1,234.56``) or pence (``123456p``) as positive integer pence
    (or zero, where ``allow_zero``: a forecast outturn may be nothing)."""
    raw = text.strip().replace(",", "").replace("£", "").replace("_", "")
    try:
        pence = Decimal(raw[:-1]) if raw.endswith("p") else Decimal(raw) * 100
    except InvalidOperation:
        raise LedgerError(
            f"{field}: {text!r} is not an amount; write pounds (1234.56) or pence (123456p)"
        ) from None
    if not pence.is_finite():
        raise LedgerError(f"{field}: {text!r} is not an amount")
    if pence != pence.to_integral_value():
        raise LedgerError(f"{field}: {text!r} has a fraction of a penny")
    return check_pence(int(pence), field, allow_zero=allow_zero)


def pounds(pence: int) -> str:
    """Pence shown as pounds and pence, ``-£1,234.56``."""
    sign = "-" if pence < 0 else ""
    whole, part = divmod(abs(pence), 100)
    return f"{sign}£{whole:,}.{part:02d}"


def split_pence(total: int, weights: Mapping[str, int | float]) -> dict[str, int]:
    """``total`` pence split in proportion to ``weights``, parts summing exactly to ``total``.

    Largest remainder (Hamilton) rounding with ties broken by key, so the split is
    reproducible; negative totals split as the negation of the positive split.
    """
    if total < 0:
        return {key: -value for key, value in split_pence(-total, weights).items()}
    positive = {key: Decimal(str(w)) for key, w in weights.items() if w > 0}
    if not positive:
        raise LedgerError("cannot split an amount: no partner has a positive share")
    scale = sum(positive.values())
    exact = {key: Decimal(total) * w / scale for key, w in positive.items()}
    floors = {key: int(value) for key, value in exact.items()}
    left = total - sum(floors.values())
    order = sorted(positive, key=lambda key: (-(exact[key] - floors[key]), key))
    for key in order[:left]:
        floors[key] += 1
    return {key: floors.get(key, 0) for key in weights}
