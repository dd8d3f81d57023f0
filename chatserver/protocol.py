"""Every frame on the wire, both directions, as pydantic models (the protocol contract).

Client intents are verbs (``send_message``); server events are past tense (``message_posted``);
failures are ``error``. Events stored in a conversation's log carry ``conversation_id``, ``seq``
and ``ts``; the other server frames are live notices and are never replayed.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

PROTOCOL_VERSION = 1

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:@-]+$")]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Short = Annotated[str, Field(max_length=300)]
Role = Literal["shopper", "agent", "bot", "system"]
AgentStatus = Literal["online", "away", "offline"]
ConversationStatus = Literal["bot", "queued", "assigned", "closed"]


class Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PageContext(Frame):
    """What the shopper was looking at when the chat started."""

    url: Annotated[str, Field(max_length=1000)] = ""
    title: Short = ""
    product_id: Short = ""
    product_name: Short = ""
    product_price: Short = ""
    currency: Annotated[str, Field(max_length=8)] = ""


# --- client -> server -------------------------------------------------------------------


class Hello(Frame):
    """First frame on every socket: protocol version, identity and where to resume."""

    type: Literal["hello"] = "hello"
    version: int
    token: Annotated[str, Field(max_length=1000)] | None = None
    last_seq: Annotated[int, Field(ge=0)] = 0
    last_seqs: Annotated[dict[Id, Annotated[int, Field(ge=0)]], Field(max_length=200)] = {}
    locale: Annotated[str, Field(max_length=35)] = "en"
    timezone: Annotated[str, Field(max_length=64)] = ""
    context: PageContext | None = None


class SendMessage(Frame):
    """Post a message; ``client_id`` makes a retry idempotent."""

    type: Literal["send_message"] = "send_message"
    client_id: Id
    text: Text
    conversation_id: Id | None = None


class Typing(Frame):
    type: Literal["typing"] = "typing"
    is_typing: bool = True
    conversation_id: Id | None = None


class MarkRead(Frame):
    type: Literal["mark_read"] = "mark_read"
    seq: Annotated[int, Field(ge=0)]
    conversation_id: Id | None = None


class RequestHuman(Frame):
    """The shopper asks for a person instead of the bot."""

    type: Literal["request_human"] = "request_human"


class EndConversation(Frame):
    """The shopper ends the chat."""

    type: Literal["end_conversation"] = "end_conversation"


class Rate(Frame):
    """The shopper rates a conversation, 1 to 5."""

    type: Literal["rate"] = "rate"
    score: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, Field(max_length=1000)] = ""


class SetStatus(Frame):
    """An agent goes online, away or offline, optionally with a new capacity."""

    type: Literal["set_status"] = "set_status"
    status: AgentStatus
    capacity: Annotated[int, Field(ge=1, le=50)] | None = None


class Transfer(Frame):
    type: Literal["transfer"] = "transfer"
    conversation_id: Id
    to_agent: Id


class CloseConversation(Frame):
    type: Literal["close_conversation"] = "close_conversation"
    conversation_id: Id


ShopperFrame = Annotated[
    Union[Hello, SendMessage, Typing, MarkRead, RequestHuman, EndConversation, Rate],
    Field(discriminator="type"),
]
AgentFrame = Annotated[
    Union[Hello, SendMessage, Typing, MarkRead, SetStatus, Transfer, CloseConversation],
    Field(discriminator="type"),
]
shopper_frame: TypeAdapter[ShopperFrame] = TypeAdapter(ShopperFrame)
agent_frame: TypeAdapter[AgentFrame] = TypeAdapter(AgentFrame)


# --- server -> client: stored events -----------------------------------------------------


class Event(Frame):
    conversation_id: Id
    seq: int
    ts: float


class ConversationStarted(Event):
    type: Literal["conversation_started"] = "conversation_started"
    shopper_id: Id
    status: ConversationStatus
    locale: str = "en"
    timezone: str = ""
    context: PageContext | None = None


class MessagePosted(Event):
    """A message; ``deadline`` is set when it starts a response clock."""

    type: Literal["message_posted"] = "message_posted"
    author: Role
    author_id: str
    author_name: str = ""
    text: str
    client_id: str | None = None
    deadline: float | None = None


class ConversationQueued(Event):
    type: Literal["conversation_queued"] = "conversation_queued"
    reason: Literal["new", "handoff", "requeued", "reopened"] = "new"
    deadline: float | None = None


class ConversationAssigned(Event):
    type: Literal["conversation_assigned"] = "conversation_assigned"
    agent_id: Id
    agent_name: str
    deadline: float | None = None


class ConversationTransferred(Event):
    type: Literal["conversation_transferred"] = "conversation_transferred"
    from_agent: Id
    agent_id: Id
    agent_name: str
    deadline: float | None = None


class ConversationRequeued(Event):
    type: Literal["conversation_requeued"] = "conversation_requeued"
    from_agent: Id
    deadline: float | None = None


class ConversationClosed(Event):
    type: Literal["conversation_closed"] = "conversation_closed"
    by: Role
    by_id: str


class RatingGiven(Event):
    type: Literal["rating_given"] = "rating_given"
    score: int
    comment: str = ""


# --- server -> client: live notices --------------------------------------------------------


class ConversationInfo(Frame):
    """A conversation as a client needs it to draw its state."""

    conversation_id: Id
    shopper_id: Id
    status: ConversationStatus
    agent_id: str | None = None
    agent_name: str = ""
    created_at: float
    deadline: float | None = None
    last_seq: int = 0


class Welcome(Frame):
    type: Literal["welcome"] = "welcome"
    version: int = PROTOCOL_VERSION
    role: Literal["shopper", "agent"]
    user_id: Id
    name: str = ""
    token: str | None = None
    server_time: float
    response_target_s: float
    conversations: list[ConversationInfo] = []


class Ack(Frame):
    """A message is stored: its ``seq`` (the original one for a retried ``client_id``)."""

    type: Literal["ack"] = "ack"
    conversation_id: Id
    client_id: Id
    seq: int
    duplicate: bool = False


class QueuePosition(Frame):
    type: Literal["queue_position"] = "queue_position"
    conversation_id: Id
    position: int
    estimated_wait_s: float | None


class WaitingConversation(Frame):
    conversation_id: Id
    position: int
    queued_at: float
    deadline: float | None


class QueueSnapshot(Frame):
    """What agents see of the queue."""

    type: Literal["queue_snapshot"] = "queue_snapshot"
    waiting: list[WaitingConversation]
    agents_online: int


class StatusChanged(Frame):
    """Confirms an agent's own status, capacity and open chats."""

    type: Literal["status_changed"] = "status_changed"
    status: AgentStatus
    capacity: int
    open_chats: int


class TypingNotice(Frame):
    type: Literal["typing_notice"] = "typing_notice"
    conversation_id: Id
    role: Role
    is_typing: bool


class ReadReceipt(Frame):
    type: Literal["read_receipt"] = "read_receipt"
    conversation_id: Id
    role: Role
    seq: int


class Error(Frame):
    """What was wrong with the last frame; the socket stays open unless told otherwise."""

    type: Literal["error"] = "error"
    code: str
    message: str
    frame_type: str | None = None


ServerFrame = Annotated[
    Union[
        ConversationStarted,
        MessagePosted,
        ConversationQueued,
        ConversationAssigned,
        ConversationTransferred,
        ConversationRequeued,
        ConversationClosed,
        RatingGiven,
        Welcome,
        Ack,
        QueuePosition,
        QueueSnapshot,
        StatusChanged,
        TypingNotice,
        ReadReceipt,
        Error,
    ],
    Field(discriminator="type"),
]
server_frame: TypeAdapter[ServerFrame] = TypeAdapter(ServerFrame)
