"""Backups of the embedded (SQLite) database: a consistent copy taken while the service runs, and
its restoration.

``backup`` uses SQLite's online backup API: the copy is a snapshot of one moment even while
other connections write (WAL mode), page by page with progress. ``restore`` checks that the
file is a whole volmatch database (SQLite's integrity check, the migrations it records, none
newer than this version knows) and puts it in place atomically: the copy is written beside the
target and renamed over it, so a crash leaves either the old database or the new one, never half.
PostgreSQL is backed up with its own tools (``pg_dump`` / ``pg_restore``: see the README).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from matcher.model.errors import ValidationError
from matcher.store.base import sqlite_file
from matcher.store.migrations import names as migration_names

PAGES_PER_STEP = 1024
Progress = Callable[[int, int], None]


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///`` URL (or a bare path); PostgreSQL URLs are refused."""
    if url.startswith(("postgresql://", "postgres://")):
        raise ValidationError(
            "db", "PostgreSQL is backed up with pg_dump and restored with pg_restore (see the README)"
        )
    return sqlite_file(url)


def backup(
    source: Path, target: Path, *, overwrite: bool = False, progress: Progress = lambda d, t: None
) -> int:
    """Copy the database at ``source`` to ``target`` as one consistent snapshot; its size in bytes."""
    if not source.exists():
        raise ValidationError("db", f"no database at {source}")
    if target.exists() and not overwrite:
        raise ValidationError("path", f"{target} exists: choose another file or allow overwriting")
    _check(source)
    _copy(source, target, progress)
    return target.stat().st_size


def restore(
    source: Path, target: Path, *, overwrite: bool = False, progress: Progress = lambda d, t: None
) -> int:
    """Put the backup ``source`` in place as the database at ``target`` (atomically); its size."""
    if not source.exists():
        raise ValidationError("path", f"no backup at {source}")
    if target.exists() and not overwrite:
        raise ValidationError("db", f"a database exists at {target}: stop the service and allow replacing it")
    _check(source)
    _copy(source, target, progress)
    for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm")):
        leftover.unlink(missing_ok=True)  # the old database's log must not be replayed onto the new one
    return target.stat().st_size


def _check(path: Path) -> None:
    """A whole volmatch database: intact, with migrations this version knows."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            if db.execute("PRAGMA integrity_check").fetchone() != ("ok",):
                raise ValidationError("path", f"{path} is damaged (SQLite's integrity check failed)")
            applied = {r[0] for r in db.execute("SELECT name FROM schema_migrations")}
    except sqlite3.DatabaseError as e:
        raise ValidationError("path", f"{path} is not a volmatch database ({e})") from e
    unknown = applied - set(migration_names("sqlite"))
    if not applied or unknown:
        raise ValidationError(
            "path", f"{path} was written by a newer volmatch (migrations {sorted(unknown)[:3]})"
            if unknown else f"{path} is not a volmatch database (no migrations recorded)",
        )  # fmt: skip


def _copy(source: Path, target: Path, progress: Progress) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(partial) as dst:
            src.backup(
                dst, pages=PAGES_PER_STEP, progress=lambda _, left, total: progress(total - left, total)
            )
            dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
