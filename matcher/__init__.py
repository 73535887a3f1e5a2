"""volmatch's core: matching volunteers and activities, with no I/O except in :mod:`matcher.store`.

Packages, from the bottom up (each may use only those below it; ``lint-imports`` checks it):

- :mod:`matcher.model`: the volunteering world as values (volunteers, activities, shifts,
  service), its errors, vocabularies, skills taxonomy, calendar and geometry.
- :mod:`matcher.matching`: the columnar index, the hard rules, the soft factors and their
  weights, and ranking both ways with explanations.
- :mod:`matcher.operations`, :mod:`matcher.analytics`, :mod:`matcher.learning`,
  :mod:`matcher.interchange`: campaign allocation and recognition; demand against supply;
  learning and evaluating the ranking; the documented import/export format. Independent of
  each other.
- :mod:`matcher.demo`: the deterministic demo city and its simulated outcomes.
- :mod:`matcher.store`: persistence (embedded SQLite or PostgreSQL + PostGIS).

Nothing is imported here, so ``import matcher.model`` stays light.
"""
