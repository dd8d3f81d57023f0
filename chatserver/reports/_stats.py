"""Small aggregates the report is built from: response-time tallies, percentiles, shares."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from chatserver.domain.stats import percentile

Floats = npt.NDArray[np.float64]

__all__ = ["Floats", "Ratings", "mean", "percentile", "share"]


def share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def mean(total: float, count: int) -> float | None:
    return None if count == 0 else round(total / count, 3)


@dataclass
class Ratings:
    """CSAT of one group: ratings 1-5, of which 4 and 5 count as satisfied."""

    count: int = 0
    satisfied: int = 0
    total: int = 0

    def add(self, rating: int) -> None:
        self.count += 1
        self.total += rating
        self.satisfied += rating >= 4

    @property
    def csat(self) -> float | None:
        return share(self.satisfied, self.count)

    @property
    def average(self) -> float | None:
        return mean(self.total, self.count)
