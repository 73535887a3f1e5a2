"""What can follow a recommendation: the vocabulary of the feedback log.

``viewed`` (the person or organiser opened it), ``invited`` (an organiser asked),
``accepted`` / ``declined`` (the answer to an invitation or offer), ``signed_up``, ``cancelled``,
``attended`` (checked in), ``no_show``, ``rating`` (an organiser's 1-5 for a place, in
``value``)."""

from __future__ import annotations

GOOD = frozenset({"accepted", "signed_up", "attended"})
"""Outcomes that mean the person took the place."""
BAD = frozenset({"declined", "no_show"})
"""Outcomes that cancel a good one: said no, or did not come."""
OUTCOMES = frozenset({"viewed", "invited", "rating", "cancelled"}) | GOOD | BAD
