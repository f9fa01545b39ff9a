"""What may be asked of the ledger: one typed request per operation, checked when built.

Each operation's fields are declared once, here, as a frozen dataclass that refuses a bad
field as it is built (a :class:`~carepool.errors.LedgerError` naming the field). The Python
API posts them (``ledger.post(fund, Spend(line="asc", amount_pence=500), actor=...,
request_id=...)``), the command line builds them from its options, and fields that arrive
as data (JSON from a client) are read into one by :func:`parse_fields`. The checks here need
nothing but the request; what needs the fund (does the line exist, is the period open, may
this user post there) is checked by the operation's builder under the fund's lock.

What travels and is remembered is a :class:`LedgerRequest`: the operation's name, who asks,
the client's request id and the fields. Its digest — sha256 of the canonical JSON of the
operation, the actor and the fields — tells a retry (the same digest under the same id: the
first receipt comes back) from a clash (another digest: refused), and is chained into the
journal with the entry. So the fields are digested as they were sent: a typed request sends
every one of its fields, defaults included (``"period": null``, ``"description": ""``); a
request built from raw fields sends exactly those it was given.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self

from carepool.errors import ConfigError, LedgerError, LoadProblem, LoadRejected
from carepool.ledger.records.chain import canonical, sha256
from carepool.ledger.records.money import check_pence, parse_amount

#: The longest client request id (the journal's column holds a little more, for ``#2`` ...).
MAX_REQUEST_ID = 120
#: The longest text a request may carry (a description, a reason, a name): a published
#: paragraph, not a document.
MAX_TEXT = 2_000
#: The largest entry number (the journal's ``seq`` is a 64-bit integer).
MAX_SEQ = 2**63 - 1


def request_digest(operation: str, actor: str, fields: Mapping[str, Any]) -> str:
    """What identifies a request's content, for telling a retry from a clash."""
    return sha256(canonical({"operation": operation, "actor": actor, "fields": dict(fields)}))


# -- checks of single fields -----------------------------------------------------------------


def _text(value: object, name: str) -> str:
    """Text of at most :data:`MAX_TEXT` characters, valid Unicode (no stray bytes smuggled
    in as surrogates) and with no NUL (which PostgreSQL cannot store); None is no text."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise LedgerError(f"{name}: expected text, got {value!r}")
    if "\x00" in value:
        raise LedgerError(f"{name}: text may not contain a NUL character")
    if len(value) > MAX_TEXT:
        raise LedgerError(f"{name}: at most {MAX_TEXT:,} characters, got {len(value):,}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise LedgerError(f"{name}: not valid text (it holds bytes that are not UTF-8)") from None
    return value


def _reason(value: object, why: str) -> str:
    """A reason that is published, so it must say something."""
    reason = _text(value, "reason")
    if not reason.strip():
        raise LedgerError(f"reason: {why}")
    return reason


def _period(value: object) -> str | None:
    """A month ``YYYY-MM`` (which months are the fund's is the builder's question), or None."""
    if value is not None and not isinstance(value, str):
        raise LedgerError(f"period: expected a month YYYY-MM, got {value!r}")
    return value


def _entry_number(value: object, name: str) -> int:
    """An entry number (``seq``): a positive whole number in range."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SEQ:
        raise LedgerError(f"{name}: expected an entry number, got {value!r}")
    return value


def _plain(value: Any) -> Any:
    """Tuples as lists, as JSON has them."""
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


# -- the typed requests ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Operation:
    """The fields of one request to the ledger; each kind names its ``operation``."""

    operation: ClassVar[str]

    def fields(self) -> dict[str, Any]:
        """Every field, as JSON-ready values: what is sent and digested."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> Self:
        """The request from fields sent as data: an unknown field is refused, a missing one
        is its default (or None, which its check refuses)."""
        declared = dataclasses.fields(cls)
        names = [f.name for f in declared]
        unknown = sorted(str(name) for name in set(fields) - set(names))
        if unknown:
            raise LedgerError(
                f"{unknown[0]}: not a field of a {cls.operation} request "
                f"(its fields: {', '.join(names)})"
            )
        required = {
            f.name: None
            for f in declared
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
        return cls(**(required | dict(fields)))

    def _set(self, name: str, value: Any) -> None:
        """Keep the checked form of a field (its type made exact) on a frozen request."""
        object.__setattr__(self, name, value)

    def _check_money_into(self, where: str) -> None:
        """The fields every simple posting shares: the partner or line named by ``where``,
        ``amount_pence``, ``period`` and ``description`` (in that order, so the first bad one
        is the one named)."""
        given = vars(self)
        self._set(where, _text(given[where], where))
        check_pence(given["amount_pence"], "amount_pence")
        _period(given["period"])
        self._set("description", _text(given["description"], "description"))


@dataclass(frozen=True, kw_only=True)
class Contribute(Operation):
    """A partner puts money into the fund."""

    operation: ClassVar[str] = "contribute"
    partner: str
    amount_pence: int
    period: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        self._check_money_into("partner")


@dataclass(frozen=True, kw_only=True)
class Allocate(Operation):
    """Unallocated money goes to budget lines, as one entry: ``(line, amount_pence)`` pairs."""

    operation: ClassVar[str] = "allocate"
    allocations: Sequence[tuple[str, int]]
    period: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        items: object = self.allocations
        if not isinstance(items, list | tuple) or not items:
            raise LedgerError("allocations: expected a list of [line, amount_pence] pairs")
        pairs = []
        for i, item in enumerate(items):
            if not isinstance(item, list | tuple) or len(item) != 2:
                raise LedgerError(f"allocations[{i}]: expected [line, amount_pence], got {item!r}")
            line = _text(item[0], f"allocations[{i}].line")
            pairs.append((line, check_pence(item[1], f"allocations[{i}].amount_pence")))
        self._set("allocations", tuple(pairs))
        _period(self.period)
        self._set("description", _text(self.description, "description"))


@dataclass(frozen=True, kw_only=True)
class Spend(Operation):
    """Actual spend on a line; ``commitment`` names the commitment entry it settles."""

    operation: ClassVar[str] = "spend"
    line: str
    amount_pence: int
    period: str | None = None
    description: str = ""
    commitment: int | None = None

    def __post_init__(self) -> None:
        self._check_money_into("line")
        if self.commitment is not None:
            _entry_number(self.commitment, "commitment")


@dataclass(frozen=True, kw_only=True)
class Commit(Operation):
    """A commitment on a line: an order placed, not yet paid."""

    operation: ClassVar[str] = "commit"
    line: str
    amount_pence: int
    period: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        self._check_money_into("line")


@dataclass(frozen=True, kw_only=True)
class Virement(Operation):
    """Budget moves from one line to another; held for the board when a rule says so."""

    operation: ClassVar[str] = "virement"
    from_line: str
    to_line: str
    amount_pence: int
    reason: str
    period: str | None = None

    def __post_init__(self) -> None:
        self._set("from_line", _text(self.from_line, "from_line"))
        self._set("to_line", _text(self.to_line, "to_line"))
        check_pence(self.amount_pence, "amount_pence")
        self._set("reason", _reason(self.reason, "a virement needs a reason; it is published"))
        if self.from_line == self.to_line:
            raise LedgerError("to_line: a virement moves money between two different lines")
        _period(self.period)


@dataclass(frozen=True, kw_only=True)
class Approve(Operation):
    """A board member's decision on a held request: approve it, or (``approve=False``) not."""

    operation: ClassVar[str] = "approve"
    hold: int
    reason: str
    approve: bool = True

    def __post_init__(self) -> None:
        _entry_number(self.hold, "hold")
        self._set("reason", _reason(self.reason, "a decision needs a reason; it is published"))
        if not isinstance(self.approve, bool):
            raise LedgerError(f"approve: expected true or false, got {self.approve!r}")


@dataclass(frozen=True, kw_only=True)
class Forecast(Operation):
    """A line's forecast outturn for the year; it replaces the line's last forecast."""

    operation: ClassVar[str] = "forecast"
    line: str
    outturn_pence: int
    period: str | None = None

    def __post_init__(self) -> None:
        self._set("line", _text(self.line, "line"))
        check_pence(self.outturn_pence, "outturn_pence", allow_zero=True)
        _period(self.period)


@dataclass(frozen=True, kw_only=True)
class Reverse(Operation):
    """An entry undone by its mirror image (nothing is ever edited or deleted)."""

    operation: ClassVar[str] = "reverse"
    entry: int
    reason: str
    period: str | None = None

    def __post_init__(self) -> None:
        _entry_number(self.entry, "entry")
        self._set("reason", _reason(self.reason, "a reversal needs a reason; it is published"))
        _period(self.period)


@dataclass(frozen=True, kw_only=True)
class ClosePeriod(Operation):
    """The first open month closes (``period`` must name it, if given)."""

    operation: ClassVar[str] = "close_period"
    period: str | None = None

    def __post_init__(self) -> None:
        _period(self.period)


@dataclass(frozen=True, kw_only=True)
class Settle(Operation):
    """The year's over- or underspend shared by the fund's risk-share rule."""

    operation: ClassVar[str] = "settle"
    reason: str = ""

    def __post_init__(self) -> None:
        self._set("reason", _text(self.reason, "reason"))


@dataclass(frozen=True, kw_only=True)
class ChangeUser(Operation):
    """A user given access to the fund with ``roles``, their roles changed, or (no roles)
    their access withdrawn; ``partner`` is the partner a finance officer works for."""

    operation: ClassVar[str] = "user"
    name: str
    roles: Sequence[str]
    reason: str
    partner: str | None = None

    def __post_init__(self) -> None:
        self._set("name", _text(self.name, "name"))
        roles: object = self.roles
        if not isinstance(roles, list | tuple) or not all(isinstance(r, str) for r in roles):
            raise LedgerError(f"roles: expected a list of roles (empty to withdraw), got {roles!r}")
        self._set("roles", tuple(roles))
        if self.partner is not None:
            if not roles:
                raise LedgerError("partner: a user whose access is withdrawn has no partner")
            _text(self.partner, "partner")
        self._set("reason", _reason(self.reason, "say why the user's access changes"))


#: Each operation's name, as stored in the journal's request digests, and its request.
REQUESTS: Mapping[str, type[Operation]] = {
    kind.operation: kind
    for kind in (
        Contribute,
        Allocate,
        Spend,
        Commit,
        Virement,
        Approve,
        Forecast,
        Reverse,
        ClosePeriod,
        Settle,
        ChangeUser,
    )
}


def parse_fields(operation: str, fields: Mapping[str, Any]) -> Operation:
    """The typed request for ``operation`` from fields sent as data."""
    try:
        kind = REQUESTS[operation]
    except KeyError:
        raise LedgerError(f"unknown operation {operation!r}") from None
    return kind.from_fields(fields)


@dataclass(frozen=True)
class LedgerRequest:
    """One request as sent: the operation, who asks, the client's request id, the fields.

    Built from a typed request with :meth:`of`, or from fields sent as data (which are
    checked when the request is posted, so a batch can say which of its requests is bad).
    """

    operation: str
    actor: str
    request_id: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    #: the fields as canonical JSON, written once: the digest and the record are made of it
    _fields_json: str = field(init=False, repr=False, compare=False, default="")

    def __post_init__(self) -> None:
        if self.operation not in REQUESTS:
            raise LedgerError(f"unknown operation {self.operation!r}")
        check_request_id(self.request_id)
        try:  # fields sent as data: JSON of valid text, of a sane size, before anything else
            text = canonical(dict(self.fields))
            size = len(text.encode("utf-8"))
        except (TypeError, ValueError, RecursionError, UnicodeEncodeError) as exc:
            raise LedgerError(
                f"fields: not a request's fields (JSON of valid text): {type(exc).__name__}"
            ) from None
        object.__setattr__(self, "_fields_json", text)
        if size > MAX_FIELDS_BYTES:
            raise LedgerError(
                f"fields: {size:,} bytes; a request's fields are at most {MAX_FIELDS_BYTES:,}"
            )

    @classmethod
    def of(cls, request: Operation, *, actor: str, request_id: str) -> LedgerRequest:
        return cls(request.operation, actor, request_id, request.fields())

    def digest(self) -> str:
        """What identifies the request's content, for telling a retry from a clash:
        :func:`request_digest`, assembled from the fields' JSON written once (canonical JSON
        of an object is its sorted keys' members, so the text is the same)."""
        text = (
            f'{{"actor":{canonical(self.actor)},"fields":{self._fields_json},'
            f'"operation":{canonical(self.operation)}}}'
        )
        return sha256(text)

    def parse(self) -> Operation:
        """The typed request its fields make, or an error naming the bad field."""
        return parse_fields(self.operation, self.fields)

    def recorded(self) -> str:
        """The request as the journal records it (canonical JSON), to be posted again by
        ``verify``; the actor and request id are recorded beside it."""
        return f'{{"fields":{self._fields_json},"operation":{canonical(self.operation)}}}'

    @classmethod
    def from_recorded(cls, text: str, *, actor: str, request_id: str) -> LedgerRequest:
        """The request :meth:`recorded` wrote; a malformed record is a :class:`LedgerError`."""
        try:
            record = json.loads(text)
            return cls(str(record["operation"]), actor, request_id, dict(record["fields"]))
        except (KeyError, TypeError, ValueError, RecursionError) as exc:
            raise LedgerError(
                f"its recorded request cannot be read ({type(exc).__name__})"
            ) from None


#: A request's fields as JSON: an allocation to every line of a large fund fits many times.
MAX_FIELDS_BYTES = 4 * 1024 * 1024
#: An allocations file is a line per budget line; far larger is not one.
MAX_ALLOCATIONS_BYTES = 16 * 1024 * 1024


def check_request_id(request_id: str) -> None:
    if not isinstance(request_id, str) or not request_id.strip():
        raise LedgerError("request_id: every posting needs a client request id")
    if len(request_id) > MAX_REQUEST_ID or "#" in request_id or "\x00" in request_id:
        raise LedgerError(
            f"request_id: at most {MAX_REQUEST_ID} characters, without '#' or NUL, "
            f"got {request_id!r}"
        )


def read_allocations(path: Path) -> list[tuple[str, int]]:
    """``line,amount`` rows of a CSV file (amounts in pounds or ``123p``), every fault named
    by row: the allocations of one :class:`Allocate` request.

    A file that cannot be read as allocations (missing, too large, not UTF-8 text, no such
    columns, no rows) is a usage error; an amount the ledger does not accept is refused like
    any other amount."""
    text = _utf8_file(path, MAX_ALLOCATIONS_BYTES, "allocations")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None or not {"line", "amount"} <= set(reader.fieldnames):
        raise ConfigError(f"{path}: expected a header with the columns line,amount")
    rows = []
    problems: list[LoadProblem] = []
    for i, row in enumerate(reader, start=1):
        line = (row["line"] or "").strip()
        if not line:
            problems.append(LoadProblem(str(path), i, "line", "empty; expected a budget line"))
        try:
            amount = parse_amount(row["amount"] or "", "amount")
        except LedgerError as exc:
            problems.append(LoadProblem(str(path), i, None, str(exc)))
            continue
        rows.append((line, amount))
    if problems:
        # every bad row at once, as a load lists them, so the file is mended in one go
        raise LoadRejected(str(path), problems, outcome="nothing was posted")
    if not rows:
        raise ConfigError(f"{path}: no allocations")
    return rows


def _utf8_file(path: Path, limit: int, what: str) -> str:
    """The file's text, or a usage error naming the file (and the line of a bad byte)."""
    try:
        if path.stat().st_size > limit:
            raise ConfigError(f"{path}: larger than {limit:,} bytes; not a file of {what}")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (IsADirectoryError, PermissionError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}: line {line}: byte 0x{raw[exc.start]:02x} is not UTF-8 text; save the "
            f"file as UTF-8"
        ) from None
