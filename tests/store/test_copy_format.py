"""The fast COPY line writer must write exactly what the careful one does, for any row."""

from datetime import date
from typing import Any

from hypothesis import given, reject
from hypothesis import strategies as st

from matcher.model.domain import GeoPoint, SkillClaim, Volunteer, WeeklyWindow
from matcher.model.errors import ValidationError
from matcher.store import postgis

FIELD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(),
    st.text(alphabet="\\\t\n\r ab新"),
)


@given(st.tuples(FIELD, FIELD, FIELD, FIELD, FIELD))
def test_fast_copy_line_equals_the_careful_one(row: tuple[object, ...]) -> None:
    assert postgis._copy_line(row) == "\t".join(map(postgis._copy_field, row)) + "\n"


def test_copy_field_escapes_what_copy_reads_as_syntax() -> None:
    assert postgis._copy_field("a\tb\nc\\d\re") == "a\\tb\\nc\\\\d\\re"
    assert postgis._copy_field(None) == "\\N"
    assert postgis._copy_field(True) == "t"


TEXT = st.one_of(st.text(max_size=8), st.text(alphabet="\\\t\n\r ab新", max_size=8))


@given(
    name=TEXT,
    district=st.none() | TEXT,
    phone=st.none() | TEXT,
    skill=st.sampled_from(["first_aid", 'say "hi"', "tab\there"]),
    home=st.none() | st.tuples(st.floats(-90, 90), st.floats(-180, 180)),
    birth=st.none() | st.dates(min_value=date(1900, 1, 1), max_value=date(2010, 1, 1)),
    travel=st.floats(0, 500),
)
def test_a_volunteers_copy_line_holds_the_fields_of_their_row(**fields: Any) -> None:
    try:
        v = volunteer(**fields)
    except ValidationError:
        reject()  # text the domain refuses (control characters) never reaches a store
    assert postgis._volunteer_copy_line(v) == postgis._copy_line(postgis._volunteer_copy_row(v))


def volunteer(
    name: str,
    district: str | None,
    phone: str | None,
    skill: str,
    home: tuple[float, float] | None,
    birth: date | None,
    travel: float,
) -> Volunteer:
    return Volunteer(
        id="v1",
        name=name,
        home=None if home is None else GeoPoint(*home, source="geocoded"),
        max_travel_km=travel,
        birth_date=birth,
        district=district,
        phone=phone,
        skills=(SkillClaim(skill),),
        languages=("zh", "en"),
        availability=(WeeklyWindow(5, 540, 720),),
    )
