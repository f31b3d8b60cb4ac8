"""Throttling: failed token attempts, and how often one student may hand in.

Both are sliding windows kept in memory (a restart forgets them, which only ever lets
someone try again sooner; it loses no hand-in).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable


class SlidingWindow:
    """At most `limit` events per `window` seconds for each key."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _trim(self, key: str, now: float) -> deque[float]:
        events = self._events[key]
        while events and events[0] <= now - self.window:
            events.popleft()
        return events

    def retry_after(self, key: str) -> float:
        """Seconds until `key` may act again; 0 when it may now."""
        with self._lock:
            now = self.clock()
            events = self._trim(key, now)
            if len(events) < self.limit:
                return 0.0
            return max(0.1, events[0] + self.window - now)

    def hit(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            self._trim(key, now).append(now)

    def clear(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)


class Guard:
    """Failed logins per client address and per claimed id; hand-ins per student."""

    def __init__(self, uploads_per_minute: int = 10, failures: int = 5,
                 failure_window: float = 60.0) -> None:
        self.failures = SlidingWindow(failures, failure_window)
        self.uploads = SlidingWindow(uploads_per_minute, 60.0)

    def login_blocked(self, keys: list[str]) -> float:
        return max((self.failures.retry_after(k) for k in keys), default=0.0)

    def failed(self, keys: list[str]) -> None:
        for k in keys:
            self.failures.hit(k)
