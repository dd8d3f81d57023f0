"""``chatserver report``: a report's headline figures (or another table) in the terminal."""

from __future__ import annotations

import sys
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from chatserver.domain.settings import Settings
from chatserver.reports import tables
from chatserver.reports.source import build_report, day_range, report_settings


async def report(
    settings: Settings, first: date | None, last: date | None, table: str, as_csv: bool
) -> int:
    """Print one table of the report of days ``first`` to ``last``; returns the exit code."""
    from chatserver.store import store_for

    make = tables.TABLES.get(table)
    if make is None:
        print(
            f"chatserver report: no table {table!r}; tables: {', '.join(tables.TABLES)}",
            file=sys.stderr,
        )
        return 2
    measure = report_settings(settings)
    now = time.time()
    last = last or datetime.fromtimestamp(now, ZoneInfo(measure.time_zone)).date()
    first = first or last - timedelta(days=6)
    if first > last:
        print("chatserver report: --from must not be after --to", file=sys.stderr)
        return 2
    store = store_for(settings)
    await store.start()
    try:
        since, until = day_range(first, last, measure.time_zone)
        result = await build_report(store, measure, since, until, now)
    finally:
        await store.close()
    if as_csv:
        print(tables.to_csv(make(result)), end="")
    else:
        print(f"Report {first} to {last} ({measure.time_zone}), target {measure.target_s:g} s\n")
        print(tables.to_text(make(result)))
    return 0
