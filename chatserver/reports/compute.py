"""The report, computed from conversation records and the bot's events at an injected "now".

Pure: no I/O and no clock. :mod:`chatserver.reports.source` reads the inputs from a backend.
Columns are numpy arrays, so 100k records report in a fraction of a second.

The 60-second promise is measured on the records' response clock: ``first_response_s`` and
``response_times`` are the answered clocks; a clock still in ``clock_started`` that has run past
the target (up to the close, or up to now) is a miss. A conversation is placed in time (hour,
weekday, staffed or not) by ``queued_at``, when its first clock started, or by ``created_at`` if
it never queued; every-response figures are placed the same way, as records keep only the
durations of later clocks. Days are the days conversations were created on.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import chain
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from chatserver.backends.base import REPORT_FIELDS
from chatserver.hours import WEEKDAYS, StaffedHours
from chatserver.reports import _bot
from chatserver.reports._stats import Ratings, mean, percentile, share
from chatserver.reports.models import (
    AgentLoad,
    AgentRating,
    BotFigures,
    Comment,
    DayRow,
    Quality,
    Question,
    Report,
    ResponseRow,
    ResponseTimes,
    TagCount,
    TimeStats,
    Workload,
)

NO_AGENT = "(none)"
MAX_COMMENTS = 200
MAX_QUESTIONS = 50
_AT = {name: i for i, name in enumerate(REPORT_FIELDS)}
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


def bot_involved(rows: Sequence[Sequence[Any]]) -> list[str]:
    """The ids of the conversations (rows of ``REPORT_FIELDS`` values) that started with the bot.

    One that started in the queue has ``queued_at == created_at``; one the bot took has no
    ``queued_at``, or the later instant of its hand-off.
    """
    id_at, queued_at, created_at = _AT["id"], _AT["queued_at"], _AT["created_at"]
    return [
        row[id_at] for row in rows if row[queued_at] is None or row[queued_at] != row[created_at]
    ]


@dataclass(frozen=True)
class ReportSettings:
    """What a report is measured against."""

    target_s: float = 60.0
    time_zone: str = "UTC"
    hours: StaffedHours | None = None


def _codes(keys: Iterable[str]) -> tuple[list[str], Ints]:
    """Distinct keys (first seen first) and each key's index among them."""
    keys = list(keys)
    names = list(dict.fromkeys(keys))
    index = {name: i for i, name in enumerate(names)}
    return names, np.fromiter(map(index.__getitem__, keys), dtype=np.int64, count=len(keys))


def _time_stats(ordered: Floats, misses: int, target_s: float) -> TimeStats:
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


class _Clocks:
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
            name: _time_stats(values[bounds[k] : bounds[k + 1]], int(misses[k]), target_s)
            for k, name in enumerate(names)
            if counts[k] or misses[k]
        }


def _table(
    names: list[str], codes: Ints, first: _Clocks, every: _Clocks, target_s: float,
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


def _ratings(names: list[str], codes: Ints, rating: Floats, rated: Bools) -> dict[str, Ratings]:
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


def _local_seconds(instants: Floats, zone: ZoneInfo) -> Floats:
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
        start, last = (_offset(zone, hour * 3600 + s) for s in (0, 3599))
        offsets[k] = start
        if start != last:
            mixed.append(k)
    local = instants + offsets[inverse.reshape(-1)]
    for k in mixed:  # an hour with a change: per quarter
        inside = inverse.reshape(-1) == k
        quarter = (instants[inside] // 900) * 900
        local[inside] = instants[inside] + np.array([_offset(zone, q) for q in quarter.tolist()])
    return local


def _offset(zone: ZoneInfo, at: float) -> float:
    offset = datetime.fromtimestamp(at, zone).utcoffset()
    return offset.total_seconds() if offset is not None else 0.0


def _numbered(values: Floats, labels: list[str]) -> tuple[list[str], Ints]:
    """Group numbers 0..len(labels)-1 as (labels, codes)."""
    return labels, values.astype(np.int64)


def _days(since: float, until: float, zone: ZoneInfo) -> list[str]:
    """Every day of ``[since, until)`` in the zone, as YYYY-MM-DD (empty days too, for charts)."""
    first = datetime.fromtimestamp(since, zone).date()
    last = datetime.fromtimestamp(max(since, until - 1e-3), zone).date()
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def _floats(values: Sequence[Any]) -> Floats:
    """A column as floats, NaN where unset."""
    return np.array(values, dtype=np.float64) if len(values) else np.zeros(0)


def compute(
    rows: Sequence[Sequence[Any]],
    bot_logs: Mapping[str, Sequence[str]],
    settings: ReportSettings,
    since: float,
    until: float,
    now: float,
) -> Report:
    """Build the report of conversations created in ``[since, until)`` as it stands at ``now``.

    Args:
        rows: per conversation, the values of ``REPORT_FIELDS`` in that order (any row order).
        bot_logs: the events (JSON texts, in seq order) of the conversations the bot spoke in.
    """
    report = compute_records(rows, settings, since, until, now)
    return add_bot(report, _bot.summarise(bot_logs, resolved_ids(rows)))


def resolved_ids(rows: Sequence[Sequence[Any]]) -> set[str]:
    """Conversations closed without leaving a waiting shopper unanswered."""
    i, status, queued_at, first = (
        _AT["id"],
        _AT["status"],
        _AT["queued_at"],
        _AT["first_response_s"],
    )
    return {
        row[i]
        for row in rows
        if row[status] == "closed" and (row[queued_at] is None or row[first] is not None)
    }


def add_bot(report: Report, bot: _bot.BotSummary) -> Report:
    """The report with the bot's figures, and hand-offs per resolved conversation."""
    resolved = report.quality.resolved
    quality = report.quality.model_copy(
        update={"handoffs_per_resolved": mean(bot.handoffs_in_resolved, resolved)}
    )
    figures = BotFigures(
        conversations=bot.conversations,
        settled=bot.settled,
        settled_share=share(bot.settled, bot.conversations),
        handoffs=bot.handed_off,
        handoff_rate=share(bot.handed_off, bot.conversations),
        unanswered=[Question(text=q, count=c) for q, c in bot.questions.most_common(MAX_QUESTIONS)],
    )
    return report.model_copy(update={"quality": quality, "bot": figures})


def compute_records(
    rows: Sequence[Sequence[Any]],
    settings: ReportSettings,
    since: float,
    until: float,
    now: float,
) -> Report:
    """The report from the records alone: the bot's figures are left empty (see ``add_bot``)."""
    target = settings.target_s
    zone = ZoneInfo(settings.time_zone)
    n = len(rows)
    col: dict[str, Sequence[Any]] = (
        dict(zip(REPORT_FIELDS, zip(*rows))) if n else {name: () for name in REPORT_FIELDS}
    )
    created, queued = _floats(col["created_at"]), _floats(col["queued_at"])
    clock, first_s = _floats(col["clock_started"]), _floats(col["first_response_s"])
    closed, rating = _floats(col["closed_at"]), _floats(col["rating"])
    messages = np.nan_to_num(_floats(col["messages"]))
    ends = np.where(np.isnan(closed), now, closed)
    was_queued = ~np.isnan(queued)
    anchors = np.where(was_queued, queued, created)
    answered = ~np.isnan(first_s)

    # The two clocks: a first clock missed when queued, never answered, and past the target by
    # the close (or now); any clock still running past the target is a miss of every-response.
    rows_index = np.arange(n, dtype=np.int64)
    first = _Clocks(
        first_s[answered], rows_index[answered], ~answered & was_queued & (ends - queued > target)
    )
    times = col["response_times"]
    every = _Clocks(
        np.fromiter(chain.from_iterable(t for t in times if t), dtype=np.float64),
        np.repeat(rows_index, [len(t) if t else 0 for t in times]),
        ~np.isnan(clock) & (ends - clock > target),
    )

    # Where each conversation falls in the shop's zone: hour, weekday, day; staffed or not.
    anchor_local, created_local = _local_seconds(np.concatenate((anchors, created)), zone).reshape(
        2, n
    )
    hours_of = _numbered(np.floor(anchor_local / 3600) % 24, [f"{h:02d}" for h in range(24)])
    weekdays_of = _numbered(
        (np.floor(anchor_local / 86400) + 3) % 7, list(WEEKDAYS)
    )  # 1970-01-01: Thu
    created_days = np.floor(created_local / 86400).astype(np.int64)
    first_day = int(created_days.min()) if n else 0
    day_names = [
        date.fromordinal(_EPOCH_ORDINAL + d).isoformat()
        for d in range(first_day, int(created_days.max()) + 1 if n else 0)
    ]
    days_of = (day_names, created_days - first_day)
    agent_names, agent_codes = _codes(a or NO_AGENT for a in col["agent_id"])
    shops_of = _codes(col["shop_id"])

    spans: list[tuple[float, float]] = []
    staffed_table: list[ResponseRow] = []
    if settings.hours is not None:
        since_local, until_local = (
            datetime.fromtimestamp(since, zone),
            datetime.fromtimestamp(until, zone),
        )
        spans = settings.hours.spans(since_local, until_local)
        starts = np.array([s for s, _ in spans] or [math.inf])
        stops = np.array([e for _, e in spans] or [math.inf])
        shift = np.searchsorted(starts, anchors, side="right") - 1
        inside = (shift >= 0) & (anchors < stops[shift.clip(0)])
        staffed = (["inside", "outside"], np.where(inside, 0, 1).astype(np.int64))
        staffed_table = _table(*staffed, first, every, target, ("inside", "outside"))
    staffed_hours = round(sum(min(e, until) - max(s, since) for s, e in spans) / 3600, 3)

    day_table = {row.key: row for row in _table(*days_of, first, every, target)}
    everyone = (["all"], np.zeros(n, dtype=np.int64))
    overall = _table(*everyone, first, every, target) or [
        ResponseRow(key="all", first=TimeStats(), every=TimeStats())
    ]

    # Workload.
    assigned = np.array([bool(a) for a in col["agent_id"]], dtype=bool)
    is_closed = np.array([s == "closed" for s in col["status"]], dtype=bool)
    by_shopper = np.array([b == "shopper" for b in col["closed_by"]], dtype=bool)
    waited_unanswered = was_queued & ~answered
    resolved = is_closed & ~waited_unanswered
    abandoned = is_closed & waited_unanswered & by_shopper
    width = len(agent_names)
    agent_conversations = np.bincount(agent_codes[assigned], minlength=width)
    agent_messages = np.bincount(agent_codes[assigned], weights=messages[assigned], minlength=width)
    agent_resolved = np.bincount(agent_codes[assigned & resolved], minlength=width)
    open_from, open_to = np.sort(anchors[assigned]), np.sort(ends[assigned])
    # At each start, those open are the starts so far less the ends at or before it.
    concurrent = np.arange(1, len(open_from) + 1) - np.searchsorted(
        open_to, open_from, side="right"
    )
    peak = int(concurrent.max()) if len(concurrent) else 0

    # Quality.
    rated = ~np.isnan(rating)
    day_codes = days_of[1]
    overall_ratings = _ratings(["all"], np.zeros(n, dtype=np.int64), rating, rated).get(
        "all", Ratings()
    )
    per_agent = _ratings(agent_names, agent_codes, rating, rated)
    per_day = _ratings(days_of[0], day_codes, rating, rated)
    ids, remarks = col["id"], col["rating_comment"]
    commented_rows = np.flatnonzero(rated & np.array([bool(r) for r in remarks], dtype=bool))
    commented_at = ends[commented_rows]  # when it closed (or now, if still open)
    commented = [
        (float(commented_at[j]), int(commented_rows[j]))
        for j in np.argsort(-commented_at, kind="stable")[:MAX_COMMENTS].tolist()
    ]
    tags = Counter(chain.from_iterable(t for t in col["tags"] if t))
    resolved_count = int(resolved.sum())

    counts = np.bincount(day_codes, minlength=len(days_of[0]))
    day_counts = {day: int(counts[k]) for k, day in enumerate(days_of[0])}
    return Report(
        since=since,
        until=until,
        time_zone=settings.time_zone,
        target_s=target,
        generated_at=now,
        response=ResponseTimes(
            overall=overall[0],
            by_agent=_table(agent_names, agent_codes, first, every, target),
            by_shop=_table(*shops_of, first, every, target),
            by_hour=_table(*hours_of, first, every, target),
            by_weekday=_table(*weekdays_of, first, every, target, WEEKDAYS),
            by_staffed=staffed_table,
        ),
        workload=Workload(
            conversations=n,
            messages=int(messages.sum()),
            staffed_hours=staffed_hours,
            queued=int(was_queued.sum()),
            abandoned=int(abandoned.sum()),
            peak_concurrent=peak,
            by_agent=[
                AgentLoad(
                    agent_id=name,
                    conversations=int(agent_conversations[k]),
                    messages=int(agent_messages[k]),
                    resolved=int(agent_resolved[k]),
                    conversations_per_staffed_hour=(
                        round(int(agent_conversations[k]) / staffed_hours, 3)
                        if staffed_hours
                        else None
                    ),
                )
                for k, name in sorted(enumerate(agent_names), key=lambda pair: pair[1])
                if agent_conversations[k]
            ],
        ),
        quality=Quality(
            ratings=overall_ratings.count,
            satisfied=overall_ratings.satisfied,
            csat=overall_ratings.csat,
            average=overall_ratings.average,
            by_agent=[
                AgentRating(
                    agent_id=name, ratings=r.count, average=r.average, share_satisfied=r.csat
                )
                for name, r in sorted(per_agent.items())
            ],
            comments=[
                Comment(
                    conversation_id=ids[i],
                    agent_id=agent_names[agent_codes[i]],
                    rating=int(rating[i]),
                    comment=remarks[i],
                    at=float(at),
                )
                for at, i in commented
            ],
            tags=[TagCount(tag=t, count=c) for t, c in tags.most_common()],
            resolved=resolved_count,
            messages_per_resolved=mean(float(messages[resolved].sum()), resolved_count),
            handoffs_per_resolved=None,
        ),
        bot=BotFigures(
            conversations=0,
            settled=0,
            settled_share=None,
            handoffs=0,
            handoff_rate=None,
            unanswered=[],
        ),
        days=[
            DayRow(
                day=day,
                conversations=day_counts.get(day, 0),
                first=day_table[day].first if day in day_table else TimeStats(),
                csat=per_day[day].csat if day in per_day else None,
                average_rating=per_day[day].average if day in per_day else None,
            )
            for day in _days(since, until, zone)
        ],
    )
