"""The fast COPY line writer must write exactly what the careful one does, for any row."""

from hypothesis import given
from hypothesis import strategies as st

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
