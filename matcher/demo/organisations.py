"""The demo city's organisations as the association is organised, and its minors' guardians.

The registry has the city association at the
root, a federation for each district, a street station and a community station in each, and
every organisation that posts activities under the federation of the district where most of
its activities are (as a school, a company or an NGO, by a fixed rule). Deterministic: the same
world gives the same registry."""

from __future__ import annotations

from collections import Counter
from datetime import date

from matcher.demo.city import DISTRICTS
from matcher.model.domain import World
from matcher.model.vocabulary import OrganisationKind, OrganisationStatus
from matcher.operations.joining import Guardian, Organisation, is_minor

ROOT = "hz-association"
"""The city association's id."""
_POSTER_KINDS = (OrganisationKind.NGO, OrganisationKind.SCHOOL, OrganisationKind.COMPANY)


def federation_id(district_en: str) -> str:
    return "fed-" + "".join(c for c in district_en.lower() if c.isalnum())


def demo_organisations(world: World, created_s: int) -> list[Organisation]:
    """The registry, parents before children, every organisation approved."""

    def org(
        ident: str, name: str, kind: OrganisationKind, parent: str | None, district: str | None
    ) -> Organisation:
        return Organisation(ident, name, kind, parent, OrganisationStatus.APPROVED, district,
                            () if district is None else (district,), created_s=created_s, decided_s=created_s)  # fmt: skip

    found = [org(ROOT, "杭州市志愿者协会", OrganisationKind.ASSOCIATION, None, None)]
    english = {zh: en for zh, en, *_ in DISTRICTS}
    for zh, en, *_ in DISTRICTS:
        fed = federation_id(en)
        found.append(org(fed, f"{zh}志愿者联合会", OrganisationKind.DISTRICT_FEDERATION, ROOT, zh))
        street = f"{fed}-street"
        found.append(org(street, f"{zh}中心街道志愿服务站", OrganisationKind.STREET_STATION, fed, zh))
        found.append(
            org(f"{fed}-community", f"{zh}中心社区志愿服务站", OrganisationKind.COMMUNITY_STATION, street, zh)
        )
    where: dict[str, Counter[str]] = {}
    for a in world.activities:
        if a.district is not None:
            where.setdefault(a.organisation_id, Counter())[a.district] += 1
    for i, (ident, districts) in enumerate(sorted(where.items())):
        home = min(districts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        if home not in english:
            continue
        kind = _POSTER_KINDS[i % len(_POSTER_KINDS)]
        found.append(
            org(ident, f"{home}{kind_label(kind)} {ident}", kind, federation_id(english[home]), home)
        )
    return found


def kind_label(kind: OrganisationKind) -> str:
    return {
        OrganisationKind.NGO: "公益组织",
        OrganisationKind.SCHOOL: "学校",
        OrganisationKind.COMPANY: "企业",
    }.get(kind, "")


def demo_guardians(world: World, today: date) -> list[tuple[str, Guardian]]:
    """A guardian's consent on record for every volunteer under 18 on ``today`` (a parent, who
    consented a month before): the demo's young volunteers can take places as real ones would
    once their parents agreed."""
    found = []
    for i, v in enumerate(world.volunteers):
        if is_minor(v.birth_date, today):
            consented = date(today.year, today.month, 1) if today.day > 1 else today
            phone = f"+86139{i:08d}"
            found.append((v.id, Guardian(f"{v.name[:1]}家长", phone, "父母", consented)))
    return found
