"""Make the layout's rules mechanical (see docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "carepool"
SHELLS = ("carepool.cli", "carepool.api", "carepool.web")
ENGINE_LIBRARIES = ("duckdb", "pyspark")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


DOMAIN_FILES = [
    p
    for p in SRC.rglob("*.py")
    if p.relative_to(SRC).parts[0] not in {"cli", "__main__.py", "api", "web"}
]


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_domains_do_not_import_the_shells(path: Path) -> None:
    bad = {name for name in _imports(path) if name.startswith(SHELLS)}
    assert not bad, f"{path.relative_to(SRC)} imports {bad}"


@pytest.mark.parametrize("path", _modules("stats"), ids=lambda p: p.name)
def test_stats_imports_nothing_of_the_project(path: Path) -> None:
    bad = {
        name
        for name in _imports(path)
        if name.startswith("carepool") and not name.startswith("carepool.stats")
    }
    assert not bad, f"stats/{path.name} imports {bad}"


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_engines_are_imported_only_in_the_warehouse(path: Path) -> None:
    if path.relative_to(SRC).parts[0] == "warehouse":
        return
    bad = {name for name in _imports(path) if name.split(".")[0] in ENGINE_LIBRARIES}
    assert not bad, f"{path.relative_to(SRC)} imports {bad}"


def test_every_vendored_file_is_catalogued_and_every_catalogued_file_exists() -> None:
    from carepool.reference import data_root, datasets

    root = data_root()
    catalogued = {d.file for d in datasets()}
    on_disk = {str(p.relative_to(root)) for p in root.rglob("*.csv")}
    assert catalogued == on_disk


def test_every_indicator_is_documented_in_the_methods_catalogue() -> None:
    from carepool.indicators import INDICATORS

    page = (SRC.parents[1] / "docs" / "methods" / "indicators.md").read_text(encoding="utf-8")
    missing = [i.id for i in INDICATORS if f"`{i.id}`" not in page]
    assert not missing, f"docs/methods/indicators.md does not list {missing}"
