"""The skills taxonomy: stable ids, Chinese and English labels, synonyms, parent/child links, and
the normalisation of free text to ids.

"急救", "First Aid" and "first-aid" all normalise to ``first_aid``. Skills nobody has catalogued yet
are kept, not dropped: free text that matches nothing becomes ``x:<normalised text>``, which
matches exactly the same text from someone else.

Partial credit through the hierarchy (:meth:`Taxonomy.credits_for`): holding a *narrower* skill
than the one required (a paramedic, when first aid is asked for) earns :data:`NARROWER_CREDIT` per
level; holding a *broader* one (general "medical care") earns :data:`BROADER_CREDIT` per level; a
*sibling* (nursing for first aid) earns :data:`SIBLING_CREDIT`.

The taxonomy is built from rows the shell reads (``data/skills_volunteering.csv``, curated for
volunteering and linked to ESCO; ``data/esco/skills_en.csv``, ESCO v1, © European Union, CC BY 4.0).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from matcher.model.errors import ValidationError

NARROWER_CREDIT = 0.8
BROADER_CREDIT = 0.5
SIBLING_CREDIT = 0.3
UNKNOWN_PREFIX = "x:"
MAX_SKILL_TEXT = 200

_SPACE = re.compile(r"[\s_\-/]+")


def normalise_text(text: str) -> str:
    """Case-folded, NFKC-normalised text with runs of spaces, ``_``, ``-`` and ``/`` as one space."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE.sub(" ", folded).strip()


@dataclass(frozen=True, slots=True)
class Skill:
    """One catalogued skill."""

    id: str
    en: str
    zh: str | None = None
    parents: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()
    source: str = "volmatch"


@dataclass(slots=True, eq=False, repr=False)
class Taxonomy:
    """Catalogued skills with their lookup tables. Build once, share freely (read-only after
    construction)."""

    skills: Mapping[str, Skill]
    aliases: Mapping[str, str] = field(default_factory=dict)
    _lookup: dict[str, str] = field(init=False, repr=False)
    _children: dict[str, tuple[str, ...]] = field(init=False, repr=False)
    _names: list[tuple[Skill, tuple[str, ...]]] = field(init=False, repr=False)

    def __repr__(self) -> str:  # short: tests print it with their failing examples
        return f"Taxonomy({len(self.skills):,} skills, {len(self.aliases):,} aliases)"

    def __post_init__(self) -> None:
        lookup: dict[str, str] = {}
        children: dict[str, list[str]] = {}
        names: list[tuple[Skill, tuple[str, ...]]] = []
        # Later sources never override earlier ones: curated volunteering skills win over ESCO.
        for skill in self.skills.values():
            keys = tuple(
                k
                for k in (normalise_text(t) for t in (skill.id, skill.en, skill.zh or "", *skill.synonyms))
                if k
            )
            names.append((skill, keys))
            for key in keys:
                lookup.setdefault(key, skill.id)
            for parent in skill.parents:
                if parent not in self.skills:
                    raise ValidationError(f"skills.{skill.id}.parents", f"unknown parent {parent!r}")
                children.setdefault(parent, []).append(skill.id)
        for alias, target in self.aliases.items():
            if target not in self.skills:
                raise ValidationError(f"aliases.{alias}", f"unknown target {target!r}")
            lookup.setdefault(normalise_text(alias), target)
        self._lookup = lookup
        self._children = {k: tuple(v) for k, v in children.items()}
        self._names = names

    @classmethod
    def from_rows(
        cls, curated: Iterable[Mapping[str, str]], esco: Iterable[Mapping[str, str]] = ()
    ) -> Taxonomy:
        """From CSV rows: curated rows have ``id,en,zh,parents,synonyms,esco_ids`` (lists split on
        ``|``); ESCO rows have ``id,label``. An ESCO id linked from a curated row becomes an alias
        of that row, so ``esco:<uuid>`` and its label normalise to the curated id."""
        skills: dict[str, Skill] = {}
        aliases: dict[str, str] = {}
        for row in curated:
            sid = row["id"].strip()
            skills[sid] = Skill(
                id=sid,
                en=row["en"].strip(),
                zh=(row.get("zh") or "").strip() or None,
                parents=tuple(p for p in (row.get("parents") or "").split("|") if p),
                synonyms=tuple(s.strip() for s in (row.get("synonyms") or "").split("|") if s.strip()),
            )
            for uuid in (row.get("esco_ids") or "").split("|"):
                if uuid:
                    aliases[f"esco:{uuid}"] = sid
        linked = set(aliases)
        esco_labels: dict[str, str] = {}
        for row in esco:
            eid = f"esco:{row['id'].strip()}"
            if eid in linked:
                esco_labels[row["label"]] = aliases[eid]
                continue
            skills.setdefault(eid, Skill(id=eid, en=row["label"].strip(), source="ESCO"))
        aliases.update(esco_labels)
        return cls(skills, aliases)

    def __len__(self) -> int:
        return len(self.skills)

    def __contains__(self, skill_id: object) -> bool:
        return skill_id in self.skills

    def resolve(self, text: str) -> str | None:
        """The id of a catalogued skill named by ``text`` (id, label, synonym in any language)."""
        return self._lookup.get(normalise_text(text))

    def normalise(self, text: str) -> str:
        """The skill id for free text; uncatalogued text is kept as ``x:<normalised text>``."""
        if not isinstance(text, str):
            raise ValidationError("", "a skill must be a string")
        if len(text) > MAX_SKILL_TEXT:
            raise ValidationError("", f"a skill name is at most {MAX_SKILL_TEXT} characters")
        if text.startswith(UNKNOWN_PREFIX):
            key = normalise_text(text[len(UNKNOWN_PREFIX) :])
            known = self._lookup.get(key)
            return known or (UNKNOWN_PREFIX + key if key else self._empty())
        key = normalise_text(text)
        if not key:
            self._empty()
        return self._lookup.get(key) or UNKNOWN_PREFIX + key

    @staticmethod
    def _empty() -> str:
        raise ValidationError("", "a skill must not be empty")

    def label(self, skill_id: str, lang: str = "en") -> str:
        """Human label in ``"en"`` or ``"zh"`` (falls back to English, then to the text kept)."""
        skill = self.skills.get(skill_id)
        if skill is None:
            return skill_id[len(UNKNOWN_PREFIX) :] if skill_id.startswith(UNKNOWN_PREFIX) else skill_id
        if lang == "zh" and skill.zh:
            return skill.zh
        return skill.en

    def search(self, text: str, limit: int = 20) -> list[Skill]:
        """Skills whose id, Chinese or English label or a synonym contains ``text`` (normalised),
        best first: a whole-name match, then a name starting with it, then one containing it;
        volunteering skills before ESCO's at each step; then alphabetically."""
        key = normalise_text(text)
        if not key:
            return []
        found: list[tuple[int, int, str, Skill]] = []
        for skill, names in self._names:
            if not any(key in n for n in names):
                continue
            rank = 0 if key in names else 1 if any(n.startswith(key) for n in names) else 2
            found.append((rank, skill.source != "volmatch", skill.en.casefold(), skill))
        found.sort(key=lambda f: f[:3])
        return [f[3] for f in found[:limit]]

    def parents(self, skill_id: str) -> tuple[str, ...]:
        skill = self.skills.get(skill_id)
        return skill.parents if skill else ()

    def children(self, skill_id: str) -> tuple[str, ...]:
        return self._children.get(skill_id, ())

    def covered_by(self, held: str) -> dict[str, float]:
        """Every required skill that holding ``held`` covers at least partly, with its credit (the
        inverse of :meth:`credits_for`: ``credits_for(r)[h] == covered_by(h)[r]``)."""
        return dict(_covered(self, held))

    def credits_for(self, required: str) -> dict[str, float]:
        """Every held skill that covers ``required`` at least partly, with its credit in (0, 1]."""
        return dict(_credits(self, required))


@lru_cache(maxsize=4096)
def _credits(tax: Taxonomy, required: str) -> tuple[tuple[str, float], ...]:
    credit: dict[str, float] = {required: 1.0}

    def offer(skill: str, value: float) -> None:
        if value > credit.get(skill, 0.0):
            credit[skill] = value

    frontier = [(required, 1.0)]
    while frontier:  # narrower skills, any depth
        skill, value = frontier.pop()
        for child in tax.children(skill):
            offer(child, value * NARROWER_CREDIT)
            frontier.append((child, value * NARROWER_CREDIT))
    frontier = [(required, 1.0)]
    while frontier:  # broader skills, any depth
        skill, value = frontier.pop()
        for parent in tax.parents(skill):
            offer(parent, value * BROADER_CREDIT)
            frontier.append((parent, value * BROADER_CREDIT))
    for parent in tax.parents(required):
        for sibling in tax.children(parent):
            if sibling != required:
                offer(sibling, SIBLING_CREDIT)
    return tuple(sorted(credit.items()))


@lru_cache(maxsize=4096)
def _covered(tax: Taxonomy, held: str) -> tuple[tuple[str, float], ...]:
    credit: dict[str, float] = {held: 1.0}

    def offer(skill: str, value: float) -> None:
        if value > credit.get(skill, 0.0):
            credit[skill] = value

    frontier = [(held, 1.0)]
    while frontier:  # broader requirements are covered by this narrower skill
        skill, value = frontier.pop()
        for parent in tax.parents(skill):
            offer(parent, value * NARROWER_CREDIT)
            frontier.append((parent, value * NARROWER_CREDIT))
    frontier = [(held, 1.0)]
    while frontier:  # narrower requirements are partly covered by this broader skill
        skill, value = frontier.pop()
        for child in tax.children(skill):
            offer(child, value * BROADER_CREDIT)
            frontier.append((child, value * BROADER_CREDIT))
    for parent in tax.parents(held):
        for sibling in tax.children(parent):
            if sibling != held:
                offer(sibling, SIBLING_CREDIT)
    return tuple(sorted(credit.items()))
