"""Reading the built model back: its summary, its checks against published figures, and
whether its tables mix a partner's real records with synthetic ones."""

from __future__ import annotations

from carepool.geography import england_place_name
from carepool.model.boroughs import BoroughValidation, borough_validation
from carepool.model.need_index import need_index_checks
from carepool.population import Check, Summary, model_summary, run_checks
from carepool.warehouse import Location, Warehouse, mixed_sources, read_manifest


def mixed_warning(warehouse_dir: Location) -> str | None:
    """A warning when some tables hold a loaded extract and others are still synthetic.

    Reads only the manifest, so a missing warehouse is reported before any engine starts.
    """
    return mixed_sources(read_manifest(warehouse_dir))


def summarise(warehouse: Warehouse) -> Summary:
    """Residents, places, deaths and cost by borough, service, payer and deprivation."""
    return model_summary(warehouse, read_manifest(warehouse.warehouse_dir))


def validate(warehouse: Warehouse) -> list[Check]:
    """The model against every published target that applies to its region."""
    manifest = read_manifest(warehouse.warehouse_dir)
    return run_checks(warehouse, manifest["lad_codes"], manifest["years"][0])


def validate_boroughs(warehouse: Warehouse) -> BoroughValidation:
    """Each borough of the model against its own published figures, and the boroughs' order
    against the published order (:mod:`carepool.model.boroughs`)."""
    manifest = read_manifest(warehouse.warehouse_dir)
    names = {code: england_place_name(code) or code for code in manifest["lad_codes"]}
    need = need_index_checks(warehouse, names)
    scale = float(manifest.get("scale", 1.0))
    return borough_validation(warehouse, names, manifest["years"][-1], need, scale)
