from hypothesis import given
from hypothesis import strategies as st

from matcher.model.skills import BROADER_CREDIT, NARROWER_CREDIT, SIBLING_CREDIT, Taxonomy


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


def test_search_finds_skills_in_either_language(taxonomy: Taxonomy) -> None:
    assert taxonomy.search("急救")[0].id == "first_aid"
    assert taxonomy.search("First Aid")[0].id == "first_aid"
    assert taxonomy.search("护")[0].zh is not None  # a curated skill before ESCO's
    assert taxonomy.search("   ") == [] and taxonomy.search("no such skill at all") == []
    assert len(taxonomy.search("a", limit=7)) == 7


@given(st.data())
def test_every_search_result_contains_the_text_and_whole_names_come_first(
    taxonomy: Taxonomy, data: st.DataObject
) -> None:
    from matcher.model.skills import normalise_text

    skill = taxonomy.skills[
        data.draw(st.sampled_from([*sorted(taxonomy.skills)[:500], "first_aid", "nursing"]))
    ]
    name = data.draw(st.sampled_from([n for n in (skill.en, skill.zh) if n]))
    cut = data.draw(st.integers(1, len(name)))
    text = name[:cut]
    key = normalise_text(text)
    found = taxonomy.search(text, limit=50)
    for s in found:
        assert any(key in normalise_text(n) for n in (s.id, s.en, s.zh or "", *s.synonyms))
    if key and cut == len(name) and found:
        first = found[0]
        assert key in {normalise_text(n) for n in (first.id, first.en, first.zh or "", *first.synonyms)}
