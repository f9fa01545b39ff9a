"""The project's exception types.

Every error a user can cause derives from :class:`CarepoolError`, carries a message written for
that user, and maps to a documented process exit code, so the CLI can print it without a
traceback. Programming errors stay ordinary Python exceptions.

Exit codes:

====  ==========================================================
 1    a check failed (``carepool validate``)
 2    usage or configuration error (bad option, unknown region)
 3    reference data missing or malformed
 4    a load was rejected: the file broke the table's schema
 5    the warehouse is missing or was built differently
 6    the ledger refused a posting: the user's role does not allow it
 7    the ledger refused a posting: it would break a ring-fence rule
 8    the ledger refused a request it cannot post as asked (unknown
      partner or line, bad amount, closed period, reused request id)
 9    sign-in failed, or a session or token is unknown, expired or
      revoked; or too many attempts (the portal and the API)
====  ==========================================================

Each code is one family of errors: a usage error (2) is a command asked for wrongly, while a
request the ledger refuses (6, 7, 8) was asked for properly and refused on its merits.
"""

from __future__ import annotations

from dataclasses import dataclass


class CarepoolError(Exception):
    """Base class of every user-facing error."""

    exit_code = 2


class ConfigError(CarepoolError):
    """A setting, option or argument is not one carepool can use."""

    exit_code = 2


class RegionError(ConfigError):
    """A region or local authority code is unknown or has no vendored population."""


class IndicatorError(ConfigError):
    """An indicator, geography level, place or period that carepool cannot report."""


class AllocationError(ConfigError):
    """A formula, baseline, total or pace-of-change policy that carepool cannot allocate with."""


class AppraisalError(ConfigError):
    """An intervention library, appraisal or portfolio request carepool cannot use: the
    message names the file, the intervention and the field."""


class ChargingError(ConfigError):
    """A person's figures, a year or a policy the charging rules cannot assess: the message
    names the field and what was expected."""


class ProjectionError(ConfigError):
    """A projection, scenario or back-cast carepool cannot run as asked: the message names the
    file, the scenario and the field, and what was expected."""


class LedgerError(CarepoolError):
    """A ledger request carepool cannot post: unknown partner or line, bad amount, closed
    period, an unbalanced entry, a request id reused with different content."""

    exit_code = 8


class PermissionDenied(CarepoolError):
    """The user's role does not allow the request (for example posting to another partner's
    line, or approving one's own virement)."""

    exit_code = 6


class RuleRefused(CarepoolError):
    """A posting would break a ring-fence rule whose action is to refuse."""

    exit_code = 7

    def __init__(self, rule: str, reason: str) -> None:
        self.rule = rule
        self.reason = reason
        super().__init__(f"refused by rule {rule!r}: {reason}")


class NotFound(ConfigError):
    """A place, consultation, comment or other record that does not exist (or that the
    caller may not know exists)."""


class AuthenticationError(CarepoolError):
    """Sign-in failed, or a session or API token is unknown, expired or revoked. The message
    never says which of name or password was wrong."""

    exit_code = 9


class RateLimited(AuthenticationError):
    """Too many attempts (sign-ins, comments) in a window: try again later."""

    def __init__(self, message: str, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class ReferenceDataError(CarepoolError):
    """A vendored reference file is missing or does not have the expected shape."""

    exit_code = 3


class WarehouseError(CarepoolError):
    """The warehouse is missing, incomplete or damaged, its tables do not match their schemas,
    or another load or build is writing it."""

    exit_code = 5


@dataclass(frozen=True)
class LoadProblem:
    """One fault found in a file being loaded, located as precisely as possible.

    ``row`` is the 1-based data row (the header is row 0); ``None`` for file-level problems.
    """

    source: str
    row: int | None
    column: str | None
    message: str

    def location(self) -> str:
        parts = [self.source]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(self.column)
        return ":".join(parts)

    def __str__(self) -> str:
        return f"{self.location()}: {self.message}"


class LoadRejected(CarepoolError):
    """A file failed validation; nothing from it was loaded."""

    exit_code = 4

    def __init__(
        self,
        source: str,
        problems: list[LoadProblem],
        total: int | None = None,
        *,
        outcome: str = "nothing was loaded",
    ) -> None:
        self.source = source
        self.problems = problems
        self.total = len(problems) if total is None else total
        #: What became of the file's contents: nothing, since it was refused whole.
        self.outcome = outcome
        super().__init__(f"{source}: rejected with {self.total} problem(s); {outcome}")
