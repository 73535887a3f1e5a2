"""The store interface every backend implements, and the URL-based factory."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from matcher.domain import Activity, ServiceRecord, Volunteer, World
from matcher.skills import Taxonomy


class Store(Protocol):
    """Where volunteers, activities, history and bookings are kept. Writes are transactional:
    a method either does all it says or nothing."""

    def close(self) -> None: ...

    def schema_version(self) -> str: ...

    def load_world(self, world: World) -> None:
        """Insert or replace everything in ``world`` in one transaction (all or nothing)."""
        ...

    def snapshot(self) -> World:
        """Everything, as domain objects (what the index is built from)."""
        ...

    def counts(self) -> dict[str, int]: ...

    def get_volunteer(self, ident: str) -> Volunteer | None: ...

    def get_activity(self, ident: str) -> Activity | None: ...

    def upsert_volunteer(self, v: Volunteer) -> None: ...

    def upsert_activity(self, a: Activity) -> None: ...

    def delete_volunteer(self, ident: str) -> bool: ...

    def delete_activity(self, ident: str) -> bool: ...

    def add_service_record(self, r: ServiceRecord) -> None: ...


def open_store(url: str) -> Store:
    """``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or a bare file path."""
    if url.startswith(("postgresql://", "postgres://")):
        raise NotImplementedError("the PostgreSQL + PostGIS store arrives with the service issue (#3)")
    from matcher.store.sqlite import SqliteStore

    path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url
    return SqliteStore(Path(path))


def data_dir() -> Path:
    """The product's ``data/`` folder (taxonomy, attribution) beside the packages."""
    return Path(__file__).resolve().parents[2] / "data"


def load_taxonomy(directory: Path | None = None) -> Taxonomy:
    """The skills taxonomy shipped in ``data/``: curated volunteering skills plus ESCO v1."""
    import csv

    d = directory or data_dir()
    with open(d / "skills_volunteering.csv", encoding="utf-8", newline="") as f:
        curated = list(csv.DictReader(f))
    esco_path = d / "esco" / "skills_en.csv"
    esco: list[dict[str, str]] = []
    if esco_path.exists():
        with open(esco_path, encoding="utf-8", newline="") as f:
            esco = list(csv.DictReader(f))
    return Taxonomy.from_rows(curated, esco)
