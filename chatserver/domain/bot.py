"""The hook a bot plugs into: when it is in charge, and what it says to a shopper message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class BotTurn:
    """What the bot says to one shopper message, and whether a person must take over.

    ``faq_id`` and ``title`` name the FAQ entry an answer came from; ``ask_email`` asks the
    shopper for an address because nobody is staffed; ``asked_for_person`` says the shopper's
    message asked for a person rather than a question.
    """

    text: str
    handoff: bool = False
    faq_id: str | None = None
    title: str = ""
    ask_email: bool = False
    asked_for_person: bool = False


class Bot(Protocol):
    """The routing hook the FAQ bot plugs into."""

    def in_charge(self, now: float, queue_length: int, estimated_wait_s: float) -> bool:
        """True when a new conversation should start with the bot rather than the queue."""
        ...

    def reply(self, text: str, locale: str, now: float) -> BotTurn:
        """The bot's answer to a shopper message in a conversation it is in charge of."""
        ...

    def texts(self, locale: str) -> tuple[str, str]:
        """The shop's own greeting and away texts in this locale (empty: use the widget's)."""
        ...


class NoBot:
    """A shop without a bot: every conversation goes to the queue."""

    def in_charge(self, now: float, queue_length: int, estimated_wait_s: float) -> bool:
        return False

    def reply(self, text: str, locale: str, now: float) -> BotTurn:
        return BotTurn("A person will be with you shortly.", handoff=True)

    def texts(self, locale: str) -> tuple[str, str]:
        return "", ""
