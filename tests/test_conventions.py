"""Make the layout's rules mechanical (see docs/architecture.md).

The import rules are a table, in the manner of a dependency rule list: for each top-level
package (or foundation module) of carepool, the others it may import. A new package must be
given a row before its first import passes.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from types import ModuleType

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "carepool"
SHELLS = frozenset({"cli", "api", "web"})
ENGINE_LIBRARIES = ("duckdb", "pyspark")
#: The largest a source file or a function may grow before it must be split.
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 120

#: What every package may use: the version, errors, settings, financial years and what the
#: machine has free.
FOUNDATION = frozenset({"carepool", "errors", "config", "years", "machine"})
#: The data layer: vendored files, places, the warehouse.
DATA = FOUNDATION | {"reference", "geography", "warehouse"}
#: The analytic packages, in order: each may import those before it.
ANALYTIC = DATA | {"stats", "ages"}
ANYTHING = None

#: Which of carepool's packages each package may import (``ANYTHING``: no limit).
MAY_IMPORT: dict[str, frozenset[str] | None] = {
    "errors": frozenset({"carepool"}),
    "config": frozenset({"carepool", "errors"}),
    "years": frozenset({"carepool"}),
    "machine": frozenset({"carepool"}),
    "stats": frozenset(),
    # plot output: HTML files and point labels
    "charts": frozenset({"carepool", "errors"}),
    "ages": frozenset({"stats"}),
    "reference": FOUNDATION,
    "geography": FOUNDATION | {"reference"},
    "warehouse": FOUNDATION | {"geography"},
    "population": ANALYTIC,
    "indicators": ANALYTIC,
    "allocation": ANALYTIC | {"population", "indicators", "charts"},
    # the transactional core knows nothing of analytics
    "ledger": FOUNDATION,
    # where the ledger and the warehouse meet
    "monitoring": FOUNDATION | {"ledger", "warehouse", "charts"},
    # the model as a capability: build (with the disclosure audit), read back, check (need per
    # head through the allocation; drawn as a chart), describe and load
    "model": ANALYTIC | {"population", "indicators", "allocation", "charts"},
    # prevention: cohorts from the warehouse, the model's years and disclosure control from the
    # indicators, the costed services from the allocation, who may read person-level results
    # (and gain shares) from the ledger
    "prevention": DATA | {"indicators", "allocation", "ledger", "charts"},
    # adult social care charging: the thresholds in force, the means test, the reforms
    "charging": FOUNDATION | {"reference"},
    # the projection: the model's base population and rates, the charging rules for reform
    "projection": ANALYTIC | {"population", "charging", "prevention", "charts"},
    # the portal's people, permissions, consultations and audit log: its own tables
    "governance": FOUNDATION,
    # the public figures, materialised for the portal and the API
    "publication": ANYTHING,
    "demo": ANYTHING,
    "cli": ANYTHING,
    "api": ANYTHING,
    "web": ANYTHING,
    "__main__": frozenset({"cli"}),
}


def _module_name(path: Path) -> str:
    """``src/carepool/ledger/store/writer.py`` -> ``carepool.ledger.store.writer``."""
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(package: str, name: str) -> bool:
    """Whether ``from package import name`` gives a module (rather than a public name)."""
    try:
        value = getattr(importlib.import_module(package), name, None)
    except ImportError:
        return False
    return isinstance(value, ModuleType)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports (see :func:`_imports_of`)."""
    source = path.read_text(encoding="utf-8")
    return _imports_of(source, _module_name(path), package=path.name == "__init__.py")


def _imports_of(source: str, module_name: str, *, package: bool = False) -> set[str]:
    """Every module ``source`` imports, at any depth (lazy imports too), as absolute names;
    relative imports are resolved from ``module_name``, and ``from carepool import ledger``
    or ``from carepool.stats import intervals`` name the module they bring in."""
    tree = ast.parse(source)
    here = module_name.split(".")
    if not package:
        here = here[:-1]  # a module's relative imports start from its package
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names.add(module)
            if module.split(".")[0] == "carepool":
                names.update(
                    f"{module}.{alias.name}"
                    for alias in node.names
                    if _is_module(module, alias.name)
                )
    return names


def _package(path: Path) -> str:
    """The top-level package (or foundation module) a source file belongs to."""
    part = path.relative_to(SRC).parts[0]
    return part.removesuffix(".py") if part.endswith(".py") else part


def _carepool_package(module: str) -> str | None:
    """``carepool.ledger.store`` -> ``ledger``; ``carepool`` -> ``carepool``; None otherwise."""
    parts = module.split(".")
    if parts[0] != "carepool":
        return None
    return parts[1] if len(parts) > 1 else "carepool"


SOURCES = sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.relative_to(SRC).parts)
IDS = [str(p.relative_to(SRC)) for p in SOURCES]


def test_every_package_has_a_rule() -> None:
    packages = {_package(p) for p in SRC.rglob("*.py")} - {"__init__"}
    assert packages <= set(MAY_IMPORT), f"no import rule for {packages - set(MAY_IMPORT)}"


def _rule_breaches(package: str, imports: set[str]) -> list[str]:
    """The packages among ``imports`` that ``package``'s rule does not allow."""
    allowed = MAY_IMPORT[package]
    if allowed is ANYTHING:
        return []
    used = {_carepool_package(name) for name in imports} - {None, package}
    return sorted(str(name) for name in used if name not in allowed)


def _reaches_in(package: str, imports: set[str]) -> list[str]:
    """Imports of another package's modules rather than of the package itself."""
    return sorted(
        name
        for name in imports
        if len(name.split(".")) > 2 and _carepool_package(name) not in (None, package)
    )


@pytest.mark.parametrize("path", SOURCES, ids=IDS)
def test_packages_import_only_what_their_rule_allows(path: Path) -> None:
    package = _package(path)
    if package == "__init__":
        return
    bad = _rule_breaches(package, _imports(path))
    assert not bad, f"{path.relative_to(SRC)} ({package}) may not import {bad}"


@pytest.mark.parametrize("path", SOURCES, ids=IDS)
def test_domains_do_not_import_the_shells(path: Path) -> None:
    if _package(path) in SHELLS | {"__main__"}:
        return
    bad = {name for name in _imports(path) if _carepool_package(name) in SHELLS}
    assert not bad, f"{path.relative_to(SRC)} imports {bad}"


@pytest.mark.parametrize("path", SOURCES, ids=IDS)
def test_other_packages_are_imported_through_their_init(path: Path) -> None:
    """``from carepool.stats import sii``, never ``from carepool.stats.inequality import sii``
    from outside ``stats``: a package's modules are its own business."""
    reached_in = _reaches_in(_package(path), _imports(path))
    assert not reached_in, f"{path.relative_to(SRC)} reaches past __init__: {reached_in}"


@pytest.mark.parametrize("path", SOURCES, ids=IDS)
def test_stats_imports_nothing_of_the_project(path: Path) -> None:
    if _package(path) != "stats":
        return
    bad = {name for name in _imports(path) if _carepool_package(name) not in (None, "stats")}
    assert not bad, f"stats/{path.name} imports {bad}"


@pytest.mark.parametrize("path", SOURCES, ids=IDS)
def test_engines_are_imported_only_in_the_warehouse(path: Path) -> None:
    if _package(path) == "warehouse":
        return
    bad = {name for name in _imports(path) if name.split(".")[0] in ENGINE_LIBRARIES}
    assert not bad, f"{path.relative_to(SRC)} imports {bad}"


def test_source_files_stay_small() -> None:
    sizes = {
        str(p.relative_to(SRC)): len(p.read_text(encoding="utf-8").splitlines())
        for p in SRC.rglob("*.py")
    }
    large = {name: lines for name, lines in sizes.items() if lines >= MAX_FILE_LINES}
    assert not large, f"files of {MAX_FILE_LINES} lines or more: {large}"


def test_functions_stay_short() -> None:
    long: dict[str, int] = {}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(SRC)}:{node.name}"] = length
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_the_rules_catch_a_breach() -> None:
    """The checks above can fail: the breaches they exist to catch are caught."""
    assert _rule_breaches("ledger", {"carepool.warehouse", "carepool.errors"}) == ["warehouse"]
    assert _rule_breaches("indicators", {"carepool.cli.support"}) == ["cli"]
    assert _rule_breaches("stats", {"carepool.years"}) == ["years"]
    assert _rule_breaches("demo", {"carepool.cli"}) == []
    assert _reaches_in("indicators", {"carepool.stats.intervals", "carepool.indicators.cube"}) == [
        "carepool.stats.intervals"
    ]
    assert _package(SRC / "ledger" / "store" / "writer.py") == "ledger"
    relative = _imports_of("from ..reports import Position", "carepool.ledger.store.writer")
    assert "carepool.ledger.reports" in relative
    sneaky = _imports_of("from carepool import warehouse", "carepool.ledger.ledger")
    assert _rule_breaches("ledger", sneaky) == ["warehouse"]
    reaching = _imports_of("from carepool.stats import inequality", "carepool.indicators.gaps")
    assert _reaches_in("indicators", reaching) == ["carepool.stats.inequality"]
    assert _is_module("carepool", "warehouse")
    assert not _is_module("carepool.stats", "sii")
    assert _package(SRC / "years.py") == "years"


def test_every_vendored_file_is_catalogued_and_every_catalogued_file_exists() -> None:
    from carepool.reference import data_root, datasets

    root = data_root()
    catalogued = {d.file for d in datasets()}
    on_disk = {
        str(p.relative_to(root)) for p in root.rglob("*") if p.suffix in {".csv", ".geojson"}
    }
    assert catalogued == on_disk


def test_every_indicator_is_documented_in_the_methods_catalogue() -> None:
    from carepool.indicators import INDICATORS

    page = (SRC.parents[1] / "docs" / "methods" / "indicators.md").read_text(encoding="utf-8")
    missing = [i.id for i in INDICATORS if f"`{i.id}`" not in page]
    assert not missing, f"docs/methods/indicators.md does not list {missing}"


def test_the_readme_exit_codes_match_the_errors() -> None:
    """Every error family's exit code is in the README's table with the same meaning."""
    import carepool.errors as errors

    readme = (SRC.parents[1] / "README.md").read_text(encoding="utf-8")
    families = {
        obj.exit_code
        for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, errors.CarepoolError)
    }
    for code in sorted(families | {0, 1}):
        assert f"| {code} |" in readme, f"README's exit codes table lacks {code}"
