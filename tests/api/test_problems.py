"""Error messages in the reader's language (issue 21, item 3): every pydantic error type
volmatch's schemas can raise has Chinese words, filled from its context."""

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from api import problems
from api.schemas import ActivityIn, VolunteerIn


def errors_of(model: type[BaseModel], body: dict[str, Any]) -> list[Any]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    return list(caught.value.errors())


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"name": "x", "max_travel_km": 501}, "出行距离：应不大于 500"),
        ({"name": "x", "max_travel_km": "far"}, "出行距离：应为数字"),
        ({"name": "x", "max_travel_km": 5, "colour": "blue"}, "colour：不是可接受的字段，请删除"),
        ({"max_travel_km": 5}, "姓名：必须填写"),
        ({"name": "x" * 201, "max_travel_km": 5}, "姓名：最多 200 个字符"),
        ({"name": "x", "max_travel_km": 5, "home": {"lat": 91, "lon": 0}}, "住址 纬度：应不大于 90"),
        ({"name": "x", "max_travel_km": 5, "birth_date": "someday"}, "出生日期：应为日期，例如 2026-12-05"),
    ],
)
def test_pydantic_errors_read_in_chinese(body: dict[str, Any], expected: str) -> None:
    err = errors_of(VolunteerIn, body)[0]
    assert problems.field_message(err["loc"], problems.pydantic_message(err, "zh"), "zh") == expected
    english = problems.field_message(err["loc"], problems.pydantic_message(err, "en"), "en")
    assert english.isascii() or "x" * 201 in english


def test_a_naive_time_is_explained_with_an_example() -> None:
    body = {"organisation_id": "o1", "title": "t", "category": "c",
            "shifts": [{"start": "2026-12-12T08:00:00", "end": "2026-12-12T12:00:00+08:00", "capacity": 1}]}  # fmt: skip
    err = errors_of(ActivityIn, body)[0]
    assert problems.pydantic_message(err, "zh") == "需要带时区，例如 2026-12-05T08:00:00+08:00"


@pytest.mark.parametrize(
    ("message", "zh"),
    [
        ("latitude 91.0 is outside [-90, 90]", "纬度 91.0 超出范围：应在 -90 到 90 之间"),
        ("2030-01-01 is in the future", "2030-01-01 是将来的日期"),
        ("1850-01-01 is more than 120 years ago; check the year", "1850-01-01 距今超过 120 年，请检查年份"),
        ("something nobody translated", "something nobody translated"),
    ],
)
def test_core_messages_through_the_phrasebook(message: str, zh: str) -> None:
    assert problems.core_message(message, "zh") == zh
    assert problems.core_message(message, "en") == message


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "en"),
        ("", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en-GB,zh;q=0.5", "en"),
        ("fr, zh-TW", "zh"),
    ],
)
def test_the_language_is_the_first_of_chinese_or_english_asked_for(header: str | None, lang: str) -> None:
    assert problems.language(header) == lang
