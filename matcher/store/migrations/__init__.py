"""Forward-only, date-named SQL migrations of each store (``sqlite/``, ``postgis/``)."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable


def files(kind: str) -> list[Traversable]:
    """The migrations of ``kind`` ("sqlite" or "postgis"), in the order they apply."""
    return sorted(
        (f for f in resources.files(f"{__name__}.{kind}").iterdir() if f.name.endswith(".sql")),
        key=lambda f: f.name,
    )


def names(kind: str) -> list[str]:
    return [f.name for f in files(kind)]
