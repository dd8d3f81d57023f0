"""When the bot is in charge, and how long a waiting shopper can expect to wait."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from statistics import fmean
from typing import Protocol


@dataclass(frozen=True)
class BotTurn:
    """What the bot says to one shopper message, and whether a person must take over.

    ``faq_id`` and ``title`` name the FAQ entry an answer came from; ``ask_email`` asks the
    shopper for an address because nobody is staffed.
    """

    text: str
    handoff: bool = False
    faq_id: str | None = None
    title: str = ""
    ask_email: bool = False


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


class WaitEstimator:
    """Estimates a queue wait from how long recent conversations waited per queue place."""

    def __init__(self, default_s: float = 30.0, window: int = 50) -> None:
        self._default_s = default_s
        self._per_place: deque[float] = deque(maxlen=window)

    def record(self, waited_s: float, position_when_queued: int = 1) -> None:
        """A conversation waited this long from the given place in the queue."""
        self._per_place.append(max(0.0, waited_s) / max(1, position_when_queued))

    def estimate(self, position: int, agents_online: int) -> float | None:
        """Seconds the conversation at ``position`` (1 = next) can expect to wait; None: unknown."""
        if agents_online == 0:
            return None
        per_place = fmean(self._per_place) if self._per_place else self._default_s
        return round(position * per_place / agents_online, 1)
