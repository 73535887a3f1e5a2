"""Published demand-and-supply data, imported and analysed: the facts the issue names, checked
against computations written here straight from the raw CSV files (not through the product's
readers), and the store round trip on both stores."""

from __future__ import annotations

import pandas as pd
import pytest

from matcher.analytics import observed
from matcher.store.connect import open_store
from matcher.store.datasets import nyc_service, timebanks
from tests.conftest import dataset


def test_nyc_emergency_preparedness_is_under_viewed_against_environment() -> None:
    folder = dataset("nyc_service")
    raw = pd.read_csv(folder / "nyc-service-volunteer-opportunities.csv")
    by_hand = raw.groupby("category_desc")[["hits", "vol_requests"]].sum()
    ratio = by_hand["hits"] / by_hand["vol_requests"]
    assert ratio["Emergency Preparedness"] < ratio["Environment"] / 3  # 3.86 against 16.6 views per volunteer
    table = observed.nyc_table(nyc_service(folder)).set_index("category")
    for category, value in ratio.items():
        assert table.loc[category, "views_per_request"] == pytest.approx(value, abs=1e-3)
        assert table.loc[category, "requested"] == by_hand.loc[category, "vol_requests"]
    order = list(table.index)
    assert order.index("Emergency Preparedness") < order.index("Environment")  # least viewed first
    boroughs = observed.nyc_table(nyc_service(folder), ["borough", "month"])
    assert boroughs["requested"].sum() == raw["vol_requests"].sum()  # nothing lost, nothing twice


def _latest_parents(file: str, column: str) -> pd.Series:
    raw = pd.read_csv(dataset("timebanks") / file)
    newest = raw.groupby("timebank")["timestamp"].max()
    raw = raw[raw["timestamp"] == raw["timebank"].map(newest)]
    raw = raw[raw["cat_parent"] == "is_parent"]
    return raw.groupby(raw["category"].str.strip().str.casefold())[column].sum()


def test_timebanks_community_activities_are_asked_for_more_than_companionship() -> None:
    requests = _latest_parents("requests_by_category_2019-03-03.csv", "count_requests")
    offers = _latest_parents("offers_by_category_2019-02-10.csv", "count_offers")
    per_offer = (requests.reindex(offers.index, fill_value=0) / offers)[offers >= 20]
    assert per_offer["community activities"] > per_offer["companionship"]
    table = observed.timebank_table(timebanks(dataset("timebanks")))
    got = dict(zip(table["category"].str.casefold(), table["requests_per_offer"], strict=True))
    assert set(got) == set(per_offer.index)
    for category, value in per_offer.items():
        assert got[category] == pytest.approx(value, abs=1e-3)
    ranked = list(table["category"])
    assert ranked.index("Community Activities") < ranked.index("Companionship")


def test_imports_are_stored_whole_and_replace_the_last(db: str) -> None:
    nyc = nyc_service(dataset("nyc_service"))
    banks = timebanks(dataset("timebanks"))
    store = open_store(db)
    try:
        assert store.observations.replace("nyc-service", observed.nyc_observations(nyc)) == len(nyc)
        assert store.observations.replace("nyc-service", observed.nyc_observations(nyc)) == len(nyc)  # again
        store.observations.replace("timebanks", observed.timebank_observations(banks))
        back = observed.nyc_from_observations(store.observations.frame("nyc-service"))
        assert len(back) == len(nyc)
        pd.testing.assert_frame_equal(observed.nyc_table(back), observed.nyc_table(nyc), check_dtype=False)
        again = observed.timebank_from_observations(store.observations.frame("timebanks"))
        pd.testing.assert_frame_equal(
            observed.timebank_table(again), observed.timebank_table(banks), check_dtype=False
        )
    finally:
        store.close()
