"""A bounded, expiring LRU that a worker's threads share: pages, answers, verified cookies, memos."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict


class ExpiringLRU:
    """A bounded LRU whose entries also expire after `seconds`; shared by a worker's threads."""

    def __init__(self, seconds: float, size: int = 1024):
        self.seconds, self.size = float(seconds), size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        """Return the value kept for key, or None when there is none or it expired."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[0] < time.monotonic():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key, value, seconds: float | None = None) -> None:
        """Keep value for key (seconds, or the cache's age limit), dropping the least recently used."""
        with self._lock:
            self._items[key] = (time.monotonic() + (self.seconds if seconds is None else seconds), value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._items.clear()
