"""Staffed hours per shop: weekly shifts in the shop's time zone, crossing midnight, and holidays."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_SEARCH_DAYS = 15


def parse_range(text: str) -> tuple[time, time]:
    """Parse "08:00-20:00" (or "20:00-02:00", which ends the next day; "24:00" is midnight).

    Raises:
        ValueError: not of the form HH:MM-HH:MM, or start equals end.
    """
    found = _RANGE.match(text)
    if not found:
        raise ValueError(f"not a time range like '08:00-20:00': {text!r}")
    start_h, start_m, end_h, end_m = (int(part) for part in found.groups())
    if end_h == 24 and end_m == 0:
        end_h = 0
    if start_h > 23 or end_h > 23 or start_m > 59 or end_m > 59:
        raise ValueError(f"not a valid time of day in {text!r}")
    start, end = time(start_h, start_m), time(end_h, end_m)
    if start == end:
        raise ValueError(f"empty shift: {text!r}")
    return start, end


class StaffedHours:
    """When a shop has people on chat.

    Shifts are wall-clock times in the shop's zone, so daylight-saving changes never move them.
    A shift that ends at or before its start runs into the next day. A holiday (a date in the
    shop's zone) cancels the shifts that start on it; one that began the evening before still ends.

    Args:
        time_zone: an IANA name, e.g. "Europe/Berlin".
        weekly: weekday name -> list of "HH:MM-HH:MM" ranges; missing days are closed.
        holidays: dates on which no shift starts.
    """

    def __init__(
        self,
        time_zone: str,
        weekly: Mapping[str, Iterable[str]],
        holidays: Iterable[date] = (),
    ) -> None:
        unknown = set(weekly) - set(WEEKDAYS)
        if unknown:
            raise ValueError(f"unknown weekday(s): {', '.join(sorted(unknown))}")
        self.zone = ZoneInfo(time_zone)
        self.shifts: dict[int, tuple[tuple[time, time], ...]] = {
            index: tuple(parse_range(text) for text in weekly.get(name, ()))
            for index, name in enumerate(WEEKDAYS)
        }
        self.holidays = frozenset(holidays)

    def _intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The shifts starting on `day`, as aware datetimes in the shop's zone."""
        if day in self.holidays:
            return []
        intervals = []
        for start, end in self.shifts[day.weekday()]:
            end_day = day + timedelta(days=1) if end <= start else day
            intervals.append(
                (
                    datetime.combine(day, start, tzinfo=self.zone),
                    datetime.combine(end_day, end, tzinfo=self.zone),
                )
            )
        return intervals

    def _local(self, at: datetime) -> datetime:
        if at.tzinfo is None:
            raise ValueError("need an aware datetime (with tzinfo), not a naive one")
        return at.astimezone(self.zone)

    def is_open(self, at: datetime) -> bool:
        """Return True if a shift covers the instant `at` (an aware datetime)."""
        local = self._local(at)
        for day in (local.date() - timedelta(days=1), local.date()):
            for start, end in self._intervals(day):
                # Compare as instants (UTC): wall-clock comparisons are wrong across a DST change.
                if start.timestamp() <= local.timestamp() < end.timestamp():
                    return True
        return False

    def next_opening(self, at: datetime) -> datetime | None:
        """Return when staff are next on (`at` itself if open now), in the shop's zone.

        Returns None if no shift starts within the next two weeks.
        """
        local = self._local(at)
        if self.is_open(local):
            return local
        for offset in range(_SEARCH_DAYS):
            for start, _ in sorted(self._intervals(local.date() + timedelta(days=offset))):
                if start.timestamp() > local.timestamp():
                    return start
        return None

    def spans(self, since: datetime, until: datetime) -> list[tuple[float, float]]:
        """The staffed intervals overlapping ``[since, until)``, as sorted, merged epoch seconds."""
        first, last = self._local(since).date() - timedelta(days=1), self._local(until).date()
        spans: list[tuple[float, float]] = []
        for offset in range((last - first).days + 1):
            for start, end in sorted(self._intervals(first + timedelta(days=offset))):
                lo, hi = start.timestamp(), end.timestamp()
                if hi <= since.timestamp() or lo >= until.timestamp():
                    continue
                if spans and lo <= spans[-1][1]:
                    spans[-1] = (spans[-1][0], max(spans[-1][1], hi))
                else:
                    spans.append((lo, hi))
        return spans
