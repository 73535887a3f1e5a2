"""The import rules hold for every module: no cycle (imports inside functions included, which
is where cycles hide), and every module of ``matcher`` and ``api`` sits under a contract of
``lint-imports`` (``make check`` runs the contracts themselves)."""

from __future__ import annotations

import ast
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


def reaches(source: str) -> list[tuple[int, str]]:
    """Where ``source`` touches a running service's store or index (``service.store``,
    ``page.service.index``, ``live.store`` ...) or calls a store's methods (``store.x(...)``
    other than ``close``): line and attribute."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute):
            continue
        base = node.value
        owner = (
            base.id if isinstance(base, ast.Name) else base.attr if isinstance(base, ast.Attribute) else ""
        )
        through_live = node.attr in ("store", "index") and owner in ("service", "live")
        on_store = owner == "store" and node.attr != "close"
        if through_live or on_store:
            found.append((node.lineno, node.attr))
    return found


def test_only_the_use_cases_reach_the_store_and_the_index() -> None:
    """Routes, console pages, views, the CLI and the benchmarks call :mod:`api.usecases`; the
    running service's store and index are touched only there and in :mod:`api.live`, so every
    caller answers through the same code (the CLI opens and closes a store, nothing more)."""
    reached = [
        f"{path.relative_to(ROOT)}:{line}: .{attr}"
        for path in sorted((ROOT / "api").rglob("*.py"))
        if path.relative_to(ROOT).parts[1] not in ("live", "usecases")
        for line, attr in reaches(path.read_text(encoding="utf-8"))
    ]
    assert reached == [], "call a use case (api/usecases) instead"


def test_the_guard_sees_every_way_round_a_use_case() -> None:
    source = (
        "def f(service, page, store, live):\n"
        "    service.store.ops.ledger('v1')\n"
        "    page.service.index.has_shift('s1')\n"
        "    live.index\n"
        "    store.snapshot()\n"
        "    store.close()\n"
        "    DAYS.index('mon')\n"
    )
    assert sorted(reaches(source)) == [(2, "ops"), (2, "store"), (3, "index"), (4, "index"), (5, "snapshot")]
