"""Opening a store by its URL: the one place that knows every backend (so that the
:class:`matcher.store.base.Store` protocol and its backends never import each other)."""

from __future__ import annotations

from matcher.store.base import Store, sqlite_file


def open_store(url: str, *, query_timeout_s: float | None = None) -> Store:
    """``postgresql://...`` (PostGIS), ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``
    or a bare file path (SQLite). With ``query_timeout_s``, a database call running longer is
    cancelled (bulk loads, migrations and snapshots excepted): what the service uses, so that
    one slow request cannot hold up the rest."""
    if url.startswith(("postgresql://", "postgres://")):
        from matcher.store.postgis import PostgisStore

        return PostgisStore(url, query_timeout_s=query_timeout_s)
    from matcher.store.sqlite import SqliteStore

    return SqliteStore(sqlite_file(url), query_timeout_s=query_timeout_s)
