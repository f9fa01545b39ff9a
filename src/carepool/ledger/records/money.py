"""Money in the ledger: integer pence, always.

Amounts typed by people (``1234.56``, ``£1,234.56``, ``12345600p``) are read exactly, in
one strict format; a fraction of a penny is an error, never rounded away.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

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


#: One strict shape for an amount a person types: an optional minus and pound sign, whole
#: units in ASCII digits (thousands separated by commas in their proper places, or not at
#: all), then either a decimal point and its digits (pounds) or ``p`` (pence).
_AMOUNT = re.compile(
    r"(?P<minus>-)?£?(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)"
    r"(?:\.(?P<fraction>[0-9]+))?(?P<pence>p)?",
    re.ASCII,
)
#: Longer text is no amount the ledger could hold (and long digit strings are slow to read).
_MAX_AMOUNT_TEXT = 40


def parse_amount(text: str, field: str = "amount", *, allow_zero: bool = False) -> int:
    """Pounds (``1234.56``, ``£1,234.56``) or pence (``123456p``) as positive integer pence
    (or zero, where ``allow_zero``: a forecast outturn may be nothing).

    One strict format, so that nothing is read as other than it was meant: ``1,5`` (a decimal
    comma) and ``1,50,000`` (misplaced separators) are refused, not read as £15 and £150,000;
    so are non-ASCII digits, exponents, underscores and a bare ``.5``. Pounds take at most
    two decimal places; pence take none.
    """
    raw = text.strip()
    match = _AMOUNT.fullmatch(raw) if len(raw) <= _MAX_AMOUNT_TEXT else None
    if match is None:
        raise LedgerError(
            f"{field}: {text!r} is not an amount; write pounds (1234.56 or 1,234.56) or "
            "pence (123456p)"
        )
    whole = int(match["whole"].replace(",", ""))
    fraction = match["fraction"]
    if fraction is not None and (match["pence"] or len(fraction) > 2):
        raise LedgerError(
            f"{field}: {text!r} has a fraction of a penny (pounds take at most two decimal "
            "places, pence none)"
        )
    pence = whole if match["pence"] else whole * 100 + int((fraction or "0").ljust(2, "0"))
    return check_pence(-pence if match["minus"] else pence, field, allow_zero=allow_zero)


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
