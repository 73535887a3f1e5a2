"""Demand and supply signals from published datasets, kept in the store so that analysts and
the API read what was imported (one definition of the SQL for both stores).

Each row is one record of a source: ``area`` (borough, community), ``category``, ``period``
(a month, a snapshot), ``demand`` (volunteers requested, requests), ``supply`` (page views,
offers), ``extra`` (declared talents, where the source has them) and ``ref`` (the source's id).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pandas as pd

from matcher.store.tx import Tx

COLUMNS = ("area", "category", "period", "demand", "supply", "extra", "ref")


class Observations:
    def __init__(self, begin: Callable[[], AbstractContextManager[Tx]]) -> None:
        self._begin = begin

    def replace(self, source: str, rows: pd.DataFrame) -> int:
        """Replace everything held from ``source`` with ``rows`` (columns :data:`COLUMNS`), in
        one transaction; returns how many rows were written."""
        with self._begin() as tx:
            tx.run("DELETE FROM observations WHERE source = %s", (source,))
            for area, category, period, demand, supply, extra, ref in zip(
                *(rows[c].tolist() for c in COLUMNS), strict=True
            ):
                tx.run(
                    "INSERT INTO observations (source, area, category, period, demand, supply, extra, ref) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        source,
                        str(area),
                        str(category),
                        str(period),
                        float(demand),
                        float(supply),
                        None if extra is None or extra != extra else float(extra),
                        str(ref),
                    ),
                )
        return len(rows)

    def frame(self, source: str) -> pd.DataFrame:
        with self._begin() as tx:
            found = tx.all(
                "SELECT area, category, period, demand, supply, extra, ref FROM observations WHERE source = %s "
                "ORDER BY ref, category, area",
                (source,),
            )
        return pd.DataFrame([tuple(r) for r in found], columns=list(COLUMNS))
