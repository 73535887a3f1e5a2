"""A deterministic demo city: Hangzhou, Zhejiang, with its 13 districts and counties.

Volunteers live around the real district seats (approximate coordinates), more of them in the
dense urban districts than in the mountain counties, with travel limits, weekly availability,
skills, languages and certificates drawn from distributions a city volunteer association would
recognise; activities follow the mix such an association runs (marathon and conference service,
typhoon and flood response, epidemic prevention, civilised-city campaigns, river protection,
elderly care, tutoring, rural revitalisation, community service) with the skills, ages, times and
places typical of each. Service history gives some volunteers years of regular service, most a
little, many none.

Everything is drawn from ``numpy.random.default_rng(seed)``: the same arguments give the same
city, byte for byte. The generator is vectorised and produces columns directly, so a million
volunteers take a few seconds; :meth:`DemoCity.to_world` turns (small) cities into domain objects
for the store and the interchange format.

District populations (2020 census, 10 000s, rounded) weight where volunteers live; they are only
used for that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np
from numpy.typing import NDArray

from matcher.matching.columns import (
    NO_DAY,
    ActivityColumns,
    HistoryColumns,
    Ragged,
    ShiftColumns,
    Vocabulary,
    VolunteerColumns,
)
from matcher.matching.index import MatchIndex
from matcher.model.calendar import SLOTS_PER_DAY, SLOTS_PER_WEEK, day_number, from_day_number, pack_slots
from matcher.model.domain import (
    Activity,
    Certification,
    GeoPoint,
    Need,
    ServiceRecord,
    Shift,
    SkillClaim,
    Volunteer,
    WeeklyWindow,
    World,
)
from matcher.model.geo import EARTH_RADIUS_KM
from matcher.model.skills import Taxonomy

TIMEZONE = "Asia/Shanghai"
UTC_OFFSET_S = 8 * 3600

# name_zh, name_en, lat, lon, population (10k), spread (km), urban
DISTRICTS: tuple[tuple[str, str, float, float, int, float, bool], ...] = (
    ("上城区", "Shangcheng", 30.2425, 120.1692, 132, 3.0, True),
    ("拱墅区", "Gongshu", 30.3194, 120.1420, 117, 3.0, True),
    ("西湖区", "Xihu", 30.2595, 120.1300, 114, 4.0, True),
    ("滨江区", "Binjiang", 30.2084, 120.2119, 50, 3.0, True),
    ("萧山区", "Xiaoshan", 30.1853, 120.2644, 201, 7.0, True),
    ("余杭区", "Yuhang", 30.2733, 120.0290, 123, 7.0, True),
    ("临平区", "Linping", 30.4192, 120.2995, 118, 6.0, True),
    ("钱塘区", "Qiantang", 30.3226, 120.4938, 77, 6.0, True),
    ("富阳区", "Fuyang", 30.0490, 119.9600, 83, 9.0, False),
    ("临安区", "Lin'an", 30.2336, 119.7247, 64, 10.0, False),
    ("桐庐县", "Tonglu", 29.7976, 119.6914, 45, 10.0, False),
    ("淳安县", "Chun'an", 29.6090, 119.0420, 33, 12.0, False),
    ("建德市", "Jiande", 29.4747, 119.2816, 44, 12.0, False),
)

# Weekly availability patterns: (day, start hour, end hour) windows in local time.
PATTERNS: tuple[tuple[str, tuple[tuple[int, int, int], ...]], ...] = (
    ("weekend mornings", ((5, 8, 12), (6, 8, 12))),
    ("weekend afternoons", ((5, 13, 18), (6, 13, 18))),
    ("weekday evenings", tuple((d, 18, 21) for d in range(5))),
    ("weekday daytime", tuple((d, 9, 17) for d in range(5))),
    ("saturday all day", ((5, 7, 19),)),
    ("sunday all day", ((6, 7, 19),)),
    ("flexible", tuple((d, 8, 20) for d in range(7))),
)
PATTERN_WEIGHTS = (0.30, 0.18, 0.16, 0.12, 0.10, 0.08, 0.06)

# Skills volunteers declare (beyond languages) and how common they are.
VOLUNTEER_SKILLS: tuple[tuple[str, float], ...] = (
    ("first_aid", 0.12),
    ("cpr_aed", 0.04),
    ("paramedic", 0.01),
    ("nursing", 0.03),
    ("medicine", 0.01),
    ("psych_support", 0.03),
    ("epidemic", 0.05),
    ("elderly_care", 0.10),
    ("home_visits", 0.05),
    ("disability_support", 0.02),
    ("sign_language", 0.01),
    ("childcare", 0.04),
    ("tutoring", 0.09),
    ("teaching_language", 0.03),
    ("science_outreach", 0.02),
    ("reading", 0.03),
    ("event_management", 0.03),
    ("marathon_support", 0.04),
    ("conference_support", 0.05),
    ("guiding", 0.07),
    ("crowd_management", 0.06),
    ("registration", 0.06),
    ("driving", 0.10),
    ("heavy_lifting", 0.06),
    ("food_service", 0.03),
    ("warehouse", 0.03),
    ("flood_response", 0.03),
    ("search_rescue", 0.01),
    ("water_rescue", 0.01),
    ("swimming", 0.05),
    ("fire_safety", 0.02),
    ("shelter_management", 0.01),
    ("traffic_guidance", 0.06),
    ("river_protection", 0.04),
    ("cleanup", 0.08),
    ("waste_sorting", 0.06),
    ("gardening", 0.03),
    ("civility_campaign", 0.05),
    ("policy_outreach", 0.04),
    ("mediation", 0.02),
    ("repair", 0.03),
    ("legal_advice", 0.01),
    ("agriculture", 0.02),
    ("ecommerce_sales", 0.02),
    ("it_support", 0.03),
    ("digital_literacy", 0.04),
    ("data_analysis", 0.02),
    ("social_media", 0.04),
    ("photography", 0.05),
    ("graphic_design", 0.02),
    ("performing", 0.03),
    ("writing", 0.03),
    ("volunteer_management", 0.02),
    ("administration", 0.03),
    ("customer_service", 0.03),
)
LANGUAGES: tuple[tuple[str, float], ...] = (
    ("lang_zh", 0.97),
    ("lang_wuu", 0.40),
    ("lang_en", 0.25),
    ("lang_ja", 0.02),
    ("lang_ko", 0.015),
    ("lang_fr", 0.01),
    ("lang_de", 0.008),
    ("lang_es", 0.008),
)
CERTIFIED: tuple[tuple[str, float], ...] = (
    ("first_aid", 0.6),
    ("driving", 0.8),
    ("cpr_aed", 0.7),
    ("water_rescue", 0.9),
    ("paramedic", 1.0),
)


@dataclass(frozen=True)
class CategorySpec:
    key: str
    weight: float
    required: tuple[tuple[str, float], ...]  # skill, probability an activity requires it
    preferred: tuple[tuple[str, float], ...]
    min_age: int | None
    certs: tuple[tuple[str, float], ...]
    rural: float  # share of activities in rural districts
    online: float
    hours: tuple[int, ...]  # possible local start hours
    duration: tuple[int, ...]  # possible durations in hours
    capacity: tuple[int, int]
    titles: tuple[tuple[str, str], ...]


CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec(
        "sports events",
        0.10,
        (("marathon_support", 0.3), ("first_aid", 0.15)),
        (("lang_en", 0.5), ("crowd_management", 0.4)),
        14,
        (("first_aid", 0.15),),
        0.1,
        0.0,
        (6, 7, 8, 13),
        (4, 5, 6),
        (10, 60),
        (
            ("马拉松赛道服务", "marathon course marshals"),
            ("马拉松医疗点", "marathon medical post"),
            ("亚运场馆引导", "Asian Games venue guides"),
        ),
    ),
    CategorySpec(
        "conferences",
        0.06,
        (("conference_support", 0.3),),
        (("lang_en", 0.7), ("registration", 0.4)),
        16,
        (),
        0.0,
        0.0,
        (8, 9, 13),
        (4, 8),
        (5, 40),
        (("国际会议接待", "international conference reception"), ("博览会咨询台", "expo information desk")),
    ),
    CategorySpec(
        "emergency response",
        0.07,
        (("flood_response", 0.4), ("first_aid", 0.2)),
        (("driving", 0.4), ("heavy_lifting", 0.4), ("swimming", 0.3)),
        18,
        (("first_aid", 0.1),),
        0.4,
        0.0,
        (0, 8, 14, 20),
        (4, 8, 12),
        (5, 30),
        (
            ("防台防汛值守", "typhoon and flood watch"),
            ("物资转运", "relief supplies transport"),
            ("安置点服务", "evacuation shelter support"),
        ),
    ),
    CategorySpec(
        "epidemic prevention",
        0.06,
        (("epidemic", 0.4),),
        (("registration", 0.4), ("medical", 0.2)),
        18,
        (),
        0.3,
        0.0,
        (7, 8, 13, 17),
        (3, 4, 6),
        (4, 20),
        (("社区防疫值守", "community epidemic prevention"), ("疫苗接种引导", "vaccination site guides")),
    ),
    CategorySpec(
        "civilised city",
        0.13,
        (),
        (("traffic_guidance", 0.5), ("civility_campaign", 0.5)),
        None,
        (),
        0.2,
        0.0,
        (7, 9, 16),
        (2, 3),
        (5, 30),
        (("文明交通劝导", "civilised traffic guidance"), ("文明城市创建宣传", "civilised-city campaign")),
    ),
    CategorySpec(
        "river protection",
        0.08,
        (),
        (("river_protection", 0.6), ("cleanup", 0.4)),
        None,
        (),
        0.4,
        0.0,
        (8, 9, 14),
        (2, 3, 4),
        (5, 25),
        (
            ("民间河长巡河", "river patrol"),
            ("西溪湿地清洁", "wetland clean-up"),
            ("水质监测", "water quality monitoring"),
        ),
    ),
    CategorySpec(
        "elderly care",
        0.17,
        (("elderly_care", 0.3),),
        (("home_visits", 0.4), ("lang_wuu", 0.4), ("digital_literacy", 0.3)),
        None,
        (),
        0.35,
        0.0,
        (9, 14, 18),
        (2, 3),
        (2, 12),
        (
            ("空巢老人探访", "visits to older people living alone"),
            ("智能手机助老课堂", "smartphone class for older people"),
            ("敬老院陪伴", "care-home companionship"),
        ),
    ),
    CategorySpec(
        "tutoring",
        0.12,
        (("tutoring", 0.6),),
        (("teaching_language", 0.3), ("lang_en", 0.3)),
        16,
        (),
        0.3,
        0.3,
        (9, 14, 18, 19),
        (2, 3),
        (2, 15),
        (
            ("留守儿童课业辅导", "homework help for left-behind children"),
            ("线上英语陪读", "online English reading buddies"),
            ("乡村支教", "rural teaching support"),
        ),
    ),
    CategorySpec(
        "rural revitalisation",
        0.07,
        (),
        (("agriculture", 0.4), ("ecommerce_sales", 0.4), ("photography", 0.3)),
        None,
        (),
        0.9,
        0.05,
        (8, 9, 13),
        (4, 6, 8),
        (3, 20),
        (
            ("助农直播带货", "live-stream sales for farmers"),
            ("茶园采摘帮扶", "tea harvest support"),
            ("美丽乡村摄影", "village photography"),
        ),
    ),
    CategorySpec(
        "community service",
        0.14,
        (),
        (("repair", 0.3), ("legal_advice", 0.1), ("waste_sorting", 0.3), ("mediation", 0.1)),
        None,
        (),
        0.3,
        0.02,
        (9, 14, 18),
        (2, 3, 4),
        (3, 20),
        (
            ("垃圾分类指导", "waste-sorting guidance"),
            ("便民维修服务", "neighbourhood repair stand"),
            ("社区法律咨询", "community legal advice"),
        ),
    ),
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉宇浩凯晨瑶婷欣怡佳琪梓涵子轩雨萱思远嘉怡俊杰"
)


@dataclass(frozen=True)
class DemoCity:
    """A generated city as columns plus the words to turn it into domain objects."""

    seed: int
    as_of: date
    volunteers: VolunteerColumns
    activities: ActivityColumns
    shifts: ShiftColumns
    history: HistoryColumns
    skills: Vocabulary
    categories: Vocabulary
    organisations: Vocabulary
    volunteer_district: NDArray[np.int16]
    activity_district: NDArray[np.int16]
    activity_title: NDArray[np.int16]
    history_activity: NDArray[np.int32]

    def build_index(self, taxonomy: Taxonomy) -> MatchIndex:
        """The match index of the whole city, built from its columns (the fast path)."""
        return MatchIndex.build(
            taxonomy,
            self.as_of,
            self.volunteers,
            self.activities,
            self.shifts,
            self.history,
            skills=self.skills,
            categories=self.categories,
            organisations=self.organisations,
        )

    def to_world(self) -> World:
        """Domain objects for the whole city (use for cities that fit in a store comfortably)."""
        rng = np.random.default_rng(self.seed + 1)
        v, a, s = self.volunteers, self.activities, self.shifts
        vols: list[Volunteer] = []
        surnames = rng.integers(0, len(SURNAMES), len(v))
        given1 = rng.integers(0, len(GIVEN), len(v))
        given2 = rng.integers(-len(GIVEN), len(GIVEN), len(v))
        for i in range(len(v)):
            windows = _windows_from_bits(v.avail[i])
            name = SURNAMES[surnames[i]] + GIVEN[given1[i]] + (GIVEN[given2[i]] if given2[i] >= 0 else "")
            skill_ids = [self.skills.name(c) for c in v.skills.row(i).tolist()]
            cert_codes = v.cert_skills.row(i).tolist()
            cert_exp = v.cert_expiry[v.cert_skills.indptr[i] : v.cert_skills.indptr[i + 1]].tolist()
            district = DISTRICTS[int(self.volunteer_district[i])]
            vols.append(
                Volunteer(
                    id=v.ids[i],
                    name=name,
                    home=GeoPoint(round(float(v.lat[i]), 6), round(float(v.lon[i]), 6)),
                    max_travel_km=float(v.max_travel_km[i]),
                    skills=tuple(SkillClaim(sk) for sk in skill_ids if not sk.startswith("lang_")),
                    languages=tuple(sk[5:] for sk in skill_ids if sk.startswith("lang_")),
                    birth_date=from_day_number(int(v.birth_day[i])),
                    timezone=TIMEZONE,
                    availability=windows,
                    blackout_dates=tuple(from_day_number(d) for d in v.blackout.row(i).tolist()),
                    certifications=tuple(
                        Certification(self.skills.name(c), None if e == NO_DAY else from_day_number(e))
                        for c, e in zip(cert_codes, cert_exp, strict=True)
                    ),
                    online_ok=bool(v.online_ok[i]),
                    district=district[0],
                    phone=f"1{rng.integers(30, 90)}{rng.integers(0, 10**8):08d}",
                    email=f"{v.ids[i]}@example.org",
                )
            )
        shifts_by_act: dict[int, list[Shift]] = {}
        for j in range(len(s)):
            shifts_by_act.setdefault(int(s.activity[j]), []).append(
                Shift(
                    s.ids[j],
                    datetime.fromtimestamp(int(s.starts_s[j]), UTC).astimezone(_CST),
                    datetime.fromtimestamp(int(s.ends_s[j]), UTC).astimezone(_CST),
                    int(s.capacity[j]),
                )
            )
        acts: list[Activity] = []
        for i in range(len(a)):
            spec = CATEGORIES[int(a.category[i])]
            district = DISTRICTS[int(self.activity_district[i])]
            zh, en = spec.titles[int(self.activity_title[i])]
            online = bool(a.online[i])
            acts.append(
                Activity(
                    id=a.ids[i],
                    organisation_id=self.organisations.name(int(a.organisation[i])),
                    title=f"{district[0]}{zh}",
                    description=f"{district[1]}: {en}",
                    category=spec.key,
                    timezone=TIMEZONE,
                    shifts=tuple(sorted(shifts_by_act.get(i, ()), key=lambda x: (x.starts_at, x.id))),
                    location=None
                    if online
                    else GeoPoint(round(float(a.lat[i]), 6), round(float(a.lon[i]), 6)),
                    online=online,
                    required_skills=tuple(self.skills.name(c) for c in a.required.row(i).tolist()),
                    preferred_skills=tuple(self.skills.name(c) for c in a.preferred.row(i).tolist()),
                    min_age=None if a.min_age[i] < 0 else int(a.min_age[i]),
                    required_certifications=tuple(
                        self.skills.name(c) for c in a.required_certs.row(i).tolist()
                    ),
                    district=district[0],
                )
            )
        h = self.history
        records = tuple(
            ServiceRecord(
                volunteer_id=v.ids[int(h.volunteer[j])],
                activity_id=a.ids[int(self.history_activity[j])],
                date=from_day_number(int(h.day[j])),
                hours=float(h.hours[j]),
                attended=bool(h.attended[j]),
            )
            for j in range(len(h))
        )
        return World(tuple(vols), tuple(acts), records)


_CST = timezone(timedelta(hours=8))


def _windows_from_bits(words: NDArray[np.uint64]) -> tuple[WeeklyWindow, ...]:
    bits = (
        ((words[:, None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1))
        .reshape(-1)[:SLOTS_PER_WEEK]
        .astype(bool)
    )
    out: list[WeeklyWindow] = []
    s = 0
    while s < SLOTS_PER_WEEK:
        if bits[s]:
            e = s
            while e < SLOTS_PER_WEEK and bits[e] and (e == s or e % SLOTS_PER_DAY != 0):
                e += 1
            day, start = divmod(s, SLOTS_PER_DAY)
            out.append(WeeklyWindow(day, start * 30, start * 30 + (e - s) * 30))
            s = e
        else:
            s += 1
    return tuple(out)


def _pattern_words() -> NDArray[np.uint64]:
    out = np.zeros((len(PATTERNS), 6), dtype=np.uint64)
    for p, (_, windows) in enumerate(PATTERNS):
        slots = np.zeros(SLOTS_PER_WEEK, dtype=bool)
        for day, h0, h1 in windows:
            slots[day * SLOTS_PER_DAY + 2 * h0 : day * SLOTS_PER_DAY + 2 * h1] = True
        out[p] = pack_slots(slots)
    return out


def _scatter_points(
    rng: np.random.Generator, district: NDArray[np.int16]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Points spread around each one's district centre, inside that district: the districts are
    the Voronoi cells of the centres in degrees within ``CITY_BOUNDS`` (``data/districts.geojson``),
    so a point outside the box or nearer another district's centre is drawn again (a point labelled 萧山区 lies there)."""
    d = np.array([(x[2], x[3], x[5]) for x in DISTRICTS])
    lat0, lon0, sigma = d[district, 0], d[district, 1], d[district, 2]
    n = district.shape[0]
    km_per_deg = np.pi * EARTH_RADIUS_KM / 180.0
    lat, lon = lat0.copy(), lon0.copy()
    todo = np.arange(n)
    for _ in range(MAX_DRAWS):
        dy = rng.normal(0.0, 1.0, todo.shape[0]) * sigma[todo]
        dx = rng.normal(0.0, 1.0, todo.shape[0]) * sigma[todo]
        lat[todo] = lat0[todo] + dy / km_per_deg
        lon[todo] = lon0[todo] + dx / (km_per_deg * np.cos(np.radians(lat0[todo])))
        south, west, north, east = CITY_BOUNDS
        outside = (lat[todo] < south) | (lat[todo] > north) | (lon[todo] < west) | (lon[todo] > east)
        todo = todo[outside | (nearest_district(lat[todo], lon[todo]) != district[todo])]
        if todo.shape[0] == 0:
            break
    lat[todo], lon[todo] = lat0[todo], lon0[todo]  # never in practice: the centre itself
    return lat, lon


MAX_DRAWS = 100
CITY_BOUNDS = (29.2, 118.8, 30.6, 120.75)
"""South, west, north, east: the box ``data/districts.geojson`` clips the districts to."""


def nearest_district(lat: NDArray[np.float64], lon: NDArray[np.float64]) -> NDArray[np.intp]:
    """The district (index into ``DISTRICTS``) whose Voronoi cell, in degrees, holds each point."""
    centres = np.array([(x[2], x[3]) for x in DISTRICTS])
    d2 = (lat[:, None] - centres[None, :, 0]) ** 2 + (lon[:, None] - centres[None, :, 1]) ** 2
    nearest: NDArray[np.intp] = np.argmin(d2, axis=1)
    return nearest


def _pick_lists(
    rng: np.random.Generator,
    n: int,
    table: tuple[tuple[str, float], ...],
    vocab: Vocabulary,
    extra: NDArray[np.float64] | None = None,
) -> Ragged:
    """Independent Bernoulli draws per (row, item) -> CSR lists of codes (row-major)."""
    probs = np.array([p for _, p in table])
    codes = np.array([vocab.code(s) for s, _ in table], dtype=np.int32)
    hits = rng.random((n, len(table)), dtype=np.float32) < (
        probs if extra is None else probs * extra[:, None]
    )
    rows, cols = np.nonzero(hits)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return Ragged(indptr, codes[cols])


def generate_city(
    n_volunteers: int = 20_000,
    n_activities: int = 1_500,
    n_records: int = 100_000,
    *,
    seed: int = 7,
    as_of: date = date(2026, 12, 1),
) -> DemoCity:
    """Generate the demo city; see the module docstring. ``as_of`` is "today" in the city:
    shifts start in the 60 days after it, service history lies in the two years before it."""
    if min(n_volunteers, n_activities, n_records) < 0:
        raise ValueError("counts must be non-negative")
    rng = np.random.default_rng(seed)
    skills = Vocabulary()
    categories = Vocabulary([c.key for c in CATEGORIES])
    organisations = Vocabulary()
    pop = np.array([x[4] for x in DISTRICTS], dtype=np.float64)
    urban = np.array([x[6] for x in DISTRICTS])

    # ---- volunteers
    n = n_volunteers
    district = rng.choice(len(DISTRICTS), size=n, p=pop / pop.sum()).astype(np.int16)
    lat, lon = _scatter_points(rng, district)
    travel_urban = rng.choice([3, 5, 8, 10, 15, 20], size=n, p=[0.10, 0.25, 0.20, 0.25, 0.12, 0.08])
    travel_rural = rng.choice([5, 10, 15, 20, 30], size=n, p=[0.10, 0.25, 0.25, 0.25, 0.15])
    travel = np.where(urban[district], travel_urban, travel_rural).astype(np.float32)
    words = _pattern_words()
    first = rng.choice(len(PATTERNS), size=n, p=PATTERN_WEIGHTS)
    second = rng.choice(len(PATTERNS), size=n, p=PATTERN_WEIGHTS)
    avail = words[first] | np.where((rng.random(n) < 0.45)[:, None], words[second], np.uint64(0))
    ages = np.clip(
        rng.choice([19.0, 30.0, 45.0, 63.0], size=n, p=[0.35, 0.25, 0.2, 0.2]) + rng.normal(0, 6, n), 14, 80
    )
    birth = (day_number(as_of) - (ages * 365.25)).astype(np.int32)
    skill_rows = _pick_lists(rng, n, VOLUNTEER_SKILLS + LANGUAGES, skills)
    # Certificates: a share of the holders of each certifiable skill, with expiry dates spread
    # from a year ago (expired) to three years ahead.
    cert_lists_rows: list[NDArray[np.int32]] = []
    cert_lists_codes: list[NDArray[np.int32]] = []
    owners = skill_rows.owners()
    for name, share in CERTIFIED:
        code = skills.code(name)
        holders = owners[skill_rows.values == code]
        chosen = holders[rng.random(holders.shape[0]) < share]
        cert_lists_rows.append(chosen)
        cert_lists_codes.append(np.full(chosen.shape[0], code, dtype=np.int32))
    c_rows = np.concatenate(cert_lists_rows)
    c_codes = np.concatenate(cert_lists_codes)
    order = np.argsort(c_rows, kind="stable")
    c_rows, c_codes = c_rows[order], c_codes[order]
    c_indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(c_rows, minlength=n), out=c_indptr[1:])
    offsets = rng.integers(-365, 3 * 365, size=(c_rows.shape[0],), dtype=np.int64)
    c_expiry = (offsets + day_number(as_of)).astype(np.int32)
    has_blackout = rng.random(n) < 0.05
    b_count = np.where(has_blackout, rng.integers(1, 4, n), 0)
    b_indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(b_count, out=b_indptr[1:])
    b_sorted = np.sort(
        (day_number(as_of) + rng.integers(1, 60, int(b_indptr[-1]))).astype(np.int32)
        + (np.repeat(np.arange(n), b_count) * 1000).astype(np.int32)
    ) - (np.repeat(np.arange(n), b_count) * 1000).astype(np.int32)
    b_days = _unique_per_row(b_indptr, b_sorted)
    vols = VolunteerColumns(
        ids=[f"v{i:07d}" for i in range(n)],
        lat=lat,
        lon=lon,
        max_travel_km=travel,
        birth_day=birth,
        tz=np.zeros(n, dtype=np.int16),
        avail=avail,
        online_ok=rng.random(n) < 0.3,
        skills=skill_rows,
        cert_skills=Ragged(c_indptr, c_codes),
        cert_expiry=c_expiry,
        blackout=b_days,
        zones=[TIMEZONE],
        district=district.astype(np.int32),
        districts=[d[0] for d in DISTRICTS],
    )

    # ---- activities
    m = n_activities
    cat = rng.choice(
        len(CATEGORIES),
        size=m,
        p=np.array([c.weight for c in CATEGORIES]) / sum(c.weight for c in CATEGORIES),
    ).astype(np.int32)
    rural_share = np.array([c.rural for c in CATEGORIES])[cat]
    go_rural = rng.random(m) < rural_share
    urban_p = np.where(urban, pop, 0.0)
    rural_p = np.where(~urban, pop, 0.0)
    a_district = np.where(
        go_rural,
        rng.choice(len(DISTRICTS), size=m, p=rural_p / rural_p.sum()),
        rng.choice(len(DISTRICTS), size=m, p=urban_p / urban_p.sum()),
    ).astype(np.int16)
    a_lat, a_lon = _scatter_points(rng, a_district)
    online = rng.random(m) < np.array([c.online for c in CATEGORIES])[cat]
    a_lat[online] = np.nan
    a_lon[online] = np.nan
    n_orgs = max(1, m // 8)
    org_names = [f"o{i:05d}" for i in range(n_orgs)]
    for name in org_names:
        organisations.code(name)
    org = (rng.integers(0, n_orgs, m)).astype(np.int32)
    required_lists, preferred_lists, cert_lists = [], [], []
    min_age = np.full(m, -1, dtype=np.int16)
    title = np.zeros(m, dtype=np.int16)
    draws = rng.random((m, 8))
    for i in range(m):
        spec = CATEGORIES[int(cat[i])]
        required_lists.append([skills.code(s) for j, (s, p) in enumerate(spec.required) if draws[i, j] < p])
        preferred_lists.append(
            [skills.code(s) for j, (s, p) in enumerate(spec.preferred) if draws[i, 4 + j % 4] < p]
        )
        cert_lists.append(
            [
                skills.code(s)
                for s, p in spec.certs
                if draws[i, 3] < p and skills.code(s) in required_lists[-1]
            ]
        )
        if spec.min_age is not None:
            min_age[i] = spec.min_age
        title[i] = int(draws[i, 7] * len(spec.titles))
    acts = ActivityColumns(
        ids=[f"a{i:06d}" for i in range(m)],
        organisation=org,
        category=cat,
        lat=a_lat,
        lon=a_lon,
        online=online,
        tz=np.zeros(m, dtype=np.int16),
        min_age=min_age,
        required=Ragged.from_lists(required_lists),
        preferred=Ragged.from_lists(preferred_lists),
        required_certs=Ragged.from_lists(cert_lists),
        zones=[TIMEZONE],
        district=a_district.astype(np.int32),
        districts=[d[0] for d in DISTRICTS],
    )

    # ---- shifts: 1-6 per activity within the next 60 days, at the category's usual hours
    n_shifts = rng.integers(1, 7, m)
    s_act = np.repeat(np.arange(m, dtype=np.int32), n_shifts)
    k = s_act.shape[0]
    day0 = day_number(as_of) + rng.integers(1, 55, m)
    s_day = day0[s_act] + rng.integers(0, 6, k)
    hours_tab = [np.array(c.hours) for c in CATEGORIES]
    dur_tab = [np.array(c.duration) for c in CATEGORIES]
    pick = rng.random((k, 2))
    s_cat = cat[s_act]
    start_h = np.array(
        [
            hours_tab[c][int(p * len(hours_tab[c]))]
            for c, p in zip(s_cat.tolist(), pick[:, 0].tolist(), strict=True)
        ]
    )
    dur_h = np.array(
        [
            dur_tab[c][int(p * len(dur_tab[c]))]
            for c, p in zip(s_cat.tolist(), pick[:, 1].tolist(), strict=True)
        ]
    )
    starts = s_day.astype(np.int64) * 86400 + start_h * 3600 - UTC_OFFSET_S
    cap_lo = np.array([c.capacity[0] for c in CATEGORIES])[s_cat]
    cap_hi = np.array([c.capacity[1] for c in CATEGORIES])[s_cat]
    shifts = ShiftColumns(
        ids=[f"s{i:07d}" for i in range(k)],
        activity=s_act,
        starts_s=starts.astype(np.int64),
        ends_s=(starts + dur_h * 3600).astype(np.int64),
        capacity=(cap_lo + (rng.random(k) * (cap_hi - cap_lo + 1)).astype(np.int64)).astype(np.int32),
    )

    # ---- service history: regulars serve often, most a little, many never
    r = n_records
    if n and m and r:
        activity_level = rng.gamma(0.5, 1.0, n)
        p = activity_level / activity_level.sum()
        h_vol = rng.choice(n, size=r, p=p).astype(np.int32)
        reliability = rng.beta(9.0, 1.0, n)
        # Mostly activities in the volunteer's own district.
        by_district = [np.flatnonzero(a_district == d) for d in range(len(DISTRICTS))]
        local = rng.random(r) < 0.75
        h_act = rng.integers(0, m, r).astype(np.int32)
        for d, members in enumerate(by_district):
            sel = local & (district[h_vol] == d)
            if members.size and sel.any():
                h_act[sel] = members[rng.integers(0, members.size, int(sel.sum()))]
        attended = rng.random(r) < reliability[h_vol]
        hours = np.where(
            attended, rng.choice([2.0, 3.0, 4.0, 6.0, 8.0], size=r, p=[0.3, 0.3, 0.25, 0.1, 0.05]), 0.0
        )
        history = HistoryColumns(
            volunteer=h_vol,
            category=cat[h_act],
            organisation=org[h_act],
            day=(day_number(as_of) - rng.integers(1, 730, r)).astype(np.int32),
            hours=hours.astype(np.float32),
            attended=attended,
        )
    else:
        h_act = np.zeros(0, np.int32)
        history = HistoryColumns(
            *(np.zeros(0, t) for t in (np.int32, np.int32, np.int32, np.int32, np.float32, bool))
        )
    return DemoCity(
        seed,
        as_of,
        vols,
        acts,
        shifts,
        history,
        skills,
        categories,
        organisations,
        district,
        a_district,
        title,
        h_act,
    )


def _unique_per_row(indptr: NDArray[np.int64], values: NDArray[np.int32]) -> Ragged:
    """Drop repeated values within each row of sorted-per-row CSR lists."""
    n = indptr.shape[0] - 1
    owner = np.repeat(np.arange(n), np.diff(indptr))
    keep = np.ones(values.shape[0], dtype=bool)
    keep[1:] = ~((values[1:] == values[:-1]) & (owner[1:] == owner[:-1]))
    new_indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner[keep], minlength=n), out=new_indptr[1:])
    return Ragged(new_indptr, values[keep].astype(np.int32))


NEED_HOURS = (9, 14, 19)


def demo_needs(city: DemoCity, n: int, *, seed: int, weeks: int = 4) -> list[Need]:
    """``n`` open needs posted by the city's communities over the ``weeks`` after its today: a
    category and its usual skills, a district (rural districts post the rural kinds more), a
    two-hour slot at 09:00, 14:00 or 19:00 local time, 2-11 volunteers, 5-199 people, urgency.
    Some repeat weekly to the end of the period."""
    rng = np.random.default_rng(seed + 3)
    pop = np.array([d[4] for d in DISTRICTS], dtype=np.float64)
    out = []
    for i in range(n):
        spec = CATEGORIES[int(rng.integers(len(CATEGORIES)))]
        rural = (
            np.array([not d[6] for d in DISTRICTS])
            if rng.random() < spec.rural
            else np.ones(len(DISTRICTS), bool)
        )
        weights = pop * rural
        where = DISTRICTS[int(rng.choice(len(DISTRICTS), p=weights / weights.sum()))]
        district = where[0]
        day = city.as_of + timedelta(days=int(rng.integers(7 * weeks)))
        hour = int(rng.choice(NEED_HOURS))
        start = datetime(day.year, day.month, day.day, hour, tzinfo=timezone(timedelta(seconds=UTC_OFFSET_S)))
        repeat = rng.random() < 0.3
        out.append(
            Need(
                id=f"n{i:05d}",
                organisation_id="community-" + "".join(c for c in where[1].lower() if c.isalnum()),
                category=spec.key,
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                skills=tuple(s for s, _ in spec.required[:1]),
                district=district,
                weekly_until=city.as_of + timedelta(weeks=weeks) if repeat else None,
                volunteers_needed=int(rng.integers(2, 12)),
                people_affected=int(rng.integers(5, 200)),
                urgency=str(rng.choice(["low", "normal", "high", "urgent"], p=[0.2, 0.5, 0.2, 0.1])),
                description=f"{district} {spec.titles[0][0]}",
            )
        )
    return out
