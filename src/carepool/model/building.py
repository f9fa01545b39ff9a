"""Building the model: whether a warehouse must be (re)built, building it, loading an extract.

A warehouse that holds a partner's loaded extract is never rebuilt by accident: building over
it is refused unless forced, and the demonstration will not rebuild it at all.

A build and a load both end with the disclosure audit of every publishable indicator
(:mod:`carepool.indicators.record`), committed with the tables it audited, so published tables
need not run it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from carepool import __version__
from carepool.config import Settings
from carepool.errors import ConfigError, WarehouseError
from carepool.geography import resolve_region
from carepool.indicators import audit_is_current, record_audit
from carepool.population import BuildRequest, Progress, build, require_census
from carepool.reference import data_digest
from carepool.warehouse import (
    LoadResult,
    load_file,
    read_manifest,
    refuse_foreign,
    table_exists,
    table_path,
)

#: What a build reports to its progress, beyond the steps of the model itself.
AUDIT_STEP = "Auditing what the published indicators could disclose"


def build_steps(request: BuildRequest) -> int:
    """How many steps :func:`build_model` reports: the model's, then the audit."""
    return request.steps + 1


def build_model(
    request: BuildRequest,
    warehouse_dir: Path,
    progress: Progress | None = None,
    *,
    workers: int | None = None,
    resume: bool = True,
) -> dict[str, Any]:
    """Build the model into ``warehouse_dir`` with its disclosure audit, committed together;
    returns the manifest committed (``workers`` and ``resume``: see
    :func:`carepool.population.build`)."""

    def audit(folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
        if progress is not None:
            progress(AUDIT_STEP)
        return record_audit(folder, manifest)

    return build(request, warehouse_dir, progress, derive=audit, workers=workers, resume=resume)


def load_extract(table: str, path: Path, warehouse_dir: Path) -> LoadResult:
    """Load a partner's extract into ``table`` (all of it, or nothing) and audit the published
    indicators again over the new counts, committed together."""
    return load_file(table, path, warehouse_dir, derive=record_audit)


@dataclass(frozen=True)
class BuildPlan:
    """Whether the warehouse must be built for a request, and what to tell the user.

    ``notice`` is news (the model will be rebuilt because carepool or its data changed);
    ``warning`` is a caution (a warehouse with loaded extracts is used although it is stale).
    """

    build: bool
    notice: str | None = None
    warning: str | None = None


def loaded_tables(manifest: dict[str, Any]) -> list[str]:
    """The tables of a warehouse that hold a partner's loaded extract, sorted."""
    return sorted({load["table"] for load in manifest.get("loads") or []})


def check_build(settings: Settings, request: BuildRequest, *, force: bool = False) -> None:
    """Refuse a build before any work starts: an unknown region, or a warehouse holding
    loaded extracts that the build would replace (unless ``force``)."""
    try:
        loads = read_manifest(settings.warehouse_dir).get("loads")
    except WarehouseError:
        loads = None
    if loads and not force:
        tables = ", ".join(loaded_tables({"loads": loads}))
        raise ConfigError(
            f"{settings.warehouse_dir} holds loaded extracts ({tables}); building would replace "
            "them. Use another CAREPOOL_DATA_DIR (or CAREPOOL_WAREHOUSE_URL), or --force to "
            "replace them."
        )
    refuse_foreign(settings.warehouse_dir)
    require_census(resolve_region(request.region).lad_codes)


def demo_request(
    warehouse_dir: Path, region: str | None, scale: float | None, seed: int | None
) -> tuple[BuildRequest, str | None]:
    """The model the demonstration uses, and a sentence saying which when it is not the
    default. Each option not given is the built model's (a valid warehouse built at another
    scale is used, never silently replaced), or the default's where nothing is built (all of
    Greater Manchester, full scale, seed 42)."""
    default = BuildRequest()
    try:
        manifest: dict[str, Any] | None = read_manifest(warehouse_dir)
    except WarehouseError:
        manifest = None
    if manifest is None or "scale" not in manifest or "seed" not in manifest:
        chosen = BuildRequest(
            region if region is not None else default.region,
            scale if scale is not None else default.scale,
            seed if seed is not None else default.seed,
        )
        return chosen, None
    years = manifest.get("years")
    built_region = str(manifest.get("region") or ",".join(manifest.get("lad_codes", [])) or "gm")
    chosen = BuildRequest(
        region if region is not None else built_region,
        scale if scale is not None else float(manifest["scale"]),
        seed if seed is not None else int(manifest["seed"]),
        len(years) if isinstance(years, list) and years else default.years,
    )
    same = (chosen.region, chosen.scale, chosen.seed) == (
        built_region,
        float(manifest["scale"]),
        int(manifest["seed"]),
    )
    given = None not in (region, scale, seed)
    if (
        given
        or not same
        or (chosen.region, chosen.scale, chosen.seed)
        == (
            default.region,
            default.scale,
            default.seed,
        )
    ):
        return chosen, None  # asked for in full, a different model, or the default
    name = manifest.get("region_name") or chosen.region
    return chosen, (
        f"Using the model already in {warehouse_dir}: {name}, scale {chosen.scale:g}, seed "
        f"{chosen.seed}. `carepool demo --region gm --scale 1 --seed 42` builds the full model "
        "of Greater Manchester."
    )


def plan_build(warehouse_dir: Path, request: BuildRequest) -> BuildPlan:
    """Whether the demonstration must build: no complete warehouse, or one built differently.

    A warehouse holding a partner's loaded extract is never rebuilt (that would destroy the
    loaded data); asking for a different model there is an error.
    """
    wanted = resolve_region(request.region)
    require_census(wanted.lad_codes)
    try:
        manifest = read_manifest(warehouse_dir)
    except WarehouseError:
        return BuildPlan(build=True)
    differs = (
        manifest.get("lad_codes") != list(wanted.lad_codes)
        or float(manifest.get("scale", -1)) != request.scale
        or int(manifest.get("seed", -1)) != request.seed
    )
    complete = all(
        table_exists(table_path(warehouse_dir, t, manifest)) for t in manifest.get("tables", {})
    )
    stale = (
        manifest.get("carepool_version") != __version__
        or manifest.get("reference_digest") != data_digest()
        or not audit_is_current(manifest)  # audited before, knowing less, or not at all
    )
    if manifest.get("loads"):
        if differs or not complete:
            raise ConfigError(
                f"{warehouse_dir} holds loaded extracts ({', '.join(loaded_tables(manifest))}) "
                "and differs from the model asked for; demo will not overwrite it. Use another "
                "CAREPOOL_DATA_DIR, or `carepool build` to replace it on purpose."
            )
        warning = (
            "the model was built by another carepool version or from other reference data; "
            "it holds loaded extracts, so it is used as it is."
            if stale
            else None
        )
        return BuildPlan(build=False, warning=warning)
    notice = (
        "carepool or its reference data changed since the model was built."
        if stale and not differs and complete
        else None
    )
    return BuildPlan(build=differs or not complete or stale, notice=notice)
