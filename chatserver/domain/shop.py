"""A shop's settings from `faq_data/shop.toml`: hours, response target, queue threshold, bot texts."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chatserver.domain.hours import WEEKDAYS, StaffedHours, parse_range

_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?/?$")


DEMO_SHOP_NAME = "Kitebay"
"""The demo shop's name (``faq_data/shop.toml``): the demo page is shown while a shop keeps it."""


class BotTexts(BaseModel):
    """The bot's own sentences in one locale."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    greeting: str = Field(min_length=1)
    thanks: str = Field(min_length=1)
    away: str = Field(min_length=1)
    handoff: str = Field(min_length=1)
    abstain: str = Field(min_length=1)
    #: Put before an English answer when the entry has no text in this locale.
    english_note: str | None = Field(default=None, min_length=1)


class WeeklyHours(BaseModel):
    """Shift ranges per weekday, e.g. monday = ["08:00-20:00"]; a missing day is closed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    monday: tuple[str, ...] = ()
    tuesday: tuple[str, ...] = ()
    wednesday: tuple[str, ...] = ()
    thursday: tuple[str, ...] = ()
    friday: tuple[str, ...] = ()
    saturday: tuple[str, ...] = ()
    sunday: tuple[str, ...] = ()
    holidays: tuple[date, ...] = ()

    @field_validator(*WEEKDAYS)
    @classmethod
    def _ranges_parse(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for text in value:
            parse_range(text)
        return value

    @model_validator(mode="after")
    def _no_overlap(self) -> WeeklyHours:
        """Shifts, including those running past midnight, may not overlap anywhere in the week."""
        week = 7 * 1440
        spans = []
        for index, day in enumerate(WEEKDAYS):
            for text in getattr(self, day):
                begins, ends = parse_range(text)
                first = index * 1440 + begins.hour * 60 + begins.minute
                length = (ends.hour * 60 + ends.minute - first % 1440) % 1440
                spans.append((first, first + length, day, text))
        spans.sort()
        following = [*spans[1:], *((s[0] + week, *s[1:]) for s in spans[:1])]
        for (_, end, day, text), (start, _, next_day, next_text) in zip(
            spans, following, strict=False
        ):
            if len(spans) > 1 and start < end:
                raise ValueError(f"{day} {text} overlaps {next_day} {next_text}")
        return self


class ShopSettings(BaseModel):
    """Everything the hub needs to know about one shop."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    shop_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1)
    time_zone: str
    response_target_s: int = Field(default=60, gt=0)
    queue_threshold: int = Field(default=5, ge=0)
    #: Seconds a conversation waits for an agent who speaks the shopper's language before the
    #: response target is at risk and anyone with a seat takes it; unset: half the target.
    language_wait_s: int | None = Field(default=None, ge=0)
    hours: WeeklyHours = WeeklyHours()
    texts: dict[str, BotTexts]
    #: The languages the bot speaks, English first; `chatserver faq check` reports FAQ entries
    #: missing in any of them.
    languages: tuple[str, ...] = ("en",)
    #: An entry missing in the shopper's language: answer in English with `english_note`
    #: ("english"), or pass the shopper to a person ("handoff").
    missing_language: Literal["english", "handoff"] = "english"
    #: Set from the admin page: the console's title, the widget's colour and logo, whether the
    #: demo product page is served at `/`, and the shop sites allowed to embed the widget.
    console_title: str = Field(default="", max_length=100)
    color: str = Field(default="", pattern=r"^(#[0-9a-fA-F]{6})?$")
    logo_url: str = Field(default="", max_length=500, pattern=r"^(https?://\S+)?$")
    demo_page: bool = True
    #: After the rating, the widget asks "How easy was it to get help?" (1-7, customer effort).
    ask_effort: bool = True
    allowed_origins: tuple[str, ...] = ()

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            if not _ORIGIN.match(origin):
                raise ValueError(
                    f"{origin!r} is not an origin: scheme and host only, e.g. https://shop.example"
                )
        return tuple(origin.rstrip("/") for origin in value)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as 'Europe/Berlin')"
            ) from exc
        return value

    @model_validator(mode="after")
    def _english_first(self) -> ShopSettings:
        if "en" not in self.texts:
            raise ValueError("texts must include an 'en' table (the fallback locale)")
        if not self.languages or self.languages[0] != "en":
            raise ValueError("languages must start with 'en' (the fallback language)")
        return self

    def staffed_hours(self) -> StaffedHours:
        """Build the shop's `StaffedHours`."""
        weekly = {day: getattr(self.hours, day) for day in WEEKDAYS}
        return StaffedHours(self.time_zone, weekly, self.hours.holidays)

    def texts_for(self, locale: str | None) -> BotTexts:
        """Return the texts for a locale ("de-AT" falls back to "de", then to "en")."""
        return self.texts[self.texts_language(locale) or "en"]

    def texts_language(self, locale: str | None) -> str | None:
        """The key of the texts a locale reads ("de-AT" -> "de", "zh-Hans" -> "zh-CN"); None:
        the shop has none in its language."""
        if locale:
            by_lower = {key.lower(): key for key in self.texts}
            for key in (locale.replace("_", "-"), locale.split("-")[0].split("_")[0]):
                if key.lower() in by_lower:
                    return by_lower[key.lower()]
            base = locale.split("-")[0].split("_")[0].lower()
            for key in self.texts:
                if key.lower().split("-")[0] == base:
                    return key
        return None

    def english_note(self, locale: str | None) -> str:
        """The note before an English answer in this locale (English's, or a default)."""
        return (
            self.texts_for(locale).english_note
            or self.texts["en"].english_note
            or "This answer is only available in English:"
        )


def load_shop(path: Path) -> ShopSettings:
    """Load and validate a shop.toml.

    Raises:
        ValueError: unreadable TOML or invalid settings (pydantic's ValidationError is one).
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from exc
    return ShopSettings.model_validate(data)
