"""Small aggregates the report is built from: response-time tallies, percentiles, shares."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]


def percentile(ordered: Sequence[float] | Floats, q: float) -> float | None:
    """The nearest-rank ``q`` percentile (0 < q <= 1) of sorted values: an observed value, never
    an interpolated one, so figures can be checked by hand."""
    if len(ordered) == 0:
        return None
    return float(ordered[max(0, math.ceil(q * len(ordered)) - 1)])


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
