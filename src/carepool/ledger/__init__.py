"""The pooled fund's ledger: double entry in pence, ring-fences, approvals, a hash-chained journal.

Its layers: ``records`` (a fund's specification, entries, money, the hash chain: values that
check themselves), ``rules`` (ring-fence plugins), ``store`` (tables, migrations, the write
transaction) and, over them, the API: typed ``requests``, their ``operations``, ``reports``,
``riskshare`` and the :class:`Ledger` itself. The ledger imports nothing of the project's
analytics. See docs/ledger.md for the user guide and docs/methods/ledger.md for the
accounting.
"""

from carepool.ledger.ledger import Ledger, migrate
from carepool.ledger.records.chain import ChainCheck, canonical, sha256
from carepool.ledger.records.checkpoint import (
    Checkpoint,
    check_signature,
    read_checkpoint,
    read_private_key,
    read_public_key,
    write_checkpoint,
    write_keys,
)
from carepool.ledger.records.entries import Entry, Posting, Receipt
from carepool.ledger.records.money import parse_amount, pounds, split_pence
from carepool.ledger.records.published import PublishedCheck, check_published
from carepool.ledger.records.spec import FundSpec, GainShare, RiskShare, load_spec, parse_spec
from carepool.ledger.reports import MONEY_COLUMNS, Position, forecast_variance
from carepool.ledger.requests import (
    REQUESTS,
    Allocate,
    Approve,
    ChangeUser,
    ClosePeriod,
    Commit,
    Contribute,
    Forecast,
    LedgerRequest,
    Operation,
    Reverse,
    Settle,
    Spend,
    Virement,
    parse_fields,
    read_allocations,
)

__all__ = [
    "MONEY_COLUMNS",
    "REQUESTS",
    "Allocate",
    "Approve",
    "ChainCheck",
    "ChangeUser",
    "Checkpoint",
    "ClosePeriod",
    "Commit",
    "Contribute",
    "Entry",
    "Forecast",
    "FundSpec",
    "GainShare",
    "Ledger",
    "LedgerRequest",
    "Operation",
    "Position",
    "Posting",
    "PublishedCheck",
    "Receipt",
    "Reverse",
    "RiskShare",
    "Settle",
    "Spend",
    "Virement",
    "canonical",
    "check_published",
    "check_signature",
    "forecast_variance",
    "load_spec",
    "migrate",
    "parse_amount",
    "parse_fields",
    "parse_spec",
    "pounds",
    "read_allocations",
    "read_checkpoint",
    "read_private_key",
    "read_public_key",
    "sha256",
    "split_pence",
    "write_checkpoint",
    "write_keys",
]
