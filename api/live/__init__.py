"""A running service's state, split along its jobs:

- :mod:`~api.live.state`: :class:`Live`, the store and the index kept in step with every
  write, its two locks, the active ranking model;
- :mod:`~api.live.changes`: how far the change log has been read (other processes' writes);
- :mod:`~api.live.feedback`: the writer of the feedback log (answers served);
- :mod:`~api.live.caches`: records kept for display, and the accounts tokens name.

Use cases (:mod:`api.usecases`) work through a :class:`Live`; routes, console pages and the
CLI call the use cases.
"""

from api.live.state import Live

__all__ = ["Live"]
