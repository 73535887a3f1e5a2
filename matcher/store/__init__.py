"""Persistence adapters, the only I/O in :mod:`matcher`: the embedded SQLite store (default) and
PostgreSQL + PostGIS. Both implement :class:`matcher.store.base.Store`; :func:`open_store`
opens either by its URL."""

from matcher.store.base import Store
from matcher.store.connect import open_store

__all__ = ["Store", "open_store"]
