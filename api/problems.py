"""What went wrong, in the reader's language: the API's error bodies (by ``Accept-Language``)
and the console's messages (by its language setting) say the same things.

An error keeps its machine-readable parts as they are (``loc``, and ``type``: a stable code
such as ``greater_than_equal`` or ``value_error``); only ``msg`` is in the reader's language.
Pydantic's messages are rewritten from their type and context; the core's own messages
(:class:`matcher.model.errors.ValidationError`, English) through a phrasebook of the ones people
meet, else shown in English after the field's Chinese name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

LANGUAGES = ("zh", "en")

FIELDS_ZH: dict[str, str] = {
    "lat": "纬度", "lon": "经度", "home": "住址", "location": "地点", "near": "位置 near",
    "name": "姓名", "birth_date": "出生日期", "max_travel_km": "出行距离", "skills": "技能",
    "availability": "空闲时间", "certifications": "证书", "expires": "有效期", "timezone": "时区",
    "phone": "电话", "email": "电子邮箱", "district": "区县", "address": "地址", "title": "标题",
    "category": "类别", "shifts": "班次", "start": "开始时间", "end": "结束时间",
    "capacity": "名额", "min_age": "最低年龄", "k": "数量 k", "radius_km": "搜索半径",
    "from": "起始时间 from", "to": "截止时间 to", "offset": "偏移 offset", "limit": "每页条数 limit",
    "hours": "时长", "organisation_id": "组织", "languages": "语言", "blackout_dates": "不可服务日期",
    "password": "密码", "national_id": "身份证号", "guardian": "监护人", "relationship": "关系",
    "consent_date": "同意日期", "parent_id": "上级组织", "kind": "类型", "code": "验证码", "members": "队员",
    "leader_id": "队长", "setting": "所在地",
}  # fmt: skip
"""Chinese names of the fields people type."""

_PYDANTIC_ZH: dict[str, str] = {
    "missing": "必须填写",
    "extra_forbidden": "不是可接受的字段，请删除",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "finite_number": "应为有限的数字（不能是 NaN 或无穷大）",
    "greater_than_equal": "应不小于 {ge}",
    "greater_than": "应大于 {gt}",
    "less_than_equal": "应不大于 {le}",
    "less_than": "应小于 {lt}",
    "string_too_long": "最多 {max_length} 个字符",
    "string_too_short": "至少 {min_length} 个字符",
    "too_long": "最多 {max_length} 项",
    "too_short": "至少 {min_length} 项",
    "string_type": "应为文字",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "json_invalid": "JSON 格式有误",
    "timezone_aware": "需要带时区，例如 2026-12-05T08:00:00+08:00",
    "date_parsing": "应为日期，例如 2026-12-05",
    "date_from_datetime_parsing": "应为日期，例如 2026-12-05",
    "date_type": "应为日期，例如 2026-12-05",
    "datetime_parsing": "应为时间，例如 2026-12-05T08:00:00+08:00",
    "datetime_from_date_parsing": "应为时间，例如 2026-12-05T08:00:00+08:00",
    "datetime_type": "应为时间，例如 2026-12-05T08:00:00+08:00",
    "literal_error": "应为以下之一：{expected}",
    "enum": "应为以下之一：{expected}",
}
"""Pydantic's error types, in Chinese (its context fills the braces)."""

_CORE_ZH: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), zh)
    for pattern, zh in (
        (r"^latitude (\S+) is outside \[-90, 90\]$", r"纬度 \1 超出范围：应在 -90 到 90 之间"),
        (r"^longitude (\S+) is outside \[-180, 180\]$", r"经度 \1 超出范围：应在 -180 到 180 之间"),
        (r"^(\S+) is in the future$", r"\1 是将来的日期"),
        (r"^must be from (\S+) to (\S+)(.*)$", r"应在 \1 到 \2\3 之间"),
        (r"^must be a finite distance from 0 to 20000 km$", "应为 0 到 20000 公里之间的有限距离"),
        (r"^must be positive$", "应为正数"),
        (r"^must be at least 1$", "应至少为 1"),
        (r"^must be a string$", "应为文字"),
        (r"^must be a list$", "应为列表"),
        (r"^must be an object$", "应为对象"),
        (r"^must be true or false$", "应为 true 或 false"),
        (r"^must be a time string HH:MM$", "应为时间，写作 HH:MM"),
        (r"^must be a date string YYYY-MM-DD$", "应为日期，写作 YYYY-MM-DD"),
        (r"^must be an ISO 8601 datetime string$", "应为 ISO 8601 时间，例如 2026-12-05T08:00:00+08:00"),
        (r"^must be 1 to 200 printable characters$", "应为 1 到 200 个可打印字符"),
        (r"^contains a control character.*$", "含有控制字符（如 NUL）"),
        (r"^an activity that is not online needs a location$", "线下活动需要地点"),
        (r"^give a location or a district$", "请给出地点或区县"),
        (r"^the shift has started: sign-ups are closed$", "班次已开始，报名已截止"),
        (r"^the shift has started: no more invitations$", "班次已开始，不能再邀请"),
        (r"^check-in opens an hour before the shift starts$", "签到在班次开始前一小时开放"),
        (r"^was used for a different request: use a new key$", "该幂等键已用于另一个请求，请换一个新键"),
        (r"^id '(.+)' appears more than once$", r"id '\1' 出现了不止一次"),
        (r"^(\S+) is more than (\d+) years ago; check the year$", r"\1 距今超过 \2 年，请检查年份"),
        (r"^must be between (\S+) and (\S+)(.*)$", r"应在 \1 到 \2\3 之间"),
        (r"^must be a finite number.*$", "应为有限的数字（不能是 NaN 或无穷大）"),
        (r"^must be a number$", "应为数字"),
        (r"^must be a whole number.*$", "应为整数"),
        (r"^must be after '?(\w+)'?$", r"应晚于 \1"),
        (r"^must be after the start$", "应晚于开始时间"),
        (r"^unknown skill (.+)$", r"不认识的技能 \1，请从技能表中选择"),
        (r"^unknown time zone (.+)$", r"未知时区 \1，例如 Asia/Shanghai"),
        (r"^(.+) has no UTC offset.*$", r"\1 缺少时区，例如 2026-12-05T08:00:00+08:00"),
        (r"^(.+) is not a date YYYY-MM-DD$", r"\1 不是日期，应写作 YYYY-MM-DD"),
        (r"^give 'lat,lon'.*$", "请写作“纬度,经度”，例如 near=30.25,120.14"),
        (r"^needs near=lat,lon$", "需要同时给出 near=纬度,经度"),
        (r"^must not be empty$", "不能为空"),
        (r"^must be at least (\d+) characters$", r"至少 \1 个字符"),
        (r"^must be 18 characters: 17 digits and a digit or X$", "应为 18 位：17 位数字加一位数字或 X"),
        (r"^the check character does not match: a digit is mistyped$", "校验位不符：有数字输错了"),
        (
            r"^the birth date in the number \(characters 7-14\) does not exist$",
            "号码中的出生日期（第 7–14 位）不存在",
        ),
        (
            r"^is needed \(or a national ID number, which holds it\)$",
            "必须填写（或填写身份证号，其中含出生日期）",
        ),
        (r"^does not match the birth date in the ID number$", "与身份证号中的出生日期不符"),
        (
            r"^a volunteer under 18 needs a guardian's consent on record.*$",
            "未满 18 岁的志愿者须先登记监护人同意，才能确认报名：请在个人资料中补充",
        ),
        (r"^cannot be in the future$", "不能是将来的日期"),
        (
            r"^an organisation cannot sit under itself or one of its own descendants$",
            "组织不能隶属于自己或自己的下级",
        ),
        (r"^the code is six digits$", "验证码为 6 位数字"),
        (r"^wrong code \((\d+) tries left\)$", r"验证码不正确（还可尝试 \1 次）"),
        (r"^at most (\d+) (.+)$", r"最多 \1 项"),
        (
            r"^give an ISO 8601 date or time.*$",
            "请写作 ISO 8601 日期或时间，例如 2026-12-05 或 2026-12-05T08:00:00+08:00",
        ),
    )
)
"""The core's messages people meet most, in Chinese."""


def language(accept_language: str | None, default: str = "en") -> str:
    """The first of Chinese or English the caller prefers (``Accept-Language``), else ``default``."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return default


def field_name(loc: Sequence[object], lang: str) -> str:
    """A field path as the reader knows it: ``home.lat`` in English, ``住址 纬度`` in Chinese
    (the place of the field, body or query, is left out: people do not type it)."""
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    if lang != "zh":
        return ".".join(parts)
    named = [FIELDS_ZH.get(re.sub(r"\[\d+\]$", "", p), p) for p in parts if not p.isdigit()]
    return " ".join(named)


def pydantic_message(err: Mapping[str, Any], lang: str) -> str:
    """One of pydantic's errors, its message in ``lang``."""
    message = str(err.get("msg", "")).removeprefix("Value error, ")
    if lang != "zh":
        return message
    kind = str(err.get("type", ""))
    if kind == "value_error":
        return core_message(message, lang)
    template = _PYDANTIC_ZH.get(kind)
    if template is None:
        return message
    try:
        ctx = {k: f"{v:g}" if isinstance(v, float) else v for k, v in (err.get("ctx") or {}).items()}
        return template.format(**ctx)
    except (KeyError, IndexError):
        return template


def core_message(message: str, lang: str) -> str:
    """A message of the core's (English) in ``lang``: Chinese from the phrasebook when it
    knows the message, else the English."""
    if lang != "zh":
        return message
    for pattern, zh in _CORE_ZH:
        if pattern.match(message):
            return pattern.sub(zh, message)
    return message


def field_message(loc: Sequence[object], message: str, lang: str) -> str:
    """ "出生日期：2030-01-01 是将来的日期" / "birth_date: 2030-01-01 is in the future"."""
    where = field_name(loc, lang)
    colon = "：" if lang == "zh" else ": "
    return f"{where}{colon}{message}" if where else message
