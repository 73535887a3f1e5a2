"""Persistence adapters, the only I/O in :mod:`matcher`: the embedded SQLite store (default) and,
from the service issue on, PostgreSQL + PostGIS. Both implement :class:`matcher.store.base.Store`."""

from matcher.store.base import Store, open_store

__all__ = ["Store", "open_store"]
