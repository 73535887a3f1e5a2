"""SciStarter's who-joined-what, mapped onto volmatch's model and ranked by every method.

SciStarter (a citizen-science platform) published which hashed user joined which of 84
projects, with each project's topics and whether it runs online. It is the only public record
of real people choosing volunteer activities at this scale, so it is where volmatch's ranking
is compared with the obvious alternatives (:mod:`matcher.learning.baselines`).

The mapping:

- a project is an activity; its topics are its preferred skills (``topic:<name>``) and its first
  topic its category; ``is_online`` carries over; one shift next week, room for everyone;
- a user is a volunteer; their training joins are their service history (one attended record
  per project: the past-service factor credits experience in the category) and the topics of
  those projects are their skills; available all week, online work welcome;
- users have no location in the data, so everyone (and every in-person project) stands at one
  point: distance and availability are neutral here, and the comparison is about skills,
  history and what others did. (The projects' area polygons cannot place users, so they are
  not used.)

Protocol (the dataset README's): every user with at least two joins has one join held out at
random (seeded); all projects are ranked for them, leaving out what they already joined; HR@10,
NDCG@10 and MRR with 95 % bootstrap intervals.

Methods: ``popularity``, ``content`` (topics), ``collaborative`` (TruncatedSVD),
``default`` (volmatch's ranking with the default weights), ``learned_linear`` (the weights
learned from the training joins) and ``learned`` (the boosted model on the factor parts plus two
signals a live service also has: a project's uptake and how often its joiners also joined the
user's projects). The learned models are fitted on inner splits of the training joins (one
more join held out per user with at least two, three times over), never on the test joins.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd

from matcher.learning import evaluation as ev
from matcher.learning import training as learning
from matcher.learning.baselines import Collaborative, Content, Popularity
from matcher.matching.index import MatchIndex
from matcher.matching.ranking import recommend_activities
from matcher.model.domain import (
    Activity,
    GeoPoint,
    ServiceRecord,
    Shift,
    SkillClaim,
    Volunteer,
    WeeklyWindow,
    World,
)
from matcher.model.errors import ValidationError
from matcher.model.skills import Taxonomy

K = 10
POINT = GeoPoint(40.0, -100.0)
RICH = ("uptake", "co_joined")
INNER_ROUNDS = 3
"""Inner splits of the training joins the learned models are fitted on (each holds out another
random join per user): more examples from the same training data."""
METHODS = ("popularity", "content", "collaborative", "default", "learned_linear", "learned")


def topic_skill(topic: str) -> str:
    return "topic:" + topic.strip().lower().replace(" ", "-")


def to_world(
    joins: pd.DataFrame, topics: Mapping[str, Collection[str]], online: Mapping[str, bool], as_of: date
) -> World:
    """Volunteers (from ``joins``' users, their joins as history) and activities (every project
    in ``topics`` or ``joins``) as domain objects."""
    starts = datetime.combine(as_of + timedelta(days=7), datetime.min.time(), UTC).replace(hour=10)
    items = sorted(set(map(str, joins["item"])) | set(topics))
    activities = []
    for item in items:
        skills = tuple(sorted({topic_skill(t) for t in topics.get(item, ())}))
        activities.append(
            Activity(
                id=item,
                organisation_id="scistarter",
                title=f"project {item}",
                category=skills[0].removeprefix("topic:") if skills else "general",
                timezone="UTC",
                shifts=(Shift(f"{item}-s", starts, starts + timedelta(hours=2), 100_000),),
                location=POINT,
                online=bool(online.get(item, False)),
                preferred_skills=skills,
            )
        )
    always = tuple(WeeklyWindow(d, 0, 1440) for d in range(7))
    volunteers, records = [], []
    day = as_of - timedelta(days=30)
    for user, group in joins.groupby("user", sort=True):
        mine = sorted(map(str, group["item"]))
        claims = tuple(
            SkillClaim(s) for s in sorted({topic_skill(t) for it in mine for t in topics.get(it, ())})
        )
        volunteers.append(
            Volunteer(
                id=str(user),
                name=f"user {user}",
                home=POINT,
                max_travel_km=10.0,
                skills=claims,
                availability=always,
                online_ok=True,
                timezone="UTC",
            )
        )
        records += [ServiceRecord(str(user), it, day, 2.0, True) for it in mine]
    return World(volunteers=tuple(volunteers), activities=tuple(activities), service_records=tuple(records))


def compare(
    joins: pd.DataFrame,
    topics: Mapping[str, Collection[str]],
    online: Mapping[str, bool],
    taxonomy: Taxonomy,
    *,
    as_of: date,
    seed: int = 0,
    resamples: int = 1000,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, dict[str, ev.Estimate]]:
    """Every method of :data:`METHODS` on the held-out joins: ``{method: {metric: Estimate}}``
    for ``hr_at_10``, ``ndcg_at_10`` and ``mrr`` (the intervals resample users)."""
    rng = np.random.default_rng(seed)
    joins = joins[["user", "item"]].astype(str).drop_duplicates()
    train, test = ev.leave_one_out(joins.assign(time=rng.random(len(joins))))
    relevant = ev.relevant_by_user(test)
    users = sorted(relevant)
    # What a live service could offer: the project list and what the training joins name; a
    # project seen only in held-out joins is unknown to it.
    catalogue = sorted(set(train["item"]) | set(topics))
    rankings: dict[str, list[list[str]]] = {}
    progress("baselines")
    for name, model in (
        ("popularity", Popularity(train)),
        ("content", Content(train, topics)),
        ("collaborative", Collaborative(train, components=16, seed=seed)),
    ):
        rankings[name] = [model.rank(u, len(catalogue)) for u in users]
    progress("volmatch, default weights")
    now = datetime.combine(as_of, datetime.min.time(), UTC)
    index = MatchIndex.from_world(to_world(train, topics, online, as_of), taxonomy, as_of)
    test_frame = _features(index, train, users, catalogue, now)
    rankings["default"] = _order(test_frame, test_frame["default"].to_numpy(), users)
    progress("learning from inner splits of the training joins")
    frames = []
    for round_ in range(INNER_ROUNDS):
        inner_train, inner_test = ev.leave_one_out(train.assign(time=rng.random(len(train))))
        inner_users = sorted(ev.relevant_by_user(inner_test))
        inner_index = MatchIndex.from_world(to_world(inner_train, topics, online, as_of), taxonomy, as_of)
        frame = _features(inner_index, inner_train, inner_users, catalogue, now)
        held = set(zip(inner_test["user"], inner_test["item"], strict=True))
        frame["label"] = [int((u, i) in held) for u, i in zip(frame["query"], frame["item"], strict=True)]
        frame["query"] = f"{round_}:" + frame["query"]
        frames.append(frame)
    fit_frame = pd.concat(frames, ignore_index=True)
    queries = fit_frame["query"].unique()
    fit_frame["time"] = fit_frame["query"].map({q: float(n) for n, q in enumerate(rng.permutation(queries))})
    for name, kind in (("learned_linear", "linear"), ("learned", "boosted")):
        try:
            learned = learning.fit(fit_frame, kind=kind, created=now, seed=seed, extra=RICH)
        except ValidationError as e:
            # A linear model whose every factor weighs against joining cannot rank: what a
            # live service would do then is keep the default weights, so that is what is scored.
            progress(f"{name}: {e.message}; the default weights stand in")
            rankings[name] = rankings["default"]
            continue
        rankings[name] = _order(test_frame, learned.predict(test_frame), users)
    progress("metrics and intervals")
    wanted = [relevant[u] for u in users]
    out: dict[str, dict[str, ev.Estimate]] = {}
    for name in METHODS:
        per = ev.per_query(rankings[name], wanted, K)
        out[name] = {
            "hr_at_10": ev.bootstrap(per["hit_rate"], resamples=resamples, seed=seed),
            "ndcg_at_10": ev.bootstrap(per["ndcg"], resamples=resamples, seed=seed),
            "mrr": ev.bootstrap(per["mrr"], resamples=resamples, seed=seed),
        }
    return out


SEEDS = (0, 1, 2, 3, 4)


@dataclass(frozen=True, slots=True)
class Spread:
    """One metric over several split seeds: the mean, the lowest and highest, each seed's."""

    mean: float
    low: float
    high: float
    values: tuple[float, ...]

    def to_json(self) -> dict[str, object]:
        return {"mean": round(self.mean, 4), "min": round(self.low, 4), "max": round(self.high, 4),
                "per_seed": [round(v, 4) for v in self.values]}  # fmt: skip


def compare_seeds(
    joins: pd.DataFrame,
    topics: Mapping[str, Collection[str]],
    online: Mapping[str, bool],
    taxonomy: Taxonomy,
    *,
    as_of: date,
    seeds: Sequence[int] = SEEDS,
    resamples: int = 200,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, dict[str, Spread]]:
    """:func:`compare` over several split seeds (which join is held out, the inner splits, the
    models' seeds): which split is drawn moves the figures far more than the bootstrap over
    one split's users says, so the figures to quote are the mean and range over seeds."""
    runs = []
    for n, seed in enumerate(seeds, 1):

        def said(step: str, n: int = n, seed: int = seed) -> None:
            progress(f"seed {seed} ({n}/{len(seeds)}): {step}")

        runs.append(compare(joins, topics, online, taxonomy, as_of=as_of, seed=seed, resamples=resamples,
                            progress=said))  # fmt: skip
    out: dict[str, dict[str, Spread]] = {}
    for method in METHODS:
        out[method] = {}
        for metric in runs[0][method]:
            values = tuple(run[method][metric].mean for run in runs)
            out[method][metric] = Spread(float(np.mean(values)), min(values), max(values), values)
    return out


def _features(
    index: MatchIndex, train: pd.DataFrame, users: list[str], catalogue: list[str], now: datetime
) -> pd.DataFrame:
    """One row per user and project not yet joined: the factor parts from volmatch's ranking
    (zeros where a rule excluded the pair), the default total, and the two uptake signals."""
    has = {str(u): set(map(str, g)) for u, g in train.groupby("user")["item"]}
    col = {it: j for j, it in enumerate(catalogue)}
    users_items: dict[str, list[int]] = {u: [col[i] for i in items if i in col] for u, items in has.items()}
    m = np.zeros((len(has), len(catalogue)))
    for r, cols in enumerate(users_items.values()):
        m[r, cols] = 1.0
    counts = m.sum(axis=0)
    co = m.T @ m
    np.fill_diagonal(co, 0.0)
    co = co / np.sqrt(np.outer(np.maximum(counts, 1), np.maximum(counts, 1)))
    rows: list[dict[str, object]] = []
    for u in users:
        mine = has.get(u, set())
        found = {m_.id: m_ for m_ in recommend_activities(index, u, now=now, k=len(catalogue)).matches}
        mine_cols = users_items.get(u, [])
        co_score = co[mine_cols].mean(axis=0) if mine_cols else np.zeros(len(catalogue))
        for it in catalogue:
            if it in mine:
                continue
            match = found.get(it)
            parts = dict.fromkeys(learning.FACTORS, 0.0) if match is None else dict(match.parts)
            rows.append(
                {
                    "query": u,
                    "item": it,
                    "rank": 0,
                    **parts,
                    "default": 0.0 if match is None else match.score,
                    "uptake": float(np.log1p(counts[col[it]])),
                    "co_joined": float(co_score[col[it]]),
                }
            )
    return pd.DataFrame(rows)


def _order(frame: pd.DataFrame, scores: np.ndarray, users: list[str]) -> list[list[str]]:
    """Each user's projects by descending score, ties by project id."""
    d = (
        frame[["query", "item"]]
        .assign(score=scores)
        .sort_values(["query", "score", "item"], ascending=[True, False, True], kind="stable")
    )
    by_user = {u: list(g["item"]) for u, g in d.groupby("query", sort=False)}
    return [by_user.get(u, []) for u in users]
