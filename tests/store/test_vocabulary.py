"""The words defined once in ``matcher.model.vocabulary`` are the ones both databases accept: each
migration's CHECK list equals the enum's values (a new status added on one side only fails)."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

import pytest

from matcher.model.vocabulary import (
    ROLES,
    MembershipStatus,
    MessageKind,
    NoticeChannel,
    OrganisationKind,
    OrganisationStatus,
    Outcome,
    Role,
    SignupStatus,
    StationSetting,
)

MIGRATIONS = Path(__file__).resolve().parents[2] / "matcher" / "store" / "migrations"


def check_list(backend: str, table: str, column: str) -> set[str]:
    """The values of ``column``'s CHECK (... IN (...)) on ``table`` as the last migration that
    sets it leaves it: a CREATE TABLE (or a ``_new`` table rebuilt in its place on SQLite), or
    an ``ALTER TABLE ... ADD CONSTRAINT`` on PostgreSQL."""
    latest: set[str] | None = None
    for path in sorted((MIGRATIONS / backend).glob("*.sql")):
        sql = path.read_text(encoding="utf-8")
        for found in re.finditer(rf"CREATE TABLE {table}(?:_new)? \((.*?)\n\);", sql, flags=re.S):
            check = re.search(
                rf"\b{column}\b[^,]*?CHECK \({column} IN\s*\((.*?)\)\)", found.group(1), flags=re.S
            )
            assert check is not None, (path, table, column)
            latest = set(re.findall(r"'([a-z_]+)'", check.group(1)))
        for altered in re.finditer(
            rf"ALTER TABLE {table} ADD CONSTRAINT \w+\s+CHECK \({column} IN\s*\((.*?)\)\)", sql, flags=re.S
        ):
            latest = set(re.findall(r"'([a-z_]+)'", altered.group(1)))
    assert latest is not None, f"no CREATE TABLE {table} in the {backend} migrations"
    return latest


@pytest.mark.parametrize("backend", ["sqlite", "postgis"])
@pytest.mark.parametrize(
    ("table", "column", "words"),
    [
        ("signups", "status", SignupStatus),
        ("outcomes", "kind", Outcome),
        ("messages", "kind", MessageKind),
        ("deliveries", "channel", NoticeChannel),
        ("accounts", "role", Role),
        ("organisations", "kind", OrganisationKind),
        ("organisations", "status", OrganisationStatus),
        ("memberships", "status", MembershipStatus),
        ("stations", "setting", StationSetting),
    ],
)
def test_the_databases_accept_exactly_the_vocabulary(
    backend: str, table: str, column: str, words: type[StrEnum]
) -> None:
    assert check_list(backend, table, column) == {w.value for w in words}


def test_roles_are_the_enum_in_its_order() -> None:
    assert ROLES == (Role.VOLUNTEER, Role.ORGANISER, Role.ORG_ADMIN, Role.ANALYST, Role.ADMIN)
    assert all(isinstance(r, str) and r == r.value for r in ROLES)
