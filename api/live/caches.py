"""What a running service keeps in memory besides the index: records shown often and changed
rarely (volunteers' cards and homes, activities), and the accounts tokens name."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

from starlette.concurrency import run_in_threadpool

from matcher.store.base import Account, Store

ACCOUNT_TTL_S = 3600.0
"""How long a process trusts its last look at an account (see :meth:`Accounts.get`)."""
ACCOUNT_CACHE_SIZE = 100_000
"""Accounts a process keeps (read at start, then as tokens name them)."""

_V = TypeVar("_V")


class Shown(Generic[_V]):
    """Records kept for display, by id (:meth:`api.live.Live.remember` fills them from the snapshot):
    dropped when the record changes, read again from the store when next shown, many in one
    call. Ids the store does not know are not kept (a question about a made-up id reads the
    store again), so what is kept is bounded by the records there are."""

    def __init__(self, read: Callable[[list[str]], dict[str, _V]]) -> None:
        self._read = read
        self._kept: dict[str, _V] = {}

    def fill(self, kept: dict[str, _V]) -> None:
        self._kept = kept

    def forget(self, ident: str | None) -> None:
        if ident is None:
            self._kept = {}
        else:
            self._kept.pop(ident, None)

    def get(self, idents: list[str]) -> dict[str, _V]:
        """The records of ``idents`` the store knows, by id (those not kept are read)."""
        kept = self._kept
        missing = [i for i in idents if i not in kept]
        found = self._read(missing) if missing else {}
        kept.update(found)
        return {i: kept[i] if i in kept else found[i] for i in idents if i in kept or i in found}

    async def shown(self, idents: list[str]) -> dict[str, _V]:
        """:meth:`get` for a coroutine: in place when all are kept, else in a worker thread
        (an event loop never waits for the database)."""
        if all(i in self._kept for i in idents):
            return self.get(idents)
        return await run_in_threadpool(self.get, idents)


class Accounts:
    """The accounts tokens name, looked up at most every ``ACCOUNT_TTL_S`` seconds: every
    request checks that its token's account still exists, and that check should not cost a
    database round trip each time (a process reads the accounts when it starts, so tokens do
    not queue for the database after a restart). Accounts are removed only with their
    volunteer's erasure, which every process sees in the change log, so an erased volunteer's
    token stops working here at once and in other processes within the change log's poll; the
    time limit covers changes made around the service (by hand in the database)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._kept: dict[str, tuple[float, Account]] = {}
        self._of_volunteer: dict[str, str] = {}  # volunteer id -> account id, for erasures
        now = time.monotonic()
        for account in store.accounts(ACCOUNT_CACHE_SIZE // 2):
            self._keep(account, now)

    def cached(self, ident: str) -> Account | None:
        """The account if this process looked at it within ``ACCOUNT_TTL_S`` (None: ask
        :meth:`get`, which may wait on the store)."""
        hit = self._kept.get(ident)
        if hit is not None and time.monotonic() - hit[0] < ACCOUNT_TTL_S:
            return hit[1]
        return None

    def get(self, ident: str) -> Account | None:
        """The account, from memory if seen within ``ACCOUNT_TTL_S``, else from the store."""
        now = time.monotonic()
        hit = self._kept.get(ident)
        if hit is not None and now - hit[0] < ACCOUNT_TTL_S:
            return hit[1]
        account = self._store.get_account(ident)
        if account is not None:
            self._keep(account, now)
        return account

    def _keep(self, account: Account, now: float) -> None:
        if len(self._kept) >= ACCOUNT_CACHE_SIZE:
            self._kept.clear()
            self._of_volunteer.clear()
        self._kept[account.id] = (now, account)
        if account.volunteer_id is not None:
            self._of_volunteer[account.volunteer_id] = account.id

    def forget(self, account_id: str) -> None:
        """Drop an account whose role or organisation changed (read again when next used)."""
        self._kept.pop(account_id, None)

    def forget_volunteer(self, volunteer_id: str) -> None:
        """Drop the account of an erased volunteer."""
        ident = self._of_volunteer.pop(volunteer_id, None)
        if ident is not None:
            self._kept.pop(ident, None)


class Organisations:
    """The registry's tree, kept in memory (ids, parents, statuses: a few hundred bytes per
    organisation), so that every request knows which organisations its caller reaches without
    a database call. Replaced whole when the change log shows a change to the registry."""

    def __init__(self, links: list[tuple[str, str | None, str]]) -> None:
        self.replace(links)

    def replace(self, links: list[tuple[str, str | None, str]]) -> None:
        children: dict[str, list[str]] = {}
        for ident, parent, _ in links:
            if parent is not None:
                children.setdefault(parent, []).append(ident)
        self._parent = {ident: parent for ident, parent, _ in links}
        self._status = {ident: status for ident, _, status in links}
        self._children = children
        self._subtrees: dict[str, frozenset[str]] = {}

    def subtree(self, root: str) -> frozenset[str]:
        """The organisation and everything under it (just itself if the registry lacks it:
        activities may name organisations that were never registered)."""
        found = self._subtrees.get(root)
        if found is None:
            seen, todo = {root}, [root]
            while todo:
                for child in self._children.get(todo.pop(), ()):
                    if child not in seen:
                        seen.add(child)
                        todo.append(child)
            found = self._subtrees[root] = frozenset(seen)
        return found

    def reach(self, role: str, organisation_id: str | None) -> frozenset[str]:
        """What an account acts for: an organiser its organisation, an org admin its
        organisation's subtree (nothing while the organisation is not approved)."""
        if organisation_id is None:
            return frozenset()
        if role == "organiser":
            return frozenset({organisation_id})
        if role == "org_admin" and self._status.get(organisation_id) == "approved":
            return self.subtree(organisation_id)
        return frozenset()

    def parent(self, ident: str) -> str | None:
        return self._parent.get(ident)

    def known(self, ident: str) -> bool:
        return ident in self._parent


class Revoked:
    """Sign-in sessions ended before their access tokens expire (signing out, a copied refresh
    token), which every process refuses: loaded when the process starts and added to from the
    change log."""

    def __init__(self, sessions: list[str]) -> None:
        self._ended = set(sessions)

    def add(self, session: str) -> None:
        self._ended.add(session)

    def __contains__(self, session: object) -> bool:
        return session in self._ended
