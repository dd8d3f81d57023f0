"""Percentiles as every figure of the product computes them: nearest rank, an observed value."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def percentile(ordered: Sequence[float] | Any, q: float) -> float | None:
    """The nearest-rank ``q`` percentile (0 < q <= 1) of sorted values: an observed value, never
    an interpolated one, so figures can be checked by hand."""
    if len(ordered) == 0:
        return None
    return float(ordered[max(0, math.ceil(q * len(ordered)) - 1)])
