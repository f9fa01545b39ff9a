"""The pooled fund's ledger: double entry in pence, ring-fences, approvals, a hash-chained journal.

See docs/ledger.md for the user guide and docs/methods/ledger.md for the accounting.
"""

from carepool.ledger.chain import ChainCheck
from carepool.ledger.entries import Entry, Posting, Receipt
from carepool.ledger.ledger import Ledger, Request
from carepool.ledger.reports import Position
from carepool.ledger.spec import FundSpec, load_spec, parse_spec

__all__ = [
    "ChainCheck",
    "Entry",
    "FundSpec",
    "Ledger",
    "Position",
    "Posting",
    "Receipt",
    "Request",
    "load_spec",
    "parse_spec",
]
