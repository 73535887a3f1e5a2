"""volmatch's rankings against the baselines on SciStarter's real joins (evaluation only: the
data is never shipped; skipped where ../shared/datasets is absent, required in CI)."""

from __future__ import annotations

from datetime import date

import pytest

from matcher import scistarter
from matcher.evaluation import Estimate
from matcher.skills import Taxonomy
from matcher.store.datasets import scistarter as read_scistarter
from tests.conftest import dataset


@pytest.fixture(scope="module")
def table(taxonomy: Taxonomy) -> dict[str, dict[str, Estimate]]:
    joins, topics, online = read_scistarter(dataset("scistarter"))
    return scistarter.compare(joins, topics, online, taxonomy, as_of=date(2026, 11, 29), resamples=200)


def test_every_method_is_scored_on_every_user(table: dict[str, dict[str, Estimate]]) -> None:
    assert set(table) == set(scistarter.METHODS)
    for metrics in table.values():
        assert {e.n for e in metrics.values()} == {892}  # users with two or more joins


def test_the_learned_ranking_beats_popularity_and_the_factorisation(
    table: dict[str, dict[str, Estimate]],
) -> None:
    learned = table["learned"]
    for rival in ("popularity", "collaborative"):
        assert learned["ndcg_at_10"].low > table[rival]["ndcg_at_10"].high, rival
        assert learned["hr_at_10"].mean > table[rival]["hr_at_10"].mean, rival
        assert learned["mrr"].mean > table[rival]["mrr"].mean, rival
