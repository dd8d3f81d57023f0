"""Column-wise building blocks of the report: grouping codes, response-time tallies, local time."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from chatserver.reports._stats import Ratings, percentile, share
from chatserver.reports.models import ResponseRow, TimeStats

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def codes(keys: Sequence[str | None], missing: str = "") -> tuple[list[str], Ints]:
    """Distinct keys (first seen first; ``missing`` for None) and each key's index among them."""
    index = {key: i for i, key in enumerate(dict.fromkeys(keys))}
    names = [missing if key is None else key for key in index]
    return names, np.fromiter(map(index.__getitem__, keys), dtype=np.int64, count=len(keys))


def time_stats(ordered: Floats, misses: int, target_s: float) -> TimeStats:
    answered = len(ordered)
    within = int(np.searchsorted(ordered, target_s, side="right"))
    count = answered + misses
    p50, p90 = percentile(ordered, 0.5), percentile(ordered, 0.9)
    return TimeStats(
        count=count,
        answered=answered,
        misses=misses,
        within_target=within,
        p50_s=None if p50 is None else float(p50),
        p90_s=None if p90 is None else float(p90),
        max_s=float(ordered[-1]) if answered else None,
        share_within=share(within, count),
    )


class Clocks:
    """Answered times (``values``, of rows ``owners``) and, per row, a clock missed unanswered."""

    def __init__(self, values: Floats, owners: Ints, missed: Bools) -> None:
        by_time = np.argsort(values, kind="stable")
        self.values, self.owners, self.missed = values[by_time], owners[by_time], missed

    def by_group(self, names: list[str], codes: Ints, target_s: float) -> dict[str, TimeStats]:
        groups = codes[self.owners]
        if len(names) < 2**15:
            groups = groups.astype(np.int16)  # numpy sorts 16-bit keys by radix: much faster
        # Values are sorted by time already: a stable sort by group keeps each group's in order.
        values = self.values[np.argsort(groups, kind="stable")]
        counts = np.bincount(groups, minlength=len(names))
        misses = np.bincount(codes[self.missed], minlength=len(names))
        bounds = np.concatenate(([0], np.cumsum(counts)))
        return {
            name: time_stats(values[bounds[k] : bounds[k + 1]], int(misses[k]), target_s)
            for k, name in enumerate(names)
            if counts[k] or misses[k]
        }


def response_rows(
    names: list[str], codes: Ints, first: Clocks, every: Clocks, target_s: float,
    order: Iterable[str] | None = None,
) -> list[ResponseRow]:  # fmt: skip
    firsts = first.by_group(names, codes, target_s)
    everys = every.by_group(names, codes, target_s)
    empty = TimeStats(count=0)
    keys = sorted(firsts.keys() | everys.keys()) if order is None else order
    return [
        ResponseRow(key=k, first=firsts.get(k, empty), every=everys.get(k, empty))
        for k in keys
        if k in firsts or k in everys
    ]


def ratings_by(names: list[str], codes: Ints, rating: Floats, rated: Bools) -> dict[str, Ratings]:
    """CSAT per group, for the groups with any rating."""
    width = len(names)
    count = np.bincount(codes[rated], minlength=width)
    total = np.bincount(codes[rated], weights=rating[rated], minlength=width)
    satisfied = np.bincount(codes[rated & (rating >= 4)], minlength=width)
    return {
        name: Ratings(count=int(count[k]), satisfied=int(satisfied[k]), total=int(total[k]))
        for k, name in enumerate(names)
        if count[k]
    }


def local_seconds(instants: Floats, zone: ZoneInfo) -> Floats:
    """Instants as seconds since the epoch in local wall-clock time.

    The zone's offset is looked up once per UTC hour (and per quarter hour in an hour where it
    changes: every offset, and every change, falls on a quarter hour).
    """
    if len(instants) == 0:
        return instants
    hours, inverse = np.unique((instants // 3600).astype(np.int64), return_inverse=True)
    offsets = np.empty(len(hours))
    mixed: list[int] = []
    for k, hour in enumerate(hours.tolist()):
        start, last = (utc_offset(zone, hour * 3600 + s) for s in (0, 3599))
        offsets[k] = start
        if start != last:
            mixed.append(k)
    local = instants + offsets[inverse.reshape(-1)]
    for k in mixed:  # an hour with a change: per quarter
        inside = inverse.reshape(-1) == k
        quarter = (instants[inside] // 900) * 900
        local[inside] = instants[inside] + np.array([utc_offset(zone, q) for q in quarter.tolist()])
    return local


def utc_offset(zone: ZoneInfo, at: float) -> float:
    offset = datetime.fromtimestamp(at, zone).utcoffset()
    return offset.total_seconds() if offset is not None else 0.0


def numbered(values: Floats, labels: list[str]) -> tuple[list[str], Ints]:
    """Group numbers 0..len(labels)-1 as (labels, codes)."""
    return labels, values.astype(np.int64)


def days_between(since: float, until: float, zone: ZoneInfo) -> list[str]:
    """Every day of ``[since, until)`` in the zone, as YYYY-MM-DD (empty days too, for charts)."""
    first = datetime.fromtimestamp(since, zone).date()
    last = datetime.fromtimestamp(max(since, until - 1e-3), zone).date()
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def objects(values: Sequence[Any]) -> npt.NDArray[np.object_]:
    """A column as a numpy array of Python objects (compared element-wise in C)."""
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column


def floats(values: Sequence[Any]) -> Floats:
    """A column as floats, NaN where unset."""
    return np.array(values, dtype=np.float64) if len(values) else np.zeros(0)
