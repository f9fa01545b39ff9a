"""Publishing: compute the public figures and write them where the portal and API read them.

``publish_model`` runs when the model is built or the demonstration runs; ``publish_fund``
whenever the fund is posted to (the portal calls it after each of its own postings; after
postings from the command line, ``carepool publish`` does). Nothing public is computed per
request.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from carepool.allocation import Allocation
from carepool.config import Settings
from carepool.errors import ConfigError
from carepool.ledger import Ledger
from carepool.prevention import InterventionAppraisal, PortfolioPlan
from carepool.publication.fund_tables import fund_figures
from carepool.publication.model_tables import (
    allocation_tables,
    outcome_tables,
    prevention_tables,
)
from carepool.publication.store import public_dir, write_part
from carepool.warehouse import Tables, read_manifest

#: The fund's user whose view is the public's (the fund's specification gives it the
#: ``public`` role).
PUBLIC_USER = "resident"
#: What the public is told of each ring-fence rule.
RULE_FIELDS = ("name", "kind", "reason", "scope", "floor_pence", "min_pence", "approvers")


def keys_dir(settings: Settings) -> Path:
    return settings.data_dir / "keys"


def publish_model(
    settings: Settings,
    warehouse: Tables,
    allocation: Allocation,
    appraisals: Sequence[InterventionAppraisal] = (),
    plan: PortfolioPlan | None = None,
) -> Path:
    manifest = read_manifest(settings.warehouse_dir)
    tables = {**allocation_tables(allocation), **outcome_tables(warehouse)}
    tables.update(prevention_tables(appraisals, plan))
    meta = {
        "region": manifest.get("region"),
        "scale": manifest.get("scale"),
        "seed": manifest.get("seed"),
        "years": manifest.get("years"),
        "built_at": manifest.get("built_at"),
        "allocation": {
            k: allocation.metadata.get(k) for k in ("formula", "year", "total", "level")
        },
    }
    return write_part(public_dir(settings.data_dir), "model", tables, meta)


def choose_public_fund(ledger: Ledger, fund: str | None) -> str:
    funds = ledger.funds()
    if fund is not None:
        if fund not in funds:
            raise ConfigError(f"no fund {fund!r} in the ledger; it holds {', '.join(funds)}")
        return fund
    if not funds:
        raise ConfigError("the ledger holds no fund yet; run `carepool demo` or open one")
    return funds[-1]


def publish_fund(
    settings: Settings, ledger: Ledger, fund: str | None = None, public_user: str = PUBLIC_USER
) -> Path:
    fund = choose_public_fund(ledger, fund)
    with tempfile.TemporaryDirectory() as scratch:
        figures = fund_figures(ledger, fund, public_user, Path(scratch), keys_dir(settings))
        files = {
            name: Path(scratch) / name
            for name in ("journal.jsonl", "checkpoint.json", "checkpoint.pub")
            if (Path(scratch) / name).is_file()
        }
        meta = {
            "fund": figures.fund,
            "name": figures.name,
            "year": figures.year,
            "public_user": public_user,
            "totals": figures.totals,
            "checkpoint": figures.checkpoint.as_dict() if figures.checkpoint else None,
            "rules": [
                {k: v for k, v in rule.model_dump(mode="json").items() if k in RULE_FIELDS}
                for rule in ledger.spec(fund).rules
            ],
        }
        return write_part(public_dir(settings.data_dir), "fund", figures.tables, meta, files)
