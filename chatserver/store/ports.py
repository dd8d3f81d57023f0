"""The store's ports: what a chat needs from storage, as small interfaces.

- :class:`Log`: each conversation's events, in ``seq`` order, appended idempotently.
- :class:`Records`: each conversation's record, field by field.
- :class:`Router`: the queue, agents' presence and who holds which chat; claims are atomic.
- :class:`AgentAccounts`: agent accounts.
- :class:`Trays`: small named sets of items ordered by a score (the offline inbox, the mail outbox).
- :class:`Search`: full-text search of past conversations.
- :class:`ShopConfig`: the shop's configuration documents (TOML text) and its audit log.
- :class:`Files`: attachments' bytes, by key (disk, S3-compatible storage, or memory).
- the bus (:class:`chatserver.store.bus.Bus`): events and control signals between workers; its
  local fan-out is written once, and an adapter only supplies a :class:`Relay` between workers.

Payloads cross the ports as JSON text; adapters never import the protocol models.
"""

from __future__ import annotations

import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chatserver.store.bus import Bus

Render = Callable[[int], str]
"""Builds an event's JSON text once its ``seq`` is known."""


@dataclass(frozen=True)
class Appended:
    """An event stored in a conversation's log (or found there for a retried ``client_id``)."""

    seq: int
    text: str
    duplicate: bool = False
    #: The record's revision after a new event, where the adapter keeps one (Redis), else None.
    rev: int | None = None


class RecordChanged(Exception):
    """An append expecting a record revision found another: nothing was stored.

    ``fields`` is the record now (None if there is none), at revision ``rev``."""

    def __init__(self, fields: dict[str, str] | None, rev: int) -> None:
        super().__init__(f"the record is at revision {rev}")
        self.fields = fields
        self.rev = rev


@dataclass(frozen=True)
class Presence:
    """An agent's routing state."""

    agent_id: str
    status: str
    capacity: int
    open_chats: int
    idle_since: float
    chosen: str = "offline"  # the status the agent last chose; kept while they are away
    languages: tuple[str, ...] = ()  # the language keys they speak ("de", "zh"), sorted


@dataclass(frozen=True)
class Claim:
    """A waiting conversation given to an agent."""

    conversation_id: str
    agent_id: str


REPORT_FIELDS = (
    "id", "shop_id", "status", "created_at", "agent_id", "queued_at", "clock_started",
    "first_response_s", "response_times", "closed_at", "closed_by", "rating", "rating_comment",
    "messages", "tags", "bot_spoke", "bot_helpful", "handoffs", "unanswered",
    "bot_order_answers", "language",
)  # fmt: skip
"""The record fields reports read, in the order ``Records.scan`` gives them."""


class StoreUnavailable(Exception):
    """Raised when the store cannot be reached; nothing was stored."""


class Log(ABC):
    """Conversation logs. Safe under concurrent callers, from any number of workers."""

    @abstractmethod
    async def append(
        self,
        conversation_id: str,
        render: Render,
        client_id: str | None = None,
        fields: Mapping[str, str] | None = None,
        expected_rev: int | None = None,
    ) -> Appended:
        """Store the next event durably and return it; a known ``client_id`` returns the original.

        ``fields`` (record fields, each JSON text) are set in the same write, when the event is new.
        ``expected_rev``: as in :meth:`append_published` (an adapter that keeps no revisions is
        never given one).
        """

    @abstractmethod
    async def read(
        self, conversation_id: str, after_seq: int = 0, limit: int | None = None
    ) -> list[tuple[int, str]]:
        """Stored events with ``seq > after_seq`` (the first ``limit`` if given), in order, as
        ``(seq, text)``."""

    @abstractmethod
    async def find(self, conversation_id: str, client_id: str) -> Appended | None:
        """The stored event with this ``client_id`` (as a duplicate), or None."""

    async def append_published(
        self,
        conversation_id: str,
        render: Render,
        client_id: str | None,
        fields: Mapping[str, str] | None,
        bus: Bus,
        channel: str,
        expected_rev: int | None = None,
    ) -> Appended:
        """:meth:`append`, then publish the new event (not a duplicate) on ``bus`` to
        ``channel``'s followers. An adapter whose relay shares the log's server publishes to
        other workers in the same write (one round trip).

        ``expected_rev`` (only ever one an adapter returned in ``Appended.rev``): store the event
        only if the record is still at that revision, else raise :class:`RecordChanged`. A
        retried ``client_id`` returns its original whatever the revision."""
        appended = await self.append(conversation_id, render, client_id, fields, expected_rev)
        if not appended.duplicate:
            await bus.publish(channel, appended.text, appended.seq)
        return appended

    async def read_many(self, conversation_ids: Sequence[str]) -> dict[str, list[str]]:
        """The stored events' texts of many conversations, each log in ``seq`` order."""
        return {c: [text for _, text in await self.read(c)] for c in conversation_ids}


class Records(ABC):
    """Conversation records: fields as JSON text, set field by field so writers never collide."""

    @abstractmethod
    async def create(
        self, conversation_id: str, shopper_id: str, fields: Mapping[str, str]
    ) -> None:
        """Store a new record; ``fields`` maps names to JSON values."""

    @abstractmethod
    async def update(self, conversation_id: str, fields: Mapping[str, str]) -> None:
        """Set some fields of a record, leaving the others alone. Raises KeyError if none."""

    @abstractmethod
    async def get(self, conversation_id: str) -> dict[str, str] | None:
        """A record's fields as JSON text, or None."""

    @abstractmethod
    async def of_shopper(self, shopper_id: str) -> list[str]:
        """A shopper's conversation ids, oldest first."""

    async def latest_revised(
        self, shopper_id: str
    ) -> tuple[str, dict[str, str] | None, int | None] | None:
        """A shopper's newest conversation: its id, its record (None if it has none) and the
        record's revision where the adapter keeps one (read with it atomically, in one round
        trip where the adapter can), else None; None if they have no conversation."""
        ids = await self.of_shopper(shopper_id)
        return (ids[-1], await self.get(ids[-1]), None) if ids else None

    async def get_revised(self, conversation_id: str) -> tuple[dict[str, str] | None, int | None]:
        """:meth:`get`, with the record's revision where the adapter keeps one (read with it
        atomically), else None."""
        return await self.get(conversation_id), None

    @abstractmethod
    async def open_or_create(
        self, conversation_id: str, shopper_id: str, fields: Mapping[str, str]
    ) -> str:
        """The shopper's open conversation (their newest, unless its status is ``closed``), or
        this new record, created; returns its id. Atomic: of two callers at once, from any
        workers, one creates and the other gets that one."""

    @abstractmethod
    async def move(self, conversation_id: str, from_shopper: str, to_shopper: str) -> None:
        """Give a conversation to another shopper (an anonymous one who logged in): its
        ``shopper_id`` field and both shoppers' lists change together. Raises KeyError if none."""

    @abstractmethod
    async def created_between(self, since: float, until: float) -> list[dict[str, str]]:
        """Records of conversations created in ``[since, until)``, oldest first."""

    async def scan(self, since: float, until: float) -> str:
        """The records created in ``[since, until)`` as one JSON array holding, for each record,
        the array of its ``REPORT_FIELDS`` values (``null`` where unset). Adapters that can
        answer in one query override this."""
        return await self.scan_fields(since, until, REPORT_FIELDS)

    async def scan_fields(self, since: float, until: float, names: Sequence[str]) -> str:
        """Like :meth:`scan`, for the fields ``names`` (identifiers): one JSON array holding, for
        each record created in ``[since, until)``, the array of those values (``null`` where
        unset), in no particular order."""
        records = await self.created_between(since, until)
        rows = ("[" + ",".join(r.get(n, "null") for n in names) + "]" for r in records)
        return "[" + ",".join(rows) + "]"


class Router(ABC):
    """The queue and agents: every change is atomic, so no chat goes to two agents."""

    def version(self) -> int | None:
        """A number that changes with every change of the queue or the agents, where only this
        process changes them (what is read from them may be kept while it stays); else None."""
        return None

    @abstractmethod
    async def enqueue(
        self,
        conversation_id: str,
        at_head: bool = False,
        language: str = "",
        anyone_from: float = 0.0,
    ) -> None:
        """Put a conversation in the queue (at its head for one that lost its agent).

        Until ``anyone_from`` only an agent who speaks ``language`` (a language key, "" for
        any) may be given it. A conversation already waiting keeps its place and takes the new
        ``language`` and ``anyone_from``.
        """

    @abstractmethod
    async def dequeue(self, conversation_id: str) -> bool:
        """Take a conversation out of the queue; False if it was not waiting."""

    @abstractmethod
    async def waiting(self) -> list[str]:
        """Waiting conversation ids, head first."""

    @abstractmethod
    async def set_presence(
        self,
        agent_id: str,
        status: str,
        capacity: int,
        now: float,
        languages: Sequence[str] = (),
    ) -> Presence:
        """Set an agent's status, capacity and the language keys they speak; their open chats
        are kept."""

    @abstractmethod
    async def presence(self) -> list[Presence]:
        """Every agent known to routing."""

    @abstractmethod
    async def claim_next(self, now: float) -> Claim | None:
        """Give the first waiting conversation some online agent with room may take to the best
        of them: before its ``anyone_from`` only agents who speak its language may take it.

        Best is fewest open chats, then longest idle. None when nothing waits or nobody eligible
        has room.
        """

    @abstractmethod
    async def assign(self, conversation_id: str, agent_id: str, now: float) -> bool:
        """Give a conversation to this agent if online with room (a transfer)."""

    @abstractmethod
    async def pick(self, conversation_id: str, agent_id: str, now: float) -> bool:
        """An agent (online or away) with room takes a conversation out of the queue, out of turn;
        False if it is not waiting (taken meanwhile) or the agent has no room."""

    @abstractmethod
    async def release(self, agent_id: str, conversation_id: str, now: float) -> None:
        """The agent no longer holds this conversation."""

    @abstractmethod
    async def held(self) -> dict[str, list[str]]:
        """Open conversation ids per agent, for every agent holding any."""

    @abstractmethod
    async def grace(self, agent_id: str, status: str, until: float) -> None:
        """An agent is connected nowhere: offline for routing (their chosen status is kept),
        and their chats wait for them until ``until``; ``status`` is what they come back to."""

    @abstractmethod
    async def graces(self) -> dict[str, tuple[str, float]]:
        """Agents in a grace period: the status they come back to, and when it ends."""

    @abstractmethod
    async def end_grace(self, agent_id: str) -> str | None:
        """End an agent's grace period: its status for exactly one caller, None for the rest."""


class AgentAccounts(ABC):
    """Agent accounts, each one JSON text."""

    @abstractmethod
    async def put(self, agent_id: str, record: str) -> None:
        """Create or replace an account."""

    @abstractmethod
    async def get(self, agent_id: str) -> str | None:
        """An account, or None."""

    @abstractmethod
    async def all(self) -> list[str]:
        """Every account, by id."""

    @abstractmethod
    async def remove(self, agent_id: str) -> bool:
        """Delete an account; False if there was none."""


@dataclass(frozen=True)
class TrayItem:
    """An item in a tray: its id, its score (a time) and its payload as JSON text."""

    item_id: str
    score: float
    text: str


class Trays(ABC):
    """Named trays of items, each ordered by its score, lowest first; ``move`` is atomic, so
    workers can claim an item by moving its score without taking it twice."""

    @abstractmethod
    async def put(self, tray: str, item_id: str, score: float, text: str) -> None:
        """Add an item, or replace the one with this id."""

    @abstractmethod
    async def items(
        self, tray: str, until: float = float("inf"), limit: int = 500
    ) -> list[TrayItem]:
        """The items scored at most ``until``, lowest score first."""

    @abstractmethod
    async def get(self, tray: str, item_id: str) -> TrayItem | None:
        """One item, or None."""

    @abstractmethod
    async def move(self, tray: str, item_id: str, expected: float, score: float) -> bool:
        """Give the item a new score if its score is still ``expected``; False otherwise."""

    @abstractmethod
    async def remove(self, tray: str, item_id: str) -> bool:
        """Delete an item; False if there was none."""


class Search(ABC):
    """Full-text search of conversations: one document of words per conversation."""

    @abstractmethod
    async def index(self, conversation_id: str, created_at: float, words: Sequence[str]) -> None:
        """Store (or replace) a conversation's words, as :func:`search_words` makes them."""

    @abstractmethod
    async def find(
        self, words: Sequence[str], since: float, until: float, limit: int = 50
    ) -> list[str]:
        """Ids of conversations created in ``[since, until)`` holding every word, newest first."""


def search_words(text: str) -> list[str]:
    """The words of a text as every search adapter indexes and queries them: lower case, accents
    dropped, split at anything but letters and digits, each word once."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return list(dict.fromkeys(w[:64] for w in _WORD.findall(plain)))


_WORD = re.compile(r"[^\W_]+")


class Files(ABC):
    """Attachments' bytes by key (``<conversation>/<file id>``); written once, never changed."""

    async def start(self) -> None:
        """Open connections (if the adapter has any)."""
        return None

    async def close(self) -> None:
        """Release connections."""
        return None

    @abstractmethod
    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store a file durably under ``key``."""

    @abstractmethod
    async def get(self, key: str) -> bytes | None:
        """A file's bytes, or None."""

    @abstractmethod
    async def exists(self, key: str) -> bool:
        """True when a file is stored under ``key``."""

    @abstractmethod
    async def delete(self, key: str) -> bool:
        """Remove a file; False if there was none."""


class ShopConfig(ABC):
    """The shop's configuration as named documents (``shop.toml``, ``faq.toml``, ...), each TOML
    text, changed together with an audit entry in one atomic write."""

    @abstractmethod
    async def documents(self) -> dict[str, str]:
        """Every stored document, by name."""

    @abstractmethod
    async def change(self, documents: Mapping[str, str | None], audit: str) -> None:
        """Set (or delete, for None) documents and append ``audit`` (JSON text), all or nothing."""

    @abstractmethod
    async def audit(self, limit: int = 100) -> list[str]:
        """The latest audit entries, newest first."""


Deliver = Callable[[str, str], None]
"""Receives ``(channel, payload)`` for every payload relayed on a subscribed channel."""

Resumed = Callable[[], None]
"""Called when the relay is back after a loss: payloads published meanwhile never arrive."""


class Relay(ABC):
    """Carries the bus's payloads between workers (the one part of the bus an adapter writes)."""

    @abstractmethod
    async def start(self, deliver: Deliver, resumed: Resumed) -> None:
        """Begin relaying: every payload on a subscribed channel goes to ``deliver``; after a
        lost connection, once resubscribed, ``resumed`` is called."""

    @abstractmethod
    async def close(self) -> None:
        """Stop relaying."""

    @abstractmethod
    async def subscribe(self, channel: str) -> None:
        """Receive a channel's payloads; returns once no later publish can be missed."""

    @abstractmethod
    async def unsubscribe(self, channel: str) -> None:
        """Stop receiving a channel's payloads."""

    @abstractmethod
    async def publish(self, channel: str, payload: str) -> None:
        """Send a payload to every worker subscribed to ``channel``."""
