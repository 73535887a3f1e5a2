"""Addresses and districts to coordinates, through geopy's geocoder interface.

The geocoder is a setting (``VOLMATCH_GEOCODER``): ``gazetteer`` (the default) works offline
from ``data/gazetteer.csv`` (the demo city's districts, NYC Open Data addresses, postcodes and
boroughs, see ``scripts/build_gazetteer.py``); any other name is one of geopy's services
(``nominatim``, ``baidu``, ``arcgis``, ...) with ``VOLMATCH_GEOCODER_API_KEY`` if it needs one.
Answers are cached per process. A point found this way records where it came from
(``GeoPoint.source``), and an address nobody can find is a 422 saying so.
"""

from __future__ import annotations

import csv
import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from geopy.exc import GeopyError
from geopy.geocoders import get_geocoder_for_service
from geopy.geocoders.base import Geocoder
from geopy.location import Location

from matcher.model.errors import ValidationError
from matcher.store.base import data_dir

CACHE_SIZE = 10_000
_NOISE = re.compile(r"[\s,，.。;；:：()（）\-_/#]+")
_PREFIXES = ("中国", "中华人民共和国", "浙江省", "浙江")


def _norm(text: str) -> str:
    key = _NOISE.sub(" ", text.casefold()).strip()
    for prefix in _PREFIXES:
        key = key.removeprefix(prefix).strip()
    return key


class GazetteerGeocoder(Geocoder):  # type: ignore[misc]  # geopy is untyped
    """An offline geopy geocoder over a CSV of places (name, aliases, lat, lon, kind, source):
    an exact name or alias first, else the longest known place named inside the query
    ("杭州市西湖区文三路 90 号" finds 西湖区)."""

    def __init__(self, path: Path | None = None) -> None:
        super().__init__()
        self._exact: dict[str, dict[str, str]] = {}
        with (path or data_dir() / "gazetteer.csv").open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                for alias in [row["name"], *row["aliases"].split("|")]:
                    key = _norm(alias)
                    if key and key not in self._exact:
                        self._exact[key] = row
        self._by_length = sorted(self._exact, key=len, reverse=True)

    def geocode(self, query: str, *, exactly_one: bool = True, timeout: Any = None) -> Location | None:
        key = _norm(query)
        row = self._exact.get(key)
        if row is None:
            row = next((self._exact[k] for k in self._by_length if len(k) >= 2 and k in key), None)
        if row is None:
            return None
        return Location(row["name"], (float(row["lat"]), float(row["lon"])), row)


class Places:
    """Resolves free text to a point with its source; thread-safe, with an LRU cache."""

    def __init__(self, geocoder: Geocoder, name: str) -> None:
        self.geocoder = geocoder
        self.name = name
        self._cache: OrderedDict[str, dict[str, Any] | None] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, service: str, api_key: str | None, user_agent: str) -> Places:
        if service == "gazetteer":
            return cls(GazetteerGeocoder(), service)
        kind = get_geocoder_for_service(service)
        kwargs: dict[str, Any] = {"user_agent": user_agent}
        if api_key:
            kwargs["api_key"] = api_key
        return cls(kind(**kwargs), service)

    def point(self, text: str, field: str) -> dict[str, Any]:
        """The point ``text`` names, as interchange JSON with its ``source``; a 422 if unknown."""
        text = text.strip()
        if not text:
            raise ValidationError(field, "is empty; give an address or district, or coordinates")
        with self._lock:
            hit = text in self._cache
            found = self._cache.get(text)
            if hit:
                self._cache.move_to_end(text)
        if not hit:
            try:
                location = self.geocoder.geocode(text, exactly_one=True)
            except GeopyError as e:
                raise ValidationError(field, f"the geocoder ({self.name}) could not answer: {e}") from e
            found = None if location is None else {"lat": location.latitude, "lon": location.longitude}
            with self._lock:
                self._cache[text] = found
                if len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        if found is None:
            raise ValidationError(
                field,
                f"could not find {text!r} ({self.name}); give coordinates, or a district or address it knows",
            )
        return found | {"source": f"geocoded by {self.name} from {text!r}"[:300]}


def fill_point(doc: dict[str, Any], point_field: str, places: Places) -> dict[str, Any]:
    """Resolve ``address`` (else ``district``) into ``point_field`` when no coordinates were given."""
    address = doc.pop("address", None)
    if doc.get(point_field) is not None:
        if address is not None:
            raise ValidationError("address", f"give {point_field} or address, not both")
        return doc
    if address is not None:
        doc[point_field] = places.point(address, "address")
    elif doc.get("district"):
        doc[point_field] = places.point(doc["district"], "district")
    return doc
