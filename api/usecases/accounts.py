"""Accounts: who a token names (kept in memory, :class:`api.live.caches.Accounts`),
registration, sign-in by name, and each account's language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from api.live import Live
from api.usecases.setup import seed_registry
from matcher.demo.organisations import ROOT
from matcher.model.errors import ConflictError, NotFoundError
from matcher.store.base import Account, Store


def cached(live: Live, ident: str) -> Account | None:
    """The account, if this process looked at it lately (never waits on the database)."""
    return live.accounts.cached(ident)


def get(live: Live, ident: str) -> Account | None:
    return live.accounts.get(ident)


def find(live: Live, name: str) -> Account | None:
    return live.store.find_account(name)


def create(live: Live, account: Account) -> None:
    live.store.create_account(account)


def language(live: Live, account_id: str) -> str | None:
    return live.store.preferences.language(account_id)


def set_language(live: Live, account_id: str, language: str) -> None:
    live.store.preferences.set_language(account_id, language)


# ---------------------------------------------------------------------------- offline (a store)


DEMO_ROLES = ("admin", "analyst", "org-admin", "organiser", "volunteer")


def register(store: Store, account: Account) -> Account:
    """A new account; a volunteer account must name a stored volunteer."""
    if account.volunteer_id is not None and store.get_volunteer(account.volunteer_id) is None:
        raise NotFoundError("volunteer", account.volunteer_id)
    store.create_account(account)
    return account


def demo_accounts(store: Store, new_id: Callable[[], str]) -> list[Account]:
    """One account per role in the demo city (``demo-admin`` ...), created the first time: the
    organiser runs the first activity's organisation, the org admin its district's federation
    (and so everything under it), the volunteer is the first volunteer."""
    if store.find_account("demo-org-admin") is None:
        world = store.snapshot()
        if not world.volunteers or not world.activities:
            raise ConflictError("the store has no demo city: run 'volmatch demo' first")
        seed_registry(store, world, date(2026, 12, 1))  # a city built before the registry existed
        org, vol = world.activities[0].organisation_id, world.volunteers[0].id
        district = store.organisations.get(org).parent_id if store.organisations.link(org) else None
        for account in (
            Account(new_id(), "demo-admin", "admin"),
            Account(new_id(), "demo-analyst", "analyst"),
            Account(new_id(), "demo-org-admin", "org_admin", organisation_id=district or ROOT),
            Account(new_id(), "demo-organiser", "organiser", organisation_id=org),
            Account(new_id(), "demo-volunteer", "volunteer", volunteer_id=vol),
        ):
            if store.find_account(account.name) is None:
                store.create_account(account)
    found = [store.find_account(f"demo-{role}") for role in DEMO_ROLES]
    return [a for a in found if a is not None]
