"""The hook a bot plugs into: when it is in charge, and what it says to a shopper message.

The bot is an assistant, not a gate: the assigner decides whether a person is available (one
source of truth) and the bot never takes a conversation while an agent has a free seat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class BotTurn:
    """What the bot says to one shopper message, and whether a person must take over.

    ``faq_id`` and ``title`` name the FAQ entry an answer came from; ``ask_email`` asks the
    shopper for an address because nobody is staffed; ``asked_for_person`` says the shopper's
    message asked for a person rather than a question; ``lang`` is the language it answered in
    (empty: the conversation's).
    """

    text: str
    handoff: bool = False
    faq_id: str | None = None
    title: str = ""
    ask_email: bool = False
    asked_for_person: bool = False
    lang: str = ""


class Bot(Protocol):
    """The routing hook the FAQ bot plugs into."""

    def in_charge(self, now: float, queue_length: int, estimated_wait_s: float) -> bool:
        """True when a new conversation should start with the bot rather than the queue."""
        ...

    def reply(
        self, text: str, locale: str, now: float, people_online: bool, timezone: str = ""
    ) -> BotTurn:
        """The bot's answer to a shopper message; what it cannot answer it hands to a person.

        ``people_online`` is the assigner's word on whether a person is online now: without one
        the bot offers an e-mail follow-up instead of promising a person, saying when people are
        back in the shopper's ``timezone`` (an IANA name; the shop's own when empty or unknown).
        """
        ...

    def back_at(self, now: float, locale: str, timezone: str) -> str:
        """When people are next on, in the shopper's language and time zone ("" if unknown)."""
        ...

    def texts(self, locale: str) -> tuple[str, str]:
        """The shop's own greeting and away texts in this locale (empty: use the widget's)."""
        ...

    def language(self, text: str, locale: str) -> str:
        """The shop language a shopper's ``text`` is written in ("de", "zh-CN"), the widget's
        ``locale`` helping; "" when the text is too short to tell (the caller uses the locale)."""
        ...


class NoBot:
    """A shop without a bot: every conversation goes to the queue."""

    def in_charge(self, now: float, queue_length: int, estimated_wait_s: float) -> bool:
        return False

    def reply(
        self, text: str, locale: str, now: float, people_online: bool, timezone: str = ""
    ) -> BotTurn:
        return BotTurn("A person will be with you shortly.", handoff=True)

    def back_at(self, now: float, locale: str, timezone: str) -> str:
        return ""

    def texts(self, locale: str) -> tuple[str, str]:
        return "", ""

    def language(self, text: str, locale: str) -> str:
        return ""
