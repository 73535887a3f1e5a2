"""Request budgets, so that one client cannot starve the rest.

Each signed-in account has a token bucket: ``rate`` requests a second on average, up to
``burst`` at once. A request over budget gets 429 with ``Retry-After`` (whole seconds until the
bucket holds a request again). Sign-in attempts have a bucket per account name as well, so
passwords cannot be guessed at speed.

Buckets live in each worker process: with ``volmatch serve --workers N`` a client spread over
all N workers gets up to N times the budget. That bounds what one client can take from the
others (the point), without a shared store on every request. Idle full buckets are forgotten
when there are more than ``max_keys``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from fastapi import HTTPException


class Budget:
    """Token buckets by key; ``take(key)`` spends one request, or says how long to wait."""

    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, key: str) -> float:
        """Spend one request of ``key``'s budget: 0.0 if it may go ahead, else the seconds until
        it may (nothing is spent then)."""
        if not self.enabled:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, when = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - when) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return (1.0 - tokens) / self.rate
            if key not in self._buckets and len(self._buckets) >= self.max_keys:
                self._forget_idle(now)
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0

    def _forget_idle(self, now: float) -> None:
        full = [k for k, (t, w) in self._buckets.items() if t + (now - w) * self.rate >= self.burst]
        for k in full:
            del self._buckets[k]
        if len(self._buckets) >= self.max_keys:  # all busy: forget the longest-idle half
            for k in sorted(self._buckets, key=lambda k: self._buckets[k][1])[: self.max_keys // 2]:
                del self._buckets[k]

    def check(self, key: str, what: str) -> None:
        """Spend one request, or raise 429 with ``Retry-After``."""
        wait = self.take(key)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise HTTPException(
                429,
                f"too many {what}: at most {self.rate:g} a second (bursts of {self.burst:g}); "
                f"try again in {seconds} s",
                headers={"Retry-After": str(seconds)},
            )
