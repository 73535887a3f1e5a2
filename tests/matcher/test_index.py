"""Index lookups against plain Python over the same volunteers."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.domain import World
from matcher.index import MatchIndex
from matcher.skills import Taxonomy
from tests.conftest import AS_OF, activity, volunteer

SKILLS = ("first_aid", "paramedic", "driving", "lang_en", "cpr_aed", "elderly_care")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.sampled_from(SKILLS), max_size=4, unique=True), min_size=1, max_size=12))
def test_best_credits_match_the_taxonomy(taxonomy: Taxonomy, held: list[list[str]]) -> None:
    vols = tuple(volunteer(f"v{i}", skills=tuple(s)) for i, s in enumerate(held))
    index = MatchIndex.from_world(World(vols, (activity(),)), taxonomy, AS_OF)
    wanted = ["first_aid", "driving"]
    tables = [index.credit_table(index.skills.code(w)) for w in wanted]
    rows = np.array([index.volunteer_row(v.id) for v in vols][::-1], dtype=np.int32)
    got = index.best_credits(rows, tables)
    for j, w in enumerate(wanted):
        credits = taxonomy.credits_for(w)
        expected = [max((credits.get(s, 0.0) for s in held[i]), default=0.0) for i in range(len(vols))][::-1]
        assert got[j].tolist() == [float(np.float32(e)) for e in expected]
