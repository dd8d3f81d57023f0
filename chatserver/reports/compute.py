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
from chatserver.domain.languages import language_key
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
NO_LANGUAGE = "(unknown)"
MAX_COMMENTS = 200


@dataclass(frozen=True)
class Yardstick:
    """What a report is measured against."""

    target_s: float = 60.0
    time_zone: str = "UTC"
    hours: StaffedHours | None = None


@dataclass
class _Table:
    """The records as columns, with what every part of the report derives from them."""

    n: int
    col: dict[str, Sequence[Any]]
    target: float
    zone: ZoneInfo
    messages: Any
    rating: Any
    ends: Any
    anchors: Any
    was_queued: Any
    resolved: Any
    first: _columns.Clocks
    every: _columns.Clocks
    agent_names: list[str]
    agent_codes: Any
    days_of: tuple[list[str], Any]


def _table(rows: Sequence[Sequence[Any]], settings: Yardstick, now: float) -> _Table:
    target = settings.target_s
    n = len(rows)
    col: dict[str, Sequence[Any]] = (
        dict(zip(REPORT_FIELDS, zip(*rows, strict=True), strict=True))
        if n
        else {name: () for name in REPORT_FIELDS}
    )
    created, queued = _columns.floats(col["created_at"]), _columns.floats(col["queued_at"])
    clock, first_s = _columns.floats(col["clock_started"]), _columns.floats(col["first_response_s"])
    closed = _columns.floats(col["closed_at"])
    ends = np.where(np.isnan(closed), now, closed)
    was_queued = ~np.isnan(queued)
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
    zone = ZoneInfo(settings.time_zone)
    created_local = _columns.local_seconds(created, zone)
    created_days = np.floor(created_local / 86400).astype(np.int64)
    first_day = int(created_days.min()) if n else 0
    day_names = [
        date.fromordinal(_columns.EPOCH_ORDINAL + d).isoformat()
        for d in range(first_day, int(created_days.max()) + 1 if n else 0)
    ]
    agent_names, agent_codes = _columns.codes(col["agent_id"], NO_AGENT)
    is_closed = _columns.objects(col["status"]) == "closed"
    return _Table(
        n=n,
        col=col,
        target=target,
        zone=zone,
        messages=np.nan_to_num(_columns.floats(col["messages"])),
        rating=_columns.floats(col["rating"]),
        ends=ends,
        anchors=np.where(was_queued, queued, created),
        was_queued=was_queued,
        resolved=is_closed & ~(was_queued & ~answered),
        first=first,
        every=every,
        agent_names=agent_names,
        agent_codes=agent_codes,
        days_of=(day_names, created_days - first_day),
    )


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
    t = _table(rows, settings, now)
    staffed_table, staffed_hours = _staffed(t, settings.hours, since, until)
    bot, handoffs_in_resolved = _bot.figures(t.col, t.resolved)
    return Report(
        since=since,
        until=until,
        time_zone=settings.time_zone,
        target_s=t.target,
        generated_at=now,
        response=_response(t, staffed_table),
        workload=_workload(t, staffed_hours),
        quality=_quality(t, handoffs_in_resolved),
        bot=bot,
        days=_days(t, since, until),
    )


def _staffed(
    t: _Table, hours: StaffedHours | None, since: float, until: float
) -> tuple[list[ResponseRow], float]:
    """Response times inside and outside staffed hours, and the staffed hours in the range."""
    if hours is None:
        return [], 0.0
    since_local, until_local = (
        datetime.fromtimestamp(since, t.zone),
        datetime.fromtimestamp(until, t.zone),
    )
    spans = hours.spans(since_local, until_local)
    starts = np.array([s for s, _ in spans] or [math.inf])
    stops = np.array([e for _, e in spans] or [math.inf])
    shift = np.searchsorted(starts, t.anchors, side="right") - 1
    inside = (shift >= 0) & (t.anchors < stops[shift.clip(0)])
    staffed = (["inside", "outside"], np.where(inside, 0, 1).astype(np.int64))
    table = _columns.response_rows(*staffed, t.first, t.every, t.target, ("inside", "outside"))
    return table, round(sum(min(e, until) - max(s, since) for s, e in spans) / 3600, 3)


def _response(t: _Table, staffed_table: list[ResponseRow]) -> ResponseTimes:
    """Response times overall and per agent, shop, hour, weekday and staffed or not."""
    # Where each conversation falls in the shop's zone: hour and weekday of its anchor.
    anchor_local = _columns.local_seconds(t.anchors, t.zone)
    hours_of = _columns.numbered(
        np.floor(anchor_local / 3600) % 24, [f"{h:02d}" for h in range(24)]
    )
    weekdays_of = _columns.numbered(
        (np.floor(anchor_local / 86400) + 3) % 7, list(WEEKDAYS)
    )  # 1970-01-01: Thu
    everyone = (["all"], np.zeros(t.n, dtype=np.int64))
    f, e, target = t.first, t.every, t.target
    overall = _columns.response_rows(*everyone, f, e, target) or [
        ResponseRow(key="all", first=TimeStats(), every=TimeStats())
    ]
    return ResponseTimes(
        overall=overall[0],
        by_agent=_columns.response_rows(t.agent_names, t.agent_codes, f, e, target),
        by_shop=_columns.response_rows(*_columns.codes(t.col["shop_id"]), f, e, target),
        by_hour=_columns.response_rows(*hours_of, f, e, target),
        by_weekday=_columns.response_rows(*weekdays_of, f, e, target, WEEKDAYS),
        by_staffed=staffed_table,
        by_language=_columns.response_rows(*_languages(t.col["language"]), f, e, target),
    )


def _languages(values: Sequence[str | None]) -> tuple[list[str], _columns.Ints]:
    """Each conversation's shopper language as routing compares them ("de-AT" is "de")."""
    return _columns.codes([language_key(v) or None if v else None for v in values], NO_LANGUAGE)


def _workload(t: _Table, staffed_hours: float) -> Workload:
    """Conversations and messages per agent, queued and abandoned, peak concurrent chats."""
    assigned = _columns.objects(t.col["agent_id"]).astype(bool)  # None and "" are false
    by_shopper = _columns.objects(t.col["closed_by"]) == "shopper"
    is_closed = _columns.objects(t.col["status"]) == "closed"
    abandoned = is_closed & ~t.resolved & by_shopper
    width, codes = len(t.agent_names), t.agent_codes
    conversations = np.bincount(codes[assigned], minlength=width)
    messages = np.bincount(codes[assigned], weights=t.messages[assigned], minlength=width)
    resolved = np.bincount(codes[assigned & t.resolved], minlength=width)
    open_from, open_to = np.sort(t.anchors[assigned]), np.sort(t.ends[assigned])
    # At each start, those open are the starts so far less the ends at or before it.
    concurrent = np.arange(1, len(open_from) + 1) - np.searchsorted(
        open_to, open_from, side="right"
    )
    return Workload(
        conversations=t.n,
        messages=int(t.messages.sum()),
        staffed_hours=staffed_hours,
        queued=int(t.was_queued.sum()),
        abandoned=int(abandoned.sum()),
        peak_concurrent=int(concurrent.max()) if len(concurrent) else 0,
        by_agent=[
            AgentLoad(
                agent_id=name,
                conversations=int(conversations[k]),
                messages=int(messages[k]),
                resolved=int(resolved[k]),
                conversations_per_staffed_hour=(
                    round(int(conversations[k]) / staffed_hours, 3) if staffed_hours else None
                ),
            )
            for k, name in sorted(enumerate(t.agent_names), key=lambda pair: pair[1])
            if conversations[k]
        ],
    )


def _quality(t: _Table, handoffs_in_resolved: float) -> Quality:
    """Ratings overall and per agent, the latest comments, tags, effort per resolved chat."""
    rated = ~np.isnan(t.rating)
    overall = _columns.ratings_by(["all"], np.zeros(t.n, dtype=np.int64), t.rating, rated).get(
        "all", Ratings()
    )
    per_agent = _columns.ratings_by(t.agent_names, t.agent_codes, t.rating, rated)
    ids, remarks = t.col["id"], t.col["rating_comment"]
    commented_rows = np.flatnonzero(rated & _columns.objects(remarks).astype(bool))
    commented_at = t.ends[commented_rows]  # when it closed (or now, if still open)
    latest = np.argsort(-commented_at, kind="stable")[:MAX_COMMENTS].tolist()
    tags = Counter(chain.from_iterable(tag for tag in t.col["tags"] if tag))
    resolved_count = int(t.resolved.sum())
    return Quality(
        ratings=overall.count,
        satisfied=overall.satisfied,
        csat=overall.csat,
        average=overall.average,
        by_agent=[
            AgentRating(agent_id=name, ratings=r.count, average=r.average, share_satisfied=r.csat)
            for name, r in sorted(per_agent.items())
        ],
        comments=[
            Comment(
                conversation_id=ids[i],
                agent_id=t.agent_names[t.agent_codes[i]],
                rating=int(t.rating[i]),
                comment=remarks[i],
                at=float(commented_at[j]),
            )
            for j in latest
            for i in [int(commented_rows[j])]
        ],
        tags=[TagCount(tag=tag, count=c) for tag, c in tags.most_common()],
        resolved=resolved_count,
        messages_per_resolved=mean(float(t.messages[t.resolved].sum()), resolved_count),
        handoffs_per_resolved=mean(handoffs_in_resolved, resolved_count),
    )


def _days(t: _Table, since: float, until: float) -> list[DayRow]:
    """Per day of the range: conversations, first-response figures and CSAT."""
    names, codes = t.days_of
    day_table = {r.key: r for r in _columns.response_rows(names, codes, t.first, t.every, t.target)}
    per_day = _columns.ratings_by(names, codes, t.rating, ~np.isnan(t.rating))
    counts = np.bincount(codes, minlength=len(names))
    day_counts = {day: int(counts[k]) for k, day in enumerate(names)}
    return [
        DayRow(
            day=day,
            conversations=day_counts.get(day, 0),
            first=day_table[day].first if day in day_table else TimeStats(),
            csat=per_day[day].csat if day in per_day else None,
            average_rating=per_day[day].average if day in per_day else None,
        )
        for day in _columns.days_between(since, until, t.zone)
    ]
