"""The one Backend interface every store implements: log, conversations, routing, fan-out, agents.

Payloads cross this interface as JSON text; backends never import the protocol models.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

Render = Callable[[int], str]
"""Builds an event's JSON text once its ``seq`` is known."""

Listener = Callable[[str, "int | None", str], None]
"""Receives ``(channel, seq, text)`` for every message published on a subscribed channel."""


@dataclass(frozen=True)
class Appended:
    """An event stored in a conversation's log (or found there for a retried ``client_id``)."""

    seq: int
    text: str
    duplicate: bool = False


@dataclass(frozen=True)
class Presence:
    """An agent's routing state."""

    agent_id: str
    status: str
    capacity: int
    open_chats: int
    idle_since: float


@dataclass(frozen=True)
class Claim:
    """A waiting conversation given to an agent."""

    conversation_id: str
    agent_id: str


REPORT_FIELDS = (
    "id", "shop_id", "status", "created_at", "agent_id", "queued_at", "clock_started",
    "first_response_s", "response_times", "closed_at", "closed_by", "rating", "rating_comment",
    "messages", "tags", "bot_spoke", "bot_helpful", "handoffs", "unanswered",
)  # fmt: skip
"""The record fields reports read, in the order ``scan_conversations`` gives them."""


class BackendUnavailable(Exception):
    """Raised when the store cannot be reached; nothing was stored."""


class Backend(ABC):
    """What a chat needs from its store. Every method is safe under concurrent callers."""

    @abstractmethod
    async def start(self) -> None:
        """Open connections and recover state."""

    @abstractmethod
    async def close(self) -> None:
        """Flush what is pending and release connections."""

    # --- conversation log -------------------------------------------------------------

    @abstractmethod
    async def append(
        self,
        conversation_id: str,
        render: Render,
        client_id: str | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> Appended:
        """Store the next event durably and return it; a known ``client_id`` returns the original.

        ``fields`` (record fields, each JSON text) are set in the same write, when the event is new.
        """

    @abstractmethod
    async def read_log(self, conversation_id: str, after_seq: int = 0) -> list[tuple[int, str]]:
        """Every stored event with ``seq > after_seq``, in order, as ``(seq, text)``."""

    # --- conversation records -----------------------------------------------------------

    @abstractmethod
    async def create_conversation(
        self, conversation_id: str, shopper_id: str, fields: Mapping[str, str]
    ) -> None:
        """Store a new conversation record; ``fields`` maps names to JSON values."""

    @abstractmethod
    async def update_conversation(self, conversation_id: str, fields: Mapping[str, str]) -> None:
        """Set some fields of a record (each value JSON text), leaving the others alone."""

    @abstractmethod
    async def get_conversation(self, conversation_id: str) -> dict[str, str] | None:
        """A record's fields as JSON text, or None."""

    @abstractmethod
    async def shopper_conversations(self, shopper_id: str) -> list[str]:
        """A shopper's conversation ids, oldest first."""

    @abstractmethod
    async def list_conversations(self, since: float, until: float) -> list[dict[str, str]]:
        """Records of conversations created in ``[since, until)``, for reports."""

    # Reports read many records at once. These defaults work on any backend through the verbs
    # above; a backend overrides them when it can answer in one query (SQLite does).

    async def scan_conversations(self, since: float, until: float) -> str:
        """The records created in ``[since, until)``, in any order, as one JSON array holding for
        each record the array of its ``REPORT_FIELDS`` values (``null`` where a field is unset)."""
        records = await self.list_conversations(since, until)
        rows = ("[" + ",".join(r.get(n, "null") for n in REPORT_FIELDS) + "]" for r in records)
        return "[" + ",".join(rows) + "]"

    async def read_logs(self, conversation_ids: Sequence[str]) -> dict[str, list[str]]:
        """The stored events' JSON texts of many conversations, each log in ``seq`` order."""
        return {c: [text for _, text in await self.read_log(c)] for c in conversation_ids}

    # --- queue and routing ----------------------------------------------------------------

    @abstractmethod
    async def enqueue(self, conversation_id: str, at_head: bool = False) -> None:
        """Put a conversation in the queue (at its head for one that lost its agent)."""

    @abstractmethod
    async def dequeue(self, conversation_id: str) -> bool:
        """Take a conversation out of the queue; False if it was not waiting."""

    @abstractmethod
    async def queue(self) -> list[str]:
        """Waiting conversation ids, head first."""

    @abstractmethod
    async def set_presence(self, agent_id: str, status: str, capacity: int, now: float) -> Presence:
        """Set an agent's status and capacity; their open chats are kept."""

    @abstractmethod
    async def presence(self) -> list[Presence]:
        """Every agent known to routing."""

    @abstractmethod
    async def claim_next(self, now: float) -> Claim | None:
        """Atomically give the head of the queue to the best online agent with room.

        Best is fewest open chats, then longest idle. None when nothing waits or nobody has room.
        """

    @abstractmethod
    async def assign(self, conversation_id: str, agent_id: str, now: float) -> bool:
        """Atomically give a conversation to this agent if online with room (a transfer)."""

    @abstractmethod
    async def release(self, agent_id: str, conversation_id: str, now: float) -> None:
        """The agent no longer holds this conversation."""

    @abstractmethod
    async def agent_chats(self) -> dict[str, list[str]]:
        """Open conversation ids per agent, for every agent holding any."""

    # --- fan-out ---------------------------------------------------------------------------

    @abstractmethod
    def set_listener(self, listener: Listener) -> None:
        """Where messages on subscribed channels go (one listener per worker)."""

    @abstractmethod
    async def subscribe(self, channel: str) -> None:
        """Start receiving a channel's messages in this worker."""

    @abstractmethod
    async def unsubscribe(self, channel: str) -> None:
        """Stop receiving a channel's messages in this worker."""

    @abstractmethod
    async def publish(self, channel: str, text: str, seq: int | None = None) -> None:
        """Send ``text`` to every worker subscribed to ``channel``."""

    # --- agent accounts ----------------------------------------------------------------------

    @abstractmethod
    async def put_agent(self, agent_id: str, record: str) -> None:
        """Create or replace an agent account (JSON text)."""

    @abstractmethod
    async def get_agent(self, agent_id: str) -> str | None:
        """An agent account's JSON text, or None."""

    @abstractmethod
    async def list_agents(self) -> list[str]:
        """Every agent account's JSON text, by id."""

    @abstractmethod
    async def remove_agent(self, agent_id: str) -> bool:
        """Delete an account; False if there was none."""
