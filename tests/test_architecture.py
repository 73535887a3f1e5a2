"""The import rules hold for every module: no cycle (imports inside functions included, which
is where cycles hide), and every module of ``matcher`` and ``api`` sits under a contract of
``lint-imports`` (``make check`` runs the contracts themselves)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    found: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return found


def named_modules() -> set[str]:
    """Every module a contract names (``a | b`` layers split)."""
    names: set[str] = set()
    for c in contracts():
        for key in ("source_modules", "layers", "modules"):
            for entry in c.get(key, []):  # type: ignore[attr-defined]
                names |= {part.strip() for part in re.split(r"[|:]", str(entry))}
    return names


def test_no_module_imports_itself_round_a_cycle() -> None:
    graph = grimp.build_graph("matcher", "api")
    cycles = sorted(
        (module, imported)
        for module in graph.modules
        for imported in graph.find_modules_directly_imported_by(module)
        if graph.chain_exists(importer=imported, imported=module)
    )
    assert cycles == []


def test_every_module_is_under_a_contract() -> None:
    graph = grimp.build_graph("matcher", "api")
    named = named_modules()
    loose = sorted(
        m
        for m in graph.modules
        if m not in ("matcher", "api") and not any(m == n or m.startswith(n + ".") for n in named)
    )
    assert loose == [], "name these modules in a lint-imports contract (pyproject.toml)"


def test_a_hidden_cycle_would_be_found() -> None:
    """The walk sees imports inside functions: the store's backends are opened by a function
    in ``matcher.store.connect``, and that import is in the graph."""
    graph = grimp.build_graph("matcher", "api")
    assert graph.direct_import_exists(importer="matcher.store.connect", imported="matcher.store.sqlite")
