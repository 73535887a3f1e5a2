from hypothesis import given
from hypothesis import strategies as st

from matcher.skills import BROADER_CREDIT, NARROWER_CREDIT, SIBLING_CREDIT, Taxonomy


def test_chinese_english_and_spelling_variants_are_one_skill(taxonomy: Taxonomy) -> None:
    assert {
        taxonomy.normalise(t) for t in ("急救", "First Aid", "first-aid", "FIRST_AID", "  first   aid ")
    } == {"first_aid"}


def test_esco_ids_and_labels_resolve(taxonomy: Taxonomy) -> None:
    assert taxonomy.normalise("esco:f7464f30-662b-4177-85a0-3df9693e9e58") == "first_aid"
    assert taxonomy.normalise("provide first aid") == "first_aid"
    assert taxonomy.normalise("manage musical staff").startswith("esco:")  # an unlinked ESCO skill
    assert len(taxonomy) > 13_000


def test_unknown_skills_are_kept(taxonomy: Taxonomy) -> None:
    assert taxonomy.normalise("Flower arranging") == "x:flower arranging"
    assert taxonomy.normalise("插花🌸") == "x:插花🌸"
    assert taxonomy.label("x:flower arranging") == "flower arranging"


def test_labels_in_both_languages(taxonomy: Taxonomy) -> None:
    assert taxonomy.label("first_aid", "zh") == "急救"
    assert taxonomy.label("first_aid", "en") == "first aid"


def test_paramedic_partially_covers_first_aid(taxonomy: Taxonomy) -> None:
    credits = taxonomy.credits_for("first_aid")
    assert credits["first_aid"] == 1.0
    assert credits["paramedic"] == NARROWER_CREDIT
    assert credits["medical"] == BROADER_CREDIT
    assert credits["nursing"] == SIBLING_CREDIT
    assert "driving" not in credits


@given(st.data())
def test_covered_by_is_the_inverse_of_credits_for(taxonomy: Taxonomy, data: st.DataObject) -> None:
    curated = sorted(s for s, k in taxonomy.skills.items() if k.source == "volmatch")
    required = data.draw(st.sampled_from(curated))
    for held, credit in taxonomy.credits_for(required).items():
        assert taxonomy.covered_by(held)[required] == credit
