"""The report, computed from conversation records at an injected "now".

Pure: no I/O and no clock. :mod:`chatserver.reports.source` reads the inputs from a backend.
The work is column-wise on numpy arrays (building blocks in :mod:`._columns`): 100k records
report in about a second.

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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from chatserver.domain.hours import WEEKDAYS, StaffedHours
from chatserver.reports import _bot, _columns
from chatserver.reports._stats import Ratings, mean
from chatserver.reports.models import (
    AgentLoad,
    AgentRating,
    Comment,
    DayRow,
    Quality,
    Report,
    ResponseRow,
    ResponseTimes,
    TagCount,
    TimeStats,
    Workload,
)
from chatserver.store.ports import REPORT_FIELDS

NO_AGENT = "(none)"
MAX_COMMENTS = 200


@dataclass(frozen=True)
class Yardstick:
    """What a report is measured against."""

    target_s: float = 60.0
    time_zone: str = "UTC"
    hours: StaffedHours | None = None


def compute(
    rows: Sequence[Sequence[Any]],
    settings: Yardstick,
    since: float,
    until: float,
    now: float,
) -> Report:
    """Build the report of conversations created in ``[since, until)`` as it stands at ``now``.

    Args:
        rows: per conversation, the values of ``REPORT_FIELDS`` in that order (any row order);
            those without the bot's outcome are filled first by ``_bot.fill_older``.
    """
    target = settings.target_s
    zone = ZoneInfo(settings.time_zone)
    n = len(rows)
    col: dict[str, Sequence[Any]] = (
        dict(zip(REPORT_FIELDS, zip(*rows, strict=True), strict=True))
        if n
        else {name: () for name in REPORT_FIELDS}
    )
    created, queued = _columns.floats(col["created_at"]), _columns.floats(col["queued_at"])
    clock, first_s = _columns.floats(col["clock_started"]), _columns.floats(col["first_response_s"])
    closed, rating = _columns.floats(col["closed_at"]), _columns.floats(col["rating"])
    messages = np.nan_to_num(_columns.floats(col["messages"]))
    ends = np.where(np.isnan(closed), now, closed)
    was_queued = ~np.isnan(queued)
    anchors = np.where(was_queued, queued, created)
    answered = ~np.isnan(first_s)

    # The two clocks: a first clock missed when queued, never answered, and past the target by
    # the close (or now); any clock still running past the target is a miss of every-response.
    rows_index = np.arange(n, dtype=np.int64)
    first = _columns.Clocks(
        first_s[answered], rows_index[answered], ~answered & was_queued & (ends - queued > target)
    )
    times = col["response_times"]
    every = _columns.Clocks(
        np.fromiter(chain.from_iterable(t for t in times if t), dtype=np.float64),
        np.repeat(rows_index, [len(t) if t else 0 for t in times]),
        ~np.isnan(clock) & (ends - clock > target),
    )

    # Where each conversation falls in the shop's zone: hour, weekday, day; staffed or not.
    anchor_local, created_local = _columns.local_seconds(
        np.concatenate((anchors, created)), zone
    ).reshape(2, n)
    hours_of = _columns.numbered(
        np.floor(anchor_local / 3600) % 24, [f"{h:02d}" for h in range(24)]
    )
    weekdays_of = _columns.numbered(
        (np.floor(anchor_local / 86400) + 3) % 7, list(WEEKDAYS)
    )  # 1970-01-01: Thu
    created_days = np.floor(created_local / 86400).astype(np.int64)
    first_day = int(created_days.min()) if n else 0
    day_names = [
        date.fromordinal(_columns.EPOCH_ORDINAL + d).isoformat()
        for d in range(first_day, int(created_days.max()) + 1 if n else 0)
    ]
    days_of = (day_names, created_days - first_day)
    agent_names, agent_codes = _columns.codes(col["agent_id"], NO_AGENT)
    shops_of = _columns.codes(col["shop_id"])

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
        staffed_table = _columns.response_rows(
            *staffed, first, every, target, ("inside", "outside")
        )
    staffed_hours = round(sum(min(e, until) - max(s, since) for s, e in spans) / 3600, 3)

    day_table = {row.key: row for row in _columns.response_rows(*days_of, first, every, target)}
    everyone = (["all"], np.zeros(n, dtype=np.int64))
    overall = _columns.response_rows(*everyone, first, every, target) or [
        ResponseRow(key="all", first=TimeStats(), every=TimeStats())
    ]

    # Workload.
    assigned = _columns.objects(col["agent_id"]).astype(bool)  # None and "" are false
    is_closed = _columns.objects(col["status"]) == "closed"
    by_shopper = _columns.objects(col["closed_by"]) == "shopper"
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
    overall_ratings = _columns.ratings_by(["all"], np.zeros(n, dtype=np.int64), rating, rated).get(
        "all", Ratings()
    )
    per_agent = _columns.ratings_by(agent_names, agent_codes, rating, rated)
    per_day = _columns.ratings_by(days_of[0], day_codes, rating, rated)
    ids, remarks = col["id"], col["rating_comment"]
    commented_rows = np.flatnonzero(rated & _columns.objects(remarks).astype(bool))
    commented_at = ends[commented_rows]  # when it closed (or now, if still open)
    commented = [
        (float(commented_at[j]), int(commented_rows[j]))
        for j in np.argsort(-commented_at, kind="stable")[:MAX_COMMENTS].tolist()
    ]
    tags = Counter(chain.from_iterable(t for t in col["tags"] if t))
    resolved_count = int(resolved.sum())
    bot, handoffs_in_resolved = _bot.figures(col, resolved)

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
            by_agent=_columns.response_rows(agent_names, agent_codes, first, every, target),
            by_shop=_columns.response_rows(*shops_of, first, every, target),
            by_hour=_columns.response_rows(*hours_of, first, every, target),
            by_weekday=_columns.response_rows(*weekdays_of, first, every, target, WEEKDAYS),
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
            handoffs_per_resolved=mean(handoffs_in_resolved, resolved_count),
        ),
        bot=bot,
        days=[
            DayRow(
                day=day,
                conversations=day_counts.get(day, 0),
                first=day_table[day].first if day in day_table else TimeStats(),
                csat=per_day[day].csat if day in per_day else None,
                average_rating=per_day[day].average if day in per_day else None,
            )
            for day in _columns.days_between(since, until, zone)
        ],
    )
