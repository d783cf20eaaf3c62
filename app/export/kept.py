"""Finished drawings kept, and drawings under way shared: the server's SVG and PNG of a map view
(``app.export.svg.cached_svg``, ``app.export.png.cached_png``) cost 20-800 ms to make and depend only on
the dataset version, the view's state and the size, so the last few are kept (least recently used
goes first), and identical requests that come while a view is being drawn wait for that drawing
instead of each making it again (single-flight, issue 16: eight identical cold requests for
``/embed/map.svg`` at 100k incidents made eight drawings).

The routes run in the thread pool, so this is thread-safe. A waiter waits for the first drawing;
that drawing is bounded by its request's work budget (``app.budget``: a 503 at the budget, or it
stops when its client leaves). If it ends without a drawing, the next waiter draws the view
itself, so an abandoned first request costs the others only the time it ran.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class Kept(Generic[T]):
    """The last ``max_entries`` values made by key, and the makings under way."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, T] = OrderedDict()
        self._under_way: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        """The kept value of ``key``; else the one being made (waited for); else ``make()``'s,
        kept. ``make``'s exceptions reach its caller only; waiters then try again."""
        while True:
            with self._lock:
                if key in self._entries:
                    self._entries.move_to_end(key)
                    return self._entries[key]
                under_way = self._under_way.get(key)
                if under_way is None:
                    under_way = self._under_way[key] = threading.Event()
                    break
            under_way.wait()  # outside the lock; then the kept value, or our own turn to make it
        try:
            value = make()  # outside the lock: a slow drawing blocks no other view
            with self._lock:
                self._entries[key] = value
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
            return value
        finally:
            with self._lock:
                del self._under_way[key]
            under_way.set()

    def __len__(self) -> int:
        return len(self._entries)
