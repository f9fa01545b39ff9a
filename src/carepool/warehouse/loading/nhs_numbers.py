"""NHS numbers and the pseudonyms a partner may send in their place.

An NHS number is 10 digits whose last is the modulus-11 check digit of the first nine
(weights 10 down to 2; ``11 - sum % 11``, where 11 means 0 and 10 means no valid number).
A pseudonym is ``P:`` and 16 to 64 lowercase hexadecimal characters.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from carepool.warehouse.loading.parsing import combine

#: Ten ASCII digits, no spaces.
NHS_NUMBER_SHAPE: Final = r"^[0-9]{10}$"
#: A pseudonymised id, accepted in place of an NHS number where the schema allows it.
PSEUDONYM: Final = r"^P:[0-9a-f]{16,64}$"


def nhs_number_check_digit(first_nine: str) -> int | None:
    """The modulus-11 check digit for nine digits, or None when no valid number has them.

    The plain reference for :func:`valid_nhs_numbers` (NHS Data Dictionary, "NHS Number").
    """
    weights = range(10, 1, -1)
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, weights, strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def valid_nhs_numbers(numbers: Any) -> npt.NDArray[np.bool_]:
    """Which of ``numbers`` (an Arrow array of 10-digit strings) have a valid check digit.

    Vectorised over the strings' bytes: the array's data buffer, ten ASCII digits per value,
    is viewed as an ``n x 10`` matrix of digits.
    """
    array = combine(numbers).cast(pa.string())
    if len(array) == 0:
        return np.zeros(0, dtype=bool)
    if array.null_count:
        raise ValueError("NHS numbers to check must not be null")
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)[
        array.offset : array.offset + len(array) + 1
    ]
    if not np.all(np.diff(offsets) == 10):
        raise ValueError("NHS numbers to check must be 10 characters each")
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    digits = data.reshape(-1, 10).astype(np.int64) - ord("0")
    if digits.min() < 0 or digits.max() > 9:
        raise ValueError("NHS numbers to check must be digits")
    check = 11 - (digits[:, :9] * np.arange(10, 1, -1)).sum(axis=1) % 11
    check = np.where(check == 11, 0, check)
    return np.asarray((check != 10) & (check == digits[:, 9]), dtype=bool)
