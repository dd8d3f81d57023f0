"""A bounded, least-recently-used map: what an adapter remembers of logs stays within a size."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from itertools import islice
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    """At most ``size`` entries; the least recently used go first, unless ``keep`` says no.

    Args:
        size: the most entries kept (more only while every older one must be kept).
        keep: True for an entry (key, value) that must not be forgotten yet (work in flight).
    """

    def __init__(self, size: int, keep: Callable[[K, V], bool] = lambda _k, _v: False) -> None:
        self.size = size
        self._keep = keep
        self._entries: OrderedDict[K, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> V:
        """Remember ``value`` (most recent) and forget the oldest entries beyond the size."""
        self._entries[key] = value
        self._entries.move_to_end(key)
        excess = len(self._entries) - self.size
        if excess > 0:
            # The oldest few only: listing every key would cost the whole map per put.
            for old in list(islice(self._entries, excess * 2)):
                if excess <= 0:
                    break
                if old != key and not self._keep(old, self._entries[old]):
                    del self._entries[old]
                    excess -= 1
        return value

    def setdefault(self, key: K, value: V) -> V:
        """The entry's value if there is one, else ``value`` (stored)."""
        known = self.get(key)
        return known if known is not None else self.put(key, value)

    def pop(self, key: K) -> None:
        self._entries.pop(key, None)
