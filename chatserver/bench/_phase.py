"""One measured stretch of a load run."""

from __future__ import annotations

import time


class Phase:
    """One measured stretch: warm-up, a measured window, then a drain for late replies."""

    def __init__(self, name: str, rate: float, warmup: float, duration: float) -> None:
        self.name, self.rate, self.closed = name, rate, rate <= 0
        self.start = time.perf_counter()
        self.measure_from = self.start + warmup
        self.until = self.measure_from + duration
        self.sent = self.answered = self.in_window = self.refused = 0
        self.latencies: list[float] = []

    def record(self, scheduled: float, now: float) -> None:
        self.answered += 1
        if self.measure_from <= scheduled < self.until:
            self.latencies.append(now - scheduled)
        if self.measure_from <= now < self.until:
            self.in_window += 1
