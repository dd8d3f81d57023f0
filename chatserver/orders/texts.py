"""The bot's order answers in each language: ``texts/<lang>.toml``, English for what one lacks."""

from __future__ import annotations

import functools
import tomllib
from datetime import date
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from pydantic import BaseModel, ConfigDict

from chatserver.orders.models import Order

FOLDER = Path(__file__).with_name("texts")


class OrderTexts(BaseModel):
    """One language's order answers; ``{placeholders}`` are filled per order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ask: str
    intro_one: str
    intro_many: str
    order: str
    items: str
    carrier: str
    tracking: str
    eta: str
    none: str
    not_found: str
    unavailable: str
    status: dict[str, str]


def languages() -> list[str]:
    """The languages that have order texts."""
    return sorted(path.stem for path in FOLDER.glob("*.toml"))


@functools.cache
def texts_for(lang: str) -> OrderTexts:
    """This language's texts ("de-AT" -> de), else English's."""
    for code in (lang, lang.split("-")[0], "en"):
        path = FOLDER / f"{code}.toml"
        if code and path.is_file():
            return OrderTexts.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    raise FileNotFoundError(FOLDER / "en.toml")  # pragma: no cover - English ships


def _locale(lang: str) -> Locale:
    try:
        return Locale.parse(lang.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def describe(orders: list[Order], lang: str) -> str:
    """The orders as the bot tells them: status, items, carrier, tracking link, delivery date."""
    texts = texts_for(lang)
    if not orders:
        return texts.none
    blocks = [
        texts.intro_one.format(number=orders[0].number) if len(orders) == 1 else texts.intro_many
    ]
    for order in orders:
        lines = [
            texts.order.format(
                number=order.number, status=texts.status.get(order.status, order.status)
            )
        ]
        if order.items:
            names = ", ".join(
                item.name if item.quantity == 1 else f"{item.quantity} × {item.name}"
                for item in order.items
            )
            lines.append(texts.items.format(items=names))
        if order.carrier:
            lines.append(texts.carrier.format(carrier=order.carrier))
        if order.tracking_url:
            lines.append(texts.tracking.format(tracking_url=order.tracking_url))
        if order.estimated_delivery and order.status in ("processing", "shipped", "delayed"):
            lines.append(texts.eta.format(date=day(order.estimated_delivery, lang)))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def day(when: date, lang: str) -> str:
    """A date as the shopper's language writes it."""
    return format_date(when, format="long", locale=_locale(lang))
