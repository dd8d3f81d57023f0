"""A server process's garbage collector: what startup made is frozen, young collections are rarer."""

from __future__ import annotations

import gc

from chatserver.web.app import GC_THRESHOLDS, tune_gc


def test_tune_gc_freezes_what_exists_and_sets_the_servers_thresholds() -> None:
    before = gc.get_threshold()
    made_at_startup = [{"kept": n} for n in range(1000)]
    try:
        tune_gc()
        assert gc.get_threshold() == GC_THRESHOLDS
        assert GC_THRESHOLDS[0] > before[0]
        # Frozen: no later collection walks them (the permanent generation holds them).
        assert gc.get_freeze_count() >= len(made_at_startup)
        collected = {id(thing) for thing in gc.get_objects()}
        assert not any(id(d) in collected for d in made_at_startup)
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
