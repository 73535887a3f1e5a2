"""The words defined once in ``matcher.model.vocabulary`` are the ones both databases accept: each
migration's CHECK list equals the enum's values (a new status added on one side only fails)."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

import pytest

from matcher.model.vocabulary import ROLES, MessageKind, Outcome, Role, SignupStatus

MIGRATIONS = Path(__file__).resolve().parents[2] / "matcher" / "store" / "migrations"


def check_list(backend: str, table: str, column: str) -> set[str]:
    """The values of ``column``'s CHECK (... IN (...)) in ``table``'s CREATE TABLE."""
    for path in sorted((MIGRATIONS / backend).glob("*.sql")):
        sql = path.read_text(encoding="utf-8")
        found = re.search(rf"CREATE TABLE {table} \((.*?)\n\);", sql, flags=re.S)
        if found is None:
            continue
        check = re.search(rf"\b{column}\b[^,]*?CHECK \({column} IN\s*\((.*?)\)\)", found.group(1), flags=re.S)
        assert check is not None, (path, table, column)
        return set(re.findall(r"'([a-z_]+)'", check.group(1)))
    raise AssertionError(f"no CREATE TABLE {table} in the {backend} migrations")


@pytest.mark.parametrize("backend", ["sqlite", "postgis"])
@pytest.mark.parametrize(
    ("table", "column", "words"),
    [("signups", "status", SignupStatus), ("outcomes", "kind", Outcome), ("messages", "kind", MessageKind)],
)
def test_the_databases_accept_exactly_the_vocabulary(
    backend: str, table: str, column: str, words: type[StrEnum]
) -> None:
    assert check_list(backend, table, column) == {w.value for w in words}


def test_roles_are_the_enum_in_its_order() -> None:
    assert ROLES == (Role.VOLUNTEER, Role.ORGANISER, Role.ANALYST, Role.ADMIN)
    assert all(isinstance(r, str) and r == r.value for r in ROLES)
