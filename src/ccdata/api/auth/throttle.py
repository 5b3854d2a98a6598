"""Limits on guessing and on load: token buckets per key, and locks after repeated failures.

Keys are whatever the caller counts by: a source address, an access key, an agent ID. Both structures forget keys
that have nothing left to say (a full bucket, failures older than the window, an expired lock) and hold at most
`max_keys` keys, so that a flood of new keys costs bounded memory.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Final

MAX_KEYS: Final = 100_000


def retry_after(seconds: float) -> str:
    """The `Retry-After` value (whole seconds, at least 1) for a wait."""
    return str(max(1, math.ceil(seconds)))


class RateLimiter:
    """A token bucket per key: `rate` requests per second on average, `burst` at once. A rate of 0 is no limit."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic, max_keys: int = MAX_KEYS
    ) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[Hashable, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: Hashable) -> float:
        """Spend one token of `key`: 0.0 if there was one, else the seconds until there is."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        tokens, at = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate
        if len(self._buckets) >= self.max_keys and key not in self._buckets:
            self._forget_full(now)
        self._buckets[key] = (tokens - 1, now)
        return 0.0

    def _forget_full(self, now: float) -> None:
        full = [k for k, (tokens, at) in self._buckets.items() if tokens + (now - at) * self.rate >= self.burst]
        for key in full:
            del self._buckets[key]
        while len(self._buckets) >= self.max_keys:  # every bucket busy: the oldest entries go
            del self._buckets[next(iter(self._buckets))]


class FailureLock:
    """`max_failures` failures of a key within `window_s` lock the key for `lock_s` seconds.

    A success clears the key's failures (not a lock: a locked key is refused before it is checked). A
    `max_failures` of 0 never locks.
    """

    def __init__(
        self,
        max_failures: int,
        window_s: float,
        lock_s: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.lock_s = lock_s
        self.clock = clock
        self.max_keys = max_keys
        self._failures: dict[Hashable, deque[float]] = {}
        self._locked_until: dict[Hashable, float] = {}

    def locked_for(self, key: Hashable) -> float:
        """Seconds left on the key's lock; 0.0 if it is not locked."""
        until = self._locked_until.get(key)
        if until is None:
            return 0.0
        left = until - self.clock()
        if left <= 0:
            del self._locked_until[key]
            return 0.0
        return left

    def fail(self, key: Hashable) -> bool:
        """Count a failure; True when it locks the key."""
        if self.max_failures <= 0:
            return False
        now = self.clock()
        failures = self._failures.get(key)
        if failures is None:
            if len(self._failures) >= self.max_keys:
                self._forget(now)
            failures = self._failures[key] = deque(maxlen=self.max_failures)
        failures.append(now)
        while failures and now - failures[0] > self.window_s:
            failures.popleft()
        if len(failures) < self.max_failures:
            return False
        del self._failures[key]
        if len(self._locked_until) >= self.max_keys:
            self._forget(now)
        self._locked_until[key] = now + self.lock_s
        return True

    def succeed(self, key: Hashable) -> None:
        self._failures.pop(key, None)

    def _forget(self, now: float) -> None:
        stale = [k for k, f in self._failures.items() if not f or now - f[-1] > self.window_s]
        for key in stale:
            del self._failures[key]
        for key in [k for k, until in self._locked_until.items() if until <= now]:
            del self._locked_until[key]
        for table in (self._failures, self._locked_until):
            while len(table) >= self.max_keys:
                del table[next(iter(table))]
