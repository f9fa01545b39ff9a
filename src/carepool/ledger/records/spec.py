"""A fund's specification: partners, users and roles, budget lines, ring-fences, risk share.

Written as TOML by people (``carepool ledger init --spec FUND.toml``) or built in code (the
demo). Every fault is reported with the file and the field's path before anything is written.
See docs/ledger.md for a worked example.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
    model_validator,
)

from carepool.errors import ConfigError, LedgerError
from carepool.years import is_financial_year, months

ROLES = ("finance", "board", "auditor", "public", "admin", "analyst")
#: Names no user may have: on PostgreSQL who acts is the login's role, and any member of a
#: group role could act as it; ``pg_`` roles are PostgreSQL's own.
RESERVED_NAME_PREFIXES = ("carepool_", "pg_")
#: A fund's specification is a few hundred lines; far larger is not one.
MAX_SPEC_BYTES = 16 * 1024 * 1024
Code = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")]
LineCode = Annotated[str, Field(min_length=1, max_length=96, pattern=r"^[A-Za-z0-9_.:-]+$")]
Pence = Annotated[int, Field(ge=0, le=10**15, strict=True)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FundInfo(_Model):
    id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
    name: str
    year: str
    kind: Literal["pooled", "aligned"] = "pooled"
    host: Code

    @model_validator(mode="after")
    def _year(self) -> FundInfo:
        if not is_financial_year(self.year):
            raise ValueError(f"year {self.year!r} is not a financial year like 2026-27")
        return self


class Partner(_Model):
    id: Code
    name: str
    kind: Literal["council", "nhs_commissioner", "nhs_provider", "other"]


class User(_Model):
    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")]
    partner: Code | None = None
    roles: tuple[Literal["finance", "board", "auditor", "public", "admin", "analyst"], ...]

    @model_validator(mode="after")
    def _finance_has_partner(self) -> User:
        if self.name.lower().startswith(RESERVED_NAME_PREFIXES):
            raise ValueError(
                f"user {self.name!r}: names beginning {' or '.join(RESERVED_NAME_PREFIXES)} "
                "belong to the database's own roles, which nobody may act as"
            )
        if "finance" in self.roles and self.partner is None:
            raise ValueError(f"user {self.name!r} has the finance role but no partner")
        if not self.roles:
            raise ValueError(f"user {self.name!r} has no role")
        return self


class Line(_Model):
    id: LineCode
    service: Annotated[str, Field(min_length=1, max_length=64)]
    place: Code
    partner: Code


class Scope(_Model):
    """Which lines a rule looks at; every given field must match."""

    line: LineCode | None = None
    service: str | None = None
    place: Code | None = None
    partner: Code | None = None
    partner_kind: Literal["council", "nhs_commissioner", "nhs_provider", "other"] | None = None

    def matches(self, line: Line, partner_kind: str) -> bool:
        return (
            (self.line is None or self.line == line.id)
            and (self.service is None or self.service == line.service)
            and (self.place is None or self.place == line.place)
            and (self.partner is None or self.partner == line.partner)
            and (self.partner_kind is None or self.partner_kind == partner_kind)
        )


class FloorRule(_Model):
    """The budget of the lines in ``scope`` may not be taken below ``floor_pence``."""

    name: Annotated[str, Field(min_length=1, max_length=96)]
    kind: Literal["floor"]
    scope: Scope
    floor_pence: Pence
    action: Literal["refuse", "hold"] = "refuse"
    approvers: Annotated[int, Field(ge=1, le=9)] = 1
    reason: str


class ApprovalRule(_Model):
    """Virements matching this rule need the board's approval (``hold``) or are banned.

    ``across``: ``any`` (every virement), ``service`` (money moving between services),
    ``partner`` (between partners' lines) or ``place``. ``from_scope``/``to_scope`` narrow
    it, for example to moves out of mental health. ``min_pence``: only virements of at least
    this amount.
    """

    name: Annotated[str, Field(min_length=1, max_length=96)]
    kind: Literal["virement"]
    across: Literal["any", "service", "partner", "place"] = "any"
    from_scope: Scope = Scope()
    to_scope: Scope = Scope()
    min_pence: Pence = 0
    action: Literal["refuse", "hold"] = "hold"
    approvers: Annotated[int, Field(ge=1, le=9)] = 1
    reason: str


Rule = Annotated[FloorRule | ApprovalRule, Field(discriminator="kind")]


class RiskShare(_Model):
    """How the year's over- or underspend is shared at settlement.

    ``proportional``: by each partner's contributions; ``host``: the host bears it all;
    ``own``: each partner bears the variance on its own lines; ``fixed``: by ``shares``;
    ``capped``: by contributions up to ``cap_pence`` in all, the rest to ``excess_to``.
    """

    rule: Literal["proportional", "host", "own", "fixed", "capped"] = "proportional"
    shares: dict[str, float] | None = None
    cap_pence: Pence | None = None
    excess_to: Code | None = None

    @model_validator(mode="after")
    def _complete(self) -> RiskShare:
        if self.rule == "fixed":
            if not self.shares or any(v < 0 for v in self.shares.values()):
                raise ValueError("the fixed rule needs non-negative shares by partner")
            if abs(sum(self.shares.values()) - 1) > 1e-9:
                raise ValueError("fixed shares must sum to 1")
        if self.rule == "capped" and self.cap_pence is None:
            raise ValueError("the capped rule needs cap_pence")
        return self


class GainShare(_Model):
    """A gain-share agreement for some of the fund's lines: their over- or underspend at
    settlement is shared by ``shares`` (fixed, by partner, summing to 1) rather than by the
    fund's risk-share rule; for example the schedule the partners agreed for a prevention
    portfolio's lines (docs/methods/prevention.md)."""

    name: Annotated[str, Field(min_length=1, max_length=96)]
    scope: Scope
    shares: dict[Code, Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]]
    reason: Annotated[str, Field(min_length=1, max_length=2_000)]

    @model_validator(mode="after")
    def _sums_to_one(self) -> GainShare:
        if not self.shares or abs(sum(self.shares.values()) - 1) > 1e-9:
            raise ValueError(f"gain share {self.name!r}: shares must be given and sum to 1")
        return self


class FundSpec(_Model):
    fund: FundInfo
    risk_share: RiskShare = RiskShare()
    partners: tuple[Partner, ...]
    users: tuple[User, ...]
    lines: tuple[Line, ...]
    rules: tuple[Rule, ...] = ()
    gain_shares: tuple[GainShare, ...] = ()

    @model_serializer(mode="wrap")
    def _without_empty_gain_shares(self, handler: SerializerFunctionWrapHandler) -> Any:
        """A fund without gain shares is written as before they existed, so its opening
        entry (and so every digest after it) is unchanged."""
        data = handler(self)
        if isinstance(data, dict) and not data.get("gain_shares"):
            data.pop("gain_shares", None)
        return data

    @model_validator(mode="after")
    def _references(self) -> FundSpec:
        partner_ids = [p.id for p in self.partners]
        _unique(partner_ids, "partners", "id")
        _unique([u.name for u in self.users], "users", "name")
        _unique([line.id for line in self.lines], "lines", "id")
        _unique([r.name for r in self.rules], "rules", "name")
        known = set(partner_ids)
        if self.fund.host not in known:
            raise ValueError(f"fund.host {self.fund.host!r} is not one of the partners")
        for i, user in enumerate(self.users):
            if user.partner is not None and user.partner not in known:
                raise ValueError(f"users[{i}].partner {user.partner!r} is not one of the partners")
        for i, line in enumerate(self.lines):
            if line.partner not in known:
                raise ValueError(f"lines[{i}].partner {line.partner!r} is not one of the partners")
        line_ids = {line.id for line in self.lines}
        for i, rule in enumerate(self.rules):
            scopes = (
                [rule.scope] if isinstance(rule, FloorRule) else [rule.from_scope, rule.to_scope]
            )
            for scope in scopes:
                if scope.line is not None and scope.line not in line_ids:
                    raise ValueError(f"rules[{i}] names an unknown line {scope.line!r}")
                if scope.partner is not None and scope.partner not in known:
                    raise ValueError(f"rules[{i}] names an unknown partner {scope.partner!r}")
        named = [self.risk_share.excess_to, *list(self.risk_share.shares or {})]
        for partner in named:
            if partner is not None and partner not in known:
                raise ValueError(f"risk_share names an unknown partner {partner!r}")
        self._check_gain_shares(known)
        return self

    def _check_gain_shares(self, known: set[str]) -> None:
        """Each gain share names known partners and covers lines no other one covers."""
        _unique([g.name for g in self.gain_shares], "gain_shares", "name")
        kinds = {p.id: p.kind for p in self.partners}
        covered: dict[str, str] = {}
        for i, agreement in enumerate(self.gain_shares):
            unknown = sorted(set(agreement.shares) - known)
            if unknown:
                raise ValueError(f"gain_shares[{i}] names unknown partners {unknown}")
            lines = [
                line.id for line in self.lines if agreement.scope.matches(line, kinds[line.partner])
            ]
            if not lines:
                raise ValueError(f"gain_shares[{i}] ({agreement.name!r}) covers no line")
            for line in lines:
                if line in covered:
                    raise ValueError(
                        f"line {line!r} is in two gain shares: {covered[line]!r} and "
                        f"{agreement.name!r}"
                    )
                covered[line] = agreement.name

    def partner(self, partner_id: str) -> Partner:
        for partner in self.partners:
            if partner.id == partner_id:
                return partner
        raise LedgerError(f"unknown partner {partner_id!r}")

    def periods(self) -> tuple[str, ...]:
        """The twelve months of the fund's financial year, April to March, as ``YYYY-MM``."""
        return months(self.fund.year)


def _unique(values: list[str], where: str, field: str) -> None:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            raise ValueError(f"{where}[{i}].{field} {value!r} appears twice")
        seen.add(value)


def parse_spec(data: Mapping[str, Any], source: str) -> FundSpec:
    """A checked :class:`FundSpec` from parsed TOML or JSON, or one error listing every fault."""
    try:
        return FundSpec.model_validate(data)
    except ValidationError as exc:
        faults = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "(top level)"
            faults.append(f"{source}: {where}: {error['msg']}")
        raise ConfigError("the fund specification is not valid:\n" + "\n".join(faults)) from None


def load_spec(path: Path | str) -> FundSpec:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_SPEC_BYTES:
            raise ConfigError(f"{path}: larger than {MAX_SPEC_BYTES:,} bytes; not a fund spec")
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such fund specification") from None
    except (IsADirectoryError, PermissionError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: byte {exc.start} is not UTF-8 text; a fund specification is UTF-8 TOML"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_spec(data, str(path))
