"""The largest non-test Python files (lines) and functions and classes (lines, parameters):
where a newcomer will find the code hardest to read in one sitting.

    python scripts/largest.py            # the 15 largest of each, as tables
    python scripts/largest.py --top 30 --json
"""

from __future__ import annotations

import argparse
import ast
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("matcher", "api", "scripts")


def files() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def measure() -> tuple[list[tuple[int, str]], list[tuple[int, int, str]]]:
    """(lines, file) for every file; (lines, parameters, name) for every function and class."""
    sizes: list[tuple[int, str]] = []
    defs: list[tuple[int, int, str]] = []
    for path in files():
        text = path.read_text(encoding="utf-8")
        where = str(path.relative_to(ROOT))
        sizes.append((text.count("\n"), where))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                params = 0
                if not isinstance(node, ast.ClassDef):
                    a = node.args
                    params = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs)
                defs.append((lines, params, f"{where}:{node.lineno} {node.name}"))
    return sorted(sizes, reverse=True), sorted(defs, reverse=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes, defs = measure()
    widest = sorted(defs, key=lambda d: -d[1])[: args.top]
    if args.json:
        print(
            json.dumps(
                {"files": sizes[: args.top], "definitions": defs[: args.top], "most_parameters": widest}
            )
        )
        return
    print(f"{'lines':>6}  file")
    for lines, where in sizes[: args.top]:
        print(f"{lines:6,}  {where}")
    print(f"\n{'lines':>6} {'params':>6}  function or class")
    for lines, params, where in defs[: args.top]:
        print(f"{lines:6,} {params:6}  {where}")
    print(f"\n{'params':>6}  most parameters")
    for _, params, where in widest:
        print(f"{params:6}  {where}")


if __name__ == "__main__":
    main()
