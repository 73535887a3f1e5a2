"""Learning from what followed a recommendation: outcomes reported (views, ratings), training
a model on the feedback log, the stored models, and which one ranks (in every process, through
the change log). Training and choosing a model work on a store alone (``volmatch train``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from api.live import Live
from matcher.learning import training
from matcher.learning.training import Model
from matcher.model.calendar import epoch_seconds
from matcher.model.errors import ConflictError
from matcher.model.vocabulary import SignupStatus
from matcher.store.base import Store


def record_outcome(
    live: Live,
    kind: str,
    volunteer_id: str,
    shift_id: str,
    at: datetime,
    value: float | None,
    account_id: str,
) -> None:
    """A view or a rating; a rating only for someone who held a place on the shift."""
    if kind == "rating":
        roster = live.store.ops.roster(shift_id, epoch_seconds(at), live.policy)
        held = {s.volunteer_id for s in roster if s.status in (SignupStatus.CONFIRMED, SignupStatus.NO_SHOW)}
        if volunteer_id not in held:
            raise ConflictError(f"volunteer {volunteer_id!r} held no place on shift {shift_id!r}")
    live.store.feedback.record(kind, volunteer_id, shift_id, at.timestamp(), value, account_id)


def models(live: Live) -> dict[str, Any]:
    """Every stored model, newest first, and the version ranking now."""
    return {"active": live.model_version, "models": stored_models(live.store)}


def activate(live: Live, version: str | None) -> str:
    """Rank with the stored model ``version`` (None: the default weights) in every process;
    returns the version now active here."""
    activate_stored(live.store, version)
    live.refresh(force=True)
    return live.model_version


def flush(live: Live) -> int:
    """Write the answers served so far to the feedback log (before reading it)."""
    return live.feedback.flush()


# ---------------------------------------------------------------------------- offline (a store)


def train(
    store: Store,
    *,
    kind: str,
    since_s: float | None,
    until_s: float | None,
    seed: int,
    created: datetime,
    activate: bool,
    progress: Callable[[str], object] = lambda step: None,
) -> Model:
    """Fit a ranking model on the feedback log (answers served and what followed, within the
    range), store it with its version, training range and test metrics, and (``activate``)
    rank with it in every process."""
    progress("reading the feedback log")
    served, outcomes = store.feedback.frames(since_s, until_s)
    progress(f"fitting a {kind} model on {len(served):,} examples")
    model = training.fit(training.examples(served, outcomes), kind=kind, created=created, seed=seed)
    store.feedback.save_model(model, created.timestamp())
    if activate:
        store.feedback.activate(model.version)
    return model


def stored_models(store: Store) -> list[dict[str, Any]]:
    """Every stored model, newest first, each saying whether it ranks now."""
    return store.feedback.models()


def activate_stored(store: Store, version: str | None) -> None:
    """Rank with ``version`` (None: the default weights) in every serving process."""
    store.feedback.activate(version)
