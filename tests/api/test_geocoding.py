"""The offline geocoder behind geopy's interface, and the per-process cache."""

from __future__ import annotations

import pytest
from geopy.geocoders.base import Geocoder

from api.geocoding import GazetteerGeocoder, Places
from matcher.model.errors import ValidationError


def test_gazetteer_is_a_geopy_geocoder_finding_names_and_places_inside_addresses() -> None:
    g = GazetteerGeocoder()
    assert isinstance(g, Geocoder)
    assert g.geocode("Xihu District").point[:2] == pytest.approx((30.2595, 120.13))
    assert g.geocode("杭州市拱墅区") == g.geocode("拱墅")
    assert g.geocode("中国浙江省杭州市滨江区江南大道").address == "滨江区"
    assert g.geocode("BROOKLYN").address == "Brooklyn"
    assert g.geocode("NY 10010") is not None
    assert g.geocode("Atlantis") is None


class Counting(Geocoder):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.inner = GazetteerGeocoder()

    def geocode(self, query: str, *, exactly_one: bool = True, timeout: object = None) -> object:
        self.calls += 1
        return self.inner.geocode(query)


def test_answers_are_cached_unknowns_too() -> None:
    counting = Counting()
    places = Places(counting, "counting")
    assert places.point("西湖区", "address") == places.point("西湖区", "address")
    for _ in range(3):
        with pytest.raises(ValidationError, match="could not find"):
            places.point("nowhere at all", "address")
    assert counting.calls == 2
