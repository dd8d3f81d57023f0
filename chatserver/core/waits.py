"""How long a waiting shopper can expect to wait, from the queue as it is now, and what the
shoppers and agents are told of it."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from chatserver.domain import protocol as p
from chatserver.domain.conversation import Conversation


@dataclass(frozen=True)
class Outlook:
    """Agents online, the wait a new conversation can expect (None: nobody), whether the bot leads.

    For a shopper of a given language, ``free`` counts the free seats of the agents who would
    take their chat at once (those who speak it) and ``estimate`` the wait for a speaker or, once
    the language's wait is over, for anyone.
    """

    online: int
    free: int
    estimate: float | None
    with_bot: bool


@dataclass(frozen=True)
class Seats:
    """An online agent's seats: capacity, open chats, and the language keys they speak."""

    capacity: int
    held: int
    languages: tuple[str, ...] = ()

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.held)


@dataclass(frozen=True)
class Label:
    """A waiting conversation as routing sees it: its language key, and when anyone may take it."""

    language: str
    anyone_from: float

    def open_to(self, language: str, now: float) -> bool:
        """Whether a speaker of ``language`` may take it now (its own, any, or its wait is over)."""
        return self.language in ("", language) or self.anyone_from <= now


def speaker_places(queue: Iterable[Label], now: float) -> list[int]:
    """Each waiting conversation's place (1 = next) among those ahead that a speaker of its
    language may take, in one pass: anyone's (no language, or their wait is over) and its own."""
    places = []
    open_to_all = 0
    by_language: dict[str, int] = {}
    for label in queue:
        places.append(open_to_all + by_language.get(label.language, 0) + 1)
        if not label.language or label.anyone_from <= now:
            open_to_all += 1
        else:
            by_language[label.language] = by_language.get(label.language, 0) + 1
    return places


class WaitEstimator:
    """Estimates waits from the seats agents have free and how long chats recently took.

    A chat's handling time (assigned to closed) is kept with when it ended; the mean weighs each
    by its age (halved every ``half_life_s``) beside a prior of ``default_s`` weighing one fresh
    chat, so one slow chat fades instead of ruling the estimate until a restart.
    """

    def __init__(
        self, default_s: float = 30.0, half_life_s: float = 900.0, window: int = 200
    ) -> None:
        self._default_s = default_s
        self._half_life_s = half_life_s
        self._handled: deque[tuple[float, float]] = deque(maxlen=window)

    def record(self, handled_s: float, now: float) -> None:
        """A chat ended at ``now`` after an agent held it ``handled_s`` seconds."""
        self._handled.append((now, max(0.0, handled_s)))

    def handling_s(self, now: float) -> float:
        """The recent mean handling time of one chat, old chats weighing less."""
        total, weight = self._default_s, 1.0
        for ended, handled in self._handled:
            w = 0.5 ** (max(0.0, now - ended) / self._half_life_s)
            total += w * handled
            weight += w
        return total / weight

    def estimate(self, position: int, seats: Iterable[tuple[int, int]], now: float) -> float | None:
        """Seconds the conversation at ``position`` (1 = next) can expect to wait; None: nobody.

        ``seats`` holds (capacity, open chats) of each agent online. Places up to the free seats
        wait nothing; beyond them, seats free up at ``capacity / handling time``.
        """
        seats = list(seats)
        capacity = sum(c for c, _ in seats)
        if capacity == 0:
            return None
        free = sum(max(0, c - held) for c, held in seats)
        ahead = position - free
        if ahead <= 0:
            return 0.0
        return round(ahead * self.handling_s(now) / capacity, 1)

    def estimate_in(
        self,
        language: str,
        places: tuple[int, int],
        seats: Iterable[Seats],
        wait_left_s: float,
        now: float,
    ) -> float | None:
        """Seconds a conversation in ``language`` (a key; "": any agent) can expect to wait.

        ``places`` is its place among the conversations a speaker of its language may take
        (1 = next) and its place in the whole queue. Speakers' seats go first; anyone's count
        only after ``wait_left_s``, the rest of its wait for a speaker: the estimate is the
        sooner of a speaker's seat and that wait plus the wait for anyone's. None: nobody.
        """
        seats = list(seats)
        everyone = [(s.capacity, s.held) for s in seats]
        if not language:
            return self.estimate(places[1], everyone, now)
        speakers = [(s.capacity, s.held) for s in seats if language in s.languages]
        by_speaker = self.estimate(places[0], speakers, now)
        by_anyone = self.estimate(places[1], everyone, now)
        if by_anyone is not None:
            by_anyone = round(max(0.0, wait_left_s) + by_anyone, 1)
        waits = [w for w in (by_speaker, by_anyone) if w is not None]
        return min(waits) if waits else None


def availability(
    outlook: Outlook, target_s: float, texts: tuple[str, str], back_at: str
) -> p.Availability:
    """What a shopper is told on connecting: who would answer a new message, and how soon."""
    mode: str
    if outlook.with_bot:
        mode = "bot"
    elif outlook.online == 0 or outlook.estimate is None:
        mode = "offline"
    else:
        mode = "live" if outlook.estimate <= target_s else "busy"
    greeting, away = texts
    return p.Availability(
        mode=mode,  # type: ignore[arg-type]
        estimated_wait_s=outlook.estimate,
        agents_online=outlook.online,
        greeting=greeting if mode == "bot" else "",
        away=away,
        back_at=back_at,
    )


def snapshot(queue: list[Conversation], online: int, target_s: float) -> str:
    """What agents see of the queue: each entry's place, deadline and question."""
    waiting = [
        p.WaitingConversation(
            conversation_id=conversation.id,
            position=position,
            queued_at=conversation.queued_at or conversation.created_at,
            deadline=conversation.deadline(target_s),
            question=conversation.question,
            language=conversation.language,
        )
        for position, conversation in enumerate(queue, start=1)
    ]
    return p.QueueSnapshot(waiting=waiting, agents_online=online).model_dump_json()
