"""Staffed hours: shifts across midnight, holidays, daylight saving, and shop.toml."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from chatserver.domain.hours import StaffedHours, parse_range
from chatserver.domain.shop import load_shop

BERLIN = ZoneInfo("Europe/Berlin")
SHOP = Path(__file__).resolve().parents[1] / "faq_data" / "shop.toml"


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def hours() -> StaffedHours:
    return StaffedHours(
        "Europe/Berlin",
        {
            "monday": ["08:00-20:00"],
            "friday": ["20:00-02:00"],
            "sunday": ["10:00-12:00", "14:00-16:00"],
        },
        holidays=[date(2026, 12, 25)],
    )


def test_open_inside_a_shift_and_closed_at_its_end(hours: StaffedHours) -> None:
    assert hours.is_open(berlin(2026, 3, 2, 8, 0))  # a Monday
    assert hours.is_open(berlin(2026, 3, 2, 19, 59))
    assert not hours.is_open(berlin(2026, 3, 2, 20, 0))
    assert not hours.is_open(berlin(2026, 3, 3, 12, 0))  # Tuesday: no shift


def test_shift_crossing_midnight_runs_into_the_next_day(hours: StaffedHours) -> None:
    assert hours.is_open(berlin(2026, 3, 6, 23, 30))  # Friday night
    assert hours.is_open(berlin(2026, 3, 7, 1, 59))  # Saturday early morning
    assert not hours.is_open(berlin(2026, 3, 7, 2, 0))


def test_instant_in_another_zone_is_judged_in_the_shops_zone(hours: StaffedHours) -> None:
    new_york = datetime(2026, 3, 2, 3, 0, tzinfo=ZoneInfo("America/New_York"))  # 09:00 Berlin
    assert hours.is_open(new_york)


def test_holiday_cancels_the_shift_that_starts_on_it() -> None:
    hours = StaffedHours(
        "Europe/Berlin",
        {"thursday": ["20:00-02:00"], "friday": ["08:00-20:00"]},
        [date(2026, 12, 25)],
    )
    assert hours.is_open(berlin(2026, 12, 25, 1, 0))  # Thursday's shift still ends
    assert not hours.is_open(berlin(2026, 12, 25, 10, 0))
    assert hours.next_opening(berlin(2026, 12, 25, 10, 0)) == berlin(2026, 12, 31, 20, 0)


def test_wall_clock_hours_hold_across_daylight_saving_changes(hours: StaffedHours) -> None:
    # 2026-03-29 and 2026-10-25 are the Sundays of the change in Europe/Berlin.
    for day in (date(2026, 3, 29), date(2026, 10, 25)):
        assert hours.is_open(berlin(day.year, day.month, day.day, 10, 0))
        assert not hours.is_open(berlin(day.year, day.month, day.day, 12, 30))
    opening = hours.next_opening(berlin(2026, 3, 29, 12, 30))
    assert opening == berlin(2026, 3, 29, 14, 0)
    assert opening.utcoffset().total_seconds() == 7200  # CEST, not the CET of the morning


def test_next_opening_is_now_when_open_and_the_next_shift_when_closed(hours: StaffedHours) -> None:
    now = berlin(2026, 3, 2, 9, 0)
    assert hours.next_opening(now) == now
    assert hours.next_opening(berlin(2026, 3, 2, 21, 0)) == berlin(2026, 3, 6, 20, 0)


def test_next_opening_is_none_when_never_staffed() -> None:
    assert (
        StaffedHours("UTC", {}).next_opening(datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC"))) is None
    )


def test_naive_datetimes_are_refused(hours: StaffedHours) -> None:
    with pytest.raises(ValueError, match="aware"):
        hours.is_open(datetime(2026, 3, 2, 9, 0))


@pytest.mark.parametrize("bad", ["8-20", "08:00-08:00", "25:00-26:00", "08:00"])
def test_bad_ranges_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_range(bad)


def test_unknown_weekday_is_refused() -> None:
    with pytest.raises(ValueError, match="funday"):
        StaffedHours("UTC", {"funday": ["08:00-09:00"]})


def test_shop_toml_loads_with_hours_texts_and_targets() -> None:
    shop = load_shop(SHOP)
    assert (shop.time_zone, shop.response_target_s) == ("Europe/Berlin", 60)
    hours = shop.staffed_hours()
    assert hours.is_open(berlin(2026, 3, 2, 9, 0))
    assert hours.is_open(berlin(2026, 3, 9, 0, 30))  # Sunday 20:00-02:00 runs into Monday
    assert not hours.is_open(berlin(2026, 12, 25, 9, 0))  # a holiday
    assert shop.texts_for("de-AT").greeting.startswith("Hallo")
    assert shop.texts_for("sv-SE").greeting.startswith("Hej! Jag är Kitebays assistent")
    assert shop.texts_for("fi-FI") == shop.texts["en"]  # no Finnish texts: English


def test_shop_with_unknown_zone_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "shop.toml"
    path.write_text(SHOP.read_text().replace("Europe/Berlin", "Mars/Olympus"))
    with pytest.raises(ValueError, match="time zone"):
        load_shop(path)
