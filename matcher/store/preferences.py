"""Each account's own choices in the web console (its language): one SQL for both stores."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from matcher.model.errors import ValidationError
from matcher.store.tx import Tx

LANGUAGES = ("zh", "en")


class Preferences:
    def __init__(self, begin: Callable[[], AbstractContextManager[Tx]]) -> None:
        self._begin = begin

    def language(self, account_id: str) -> str | None:
        with self._begin() as tx:
            row = tx.one("SELECT language FROM preferences WHERE account_id = %s", (account_id,))
        return None if row is None else str(row[0])

    def set_language(self, account_id: str, language: str) -> None:
        with self._begin() as tx:
            write_language(tx, account_id, language)


def write_language(tx: Tx, account_id: str, language: str) -> None:
    """The account's console language, in the caller's transaction."""
    if language not in LANGUAGES:
        raise ValidationError("language", f"must be one of {', '.join(LANGUAGES)}")
    if tx.run("UPDATE preferences SET language = %s WHERE account_id = %s", (language, account_id)) == 0:
        tx.run("INSERT INTO preferences (account_id, language) VALUES (%s, %s)", (account_id, language))
