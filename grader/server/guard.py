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
    """Failed token attempts per claimed id and per client address; hand-ins per student.

    The per-address limit is higher: behind a NAT or a proxy many students share one.
    """

    def __init__(self, uploads_per_minute: int = 10, failures_per_id: int = 5,
                 failures_per_address: int = 30, window: float = 60.0) -> None:
        self.by_id = SlidingWindow(failures_per_id, window)
        self.by_address = SlidingWindow(failures_per_address, window)
        self.uploads = SlidingWindow(uploads_per_minute, 60.0)

    def login_blocked(self, ident: str, address: str) -> float:
        return max(self.by_id.retry_after(ident), self.by_address.retry_after(address))

    def failed(self, ident: str, address: str) -> None:
        self.by_id.hit(ident)
        self.by_address.hit(address)
