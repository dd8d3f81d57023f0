"""The bounded LRU map the stores keep records and logs in."""

from __future__ import annotations

from chatserver.store._cache import LRU


def test_the_least_recently_used_go_first_and_the_size_holds() -> None:
    cache: LRU[int, str] = LRU(3)
    for key in range(3):
        cache.put(key, str(key))
    assert cache.get(0) == "0"  # 0 is now the most recent: 1 is the oldest
    cache.put(3, "3")
    assert len(cache) == 3 and cache.get(1) is None
    assert [cache.get(key) for key in (0, 2, 3)] == ["0", "2", "3"]


def test_entries_with_work_in_flight_are_kept_beyond_the_size() -> None:
    busy = {0, 1}
    cache: LRU[int, str] = LRU(2, keep=lambda key, _value: key in busy)
    for key in range(4):
        cache.put(key, str(key))
    # 0 and 1 must stay; of the rest only the newest fits, and the one just put is never dropped.
    assert cache.get(0) == "0" and cache.get(1) == "1" and cache.get(3) == "3"
    busy.clear()
    cache.put(4, "4")
    assert len(cache) <= 3 and cache.get(4) == "4"


def test_a_full_cache_stays_at_its_size_over_many_puts() -> None:
    cache: LRU[int, int] = LRU(1_000)
    for key in range(50_000):
        cache.put(key, key)
    assert len(cache) == 1_000 and cache.get(49_999) == 49_999 and cache.get(48_999) is None
