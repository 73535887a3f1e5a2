"""Errors the core raises. The shell (``api/errors.py`` and the CLI) maps them to HTTP codes and
exit statuses in one place; the message always says what the caller should fix."""

from __future__ import annotations


class MatcherError(Exception):
    """Base class of every error raised by :mod:`matcher`."""


class ValidationError(MatcherError, ValueError):
    """A value does not satisfy the model (latitude out of range, naive datetime, ...).

    ``field`` names the offending field as a dotted path ("home.lat", "shifts[0].end") so that a
    loader can prefix it with the record it came from.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message

    def prefixed(self, prefix: str) -> ValidationError:
        """The same error with ``prefix`` put in front of its field path."""
        joined = f"{prefix}.{self.field}" if self.field else prefix
        return ValidationError(joined, self.message)


class NotFoundError(MatcherError, LookupError):
    """An id does not name a known volunteer, activity or shift."""

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"no {kind} with id {ident!r}")
        self.kind = kind
        self.ident = ident


class ConflictError(MatcherError):
    """A write contradicts the stored state (duplicate id, shift id reused by another activity)."""
