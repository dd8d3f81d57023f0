"""Every frame on the wire, both directions, as pydantic models (the protocol contract).

Client intents are verbs (``send_message``); server events are past tense (``message_posted``);
failures are ``error``. Events stored in a conversation's log carry ``conversation_id``, ``seq``
and ``ts``; the other server frames are live notices and are never replayed.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

PROTOCOL_VERSION = 3
#: The oldest version still served: version 3 only added frames and optional fields, so a widget
#: or console of version 2 (still in a browser's cache) keeps working; it just never sends them.
OLDEST_VERSION = 2

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:@-]+$")]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Short = Annotated[str, Field(max_length=300)]
Seq = Annotated[int, Field(ge=0, le=2**63 - 1)]
"""A position in a conversation's log (stores keep it in a signed 64-bit integer)."""
Role = Literal["shopper", "agent", "bot", "system"]
AgentStatus = Literal["online", "away", "offline"]
ConversationStatus = Literal["bot", "queued", "assigned", "closed"]
ResolutionKind = Literal["explain", "coupon", "partial_refund", "resend", "full_refund"]
"""An after-sale resolution, cheapest first by default (the shop sets each one's cost)."""
Problem = Literal["damaged", "wrong", "late", "incomplete"]
"""An after-sale problem: damaged, wrong, late (or lost) or incomplete order."""
Percent = Annotated[float, Field(ge=0, le=100)]
NoticeKind = Literal["confirmed", "shipped", "delayed", "refund"]
NoticeChoice = Literal["keep_waiting", "faster_shipping", "cancel_refund"]


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


class CustomerIdentity(Frame):
    """The shop's logged-in customer, signed by the shop: ``hash`` is the hex HMAC-SHA256, with
    the shop's identity secret, of ``"<id>:<expires>"`` (``expires``: Unix seconds)."""

    id: Annotated[str, Field(min_length=1, max_length=128)]
    name: Annotated[str, Field(max_length=100)] = ""
    email: Annotated[str, Field(max_length=254)] = ""
    locale: Annotated[str, Field(max_length=35)] = ""
    expires: Annotated[int, Field(ge=0, le=2**53)] = 0
    hash: Annotated[str, Field(max_length=128)] = ""


# --- client -> server -------------------------------------------------------------------


class Hello(Frame):
    """First frame on every socket: protocol version, identity and where to resume."""

    type: Literal["hello"] = "hello"
    version: int
    token: Annotated[str, Field(max_length=1000)] | None = None
    last_seq: Seq = 0
    last_seqs: Annotated[dict[Id, Seq], Field(max_length=200)] = {}
    locale: Annotated[str, Field(max_length=35)] = "en"
    timezone: Annotated[str, Field(max_length=64)] = ""
    context: PageContext | None = None
    customer: CustomerIdentity | None = None


class SendMessage(Frame):
    """Post a message; ``client_id`` makes a retry idempotent."""

    type: Literal["send_message"] = "send_message"
    client_id: Id
    text: Text
    conversation_id: Id | None = None


class Typing(Frame):
    """The client is (or stopped) typing in a conversation."""

    type: Literal["typing"] = "typing"
    is_typing: bool = True
    conversation_id: Id | None = None


class MarkRead(Frame):
    """The client has read its conversation up to ``seq``."""

    type: Literal["mark_read"] = "mark_read"
    seq: Seq
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


class RateEffort(Frame):
    """After rating, the shopper says how easy it was to get help: 1 (very hard) to 7 (very easy)."""

    type: Literal["rate_effort"] = "rate_effort"
    score: Annotated[int, Field(ge=1, le=7)]


class SetLocale(Frame):
    """The shopper picked another language in the widget: the bot answers in it from now on."""

    type: Literal["set_locale"] = "set_locale"
    locale: Annotated[str, Field(min_length=2, max_length=35, pattern=r"^[A-Za-z0-9_-]+$")]


class SetStatus(Frame):
    """An agent goes online, away or offline, optionally with a new capacity."""

    type: Literal["set_status"] = "set_status"
    status: AgentStatus
    capacity: Annotated[int, Field(ge=1, le=50)] | None = None


class Transfer(Frame):
    """An agent hands a chat to another agent who is online with room."""

    type: Literal["transfer"] = "transfer"
    conversation_id: Id
    to_agent: Id


class CloseConversation(Frame):
    """An agent closes a chat."""

    type: Literal["close_conversation"] = "close_conversation"
    conversation_id: Id


class BotFeedback(Frame):
    """The shopper says whether the bot's answer (the message at ``seq``) settled the question."""

    type: Literal["bot_feedback"] = "bot_feedback"
    seq: Annotated[int, Field(ge=1, le=2**63 - 1)]
    helpful: bool = True


class LeaveEmail(Frame):
    """Nobody is staffed: the shopper leaves an address (and a name) for a reply later."""

    type: Literal["leave_email"] = "leave_email"
    email: Annotated[
        str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    ]
    name: Annotated[str, Field(max_length=100)] = ""


class AddNote(Frame):
    """An agent writes a private note on a conversation; shoppers never receive it."""

    type: Literal["add_note"] = "add_note"
    conversation_id: Id
    client_id: Id
    text: Text


class SetTags(Frame):
    """An agent replaces a conversation's tags (agent-only, like notes)."""

    type: Literal["set_tags"] = "set_tags"
    conversation_id: Id
    tags: Annotated[list[Annotated[str, Field(min_length=1, max_length=32)]], Field(max_length=20)]


class ListCanned(Frame):
    """An agent asks for the shop's canned replies."""

    type: Literal["list_canned"] = "list_canned"


class ListAgents(Frame):
    """An agent asks who else is there (to transfer a chat)."""

    type: Literal["list_agents"] = "list_agents"


class PickConversation(Frame):
    """An agent with a free seat takes a waiting conversation out of the queue."""

    type: Literal["pick_conversation"] = "pick_conversation"
    conversation_id: Id


class GetHistory(Frame):
    """An agent asks for the earlier conversations of the shopper in this one."""

    type: Literal["get_history"] = "get_history"
    conversation_id: Id


class OfferedOption(Frame):
    """One resolution an agent offers: its kind and percent of the order value."""

    kind: ResolutionKind
    percent: Percent


class OfferResolutions(Frame):
    """An agent offers the shopper at least two resolutions of an after-sale problem."""

    type: Literal["offer_resolutions"] = "offer_resolutions"
    conversation_id: Id
    client_id: Id
    problem: Problem
    order_value: Annotated[float, Field(gt=0, le=1_000_000)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    options: Annotated[list[OfferedOption], Field(min_length=2, max_length=5)]


class AcceptResolution(Frame):
    """The shopper accepts one offered resolution (or their agent records it on their behalf)."""

    type: Literal["accept_resolution"] = "accept_resolution"
    offer_seq: Annotated[int, Field(ge=1, le=2**63 - 1)]
    kind: ResolutionKind
    conversation_id: Id | None = None


class ChooseOption(Frame):
    """The shopper answers a delay notice with one of its choices (the first answer stands)."""

    type: Literal["choose_option"] = "choose_option"
    notice_id: Id
    choice: NoticeChoice


ShopperFrame = Annotated[
    Union[
        Hello,
        SendMessage,
        Typing,
        MarkRead,
        RequestHuman,
        EndConversation,
        Rate,
        RateEffort,
        BotFeedback,
        LeaveEmail,
        AcceptResolution,
        ChooseOption,
        SetLocale,
    ],
    Field(discriminator="type"),
]
AgentFrame = Annotated[
    Union[
        Hello,
        SendMessage,
        Typing,
        MarkRead,
        SetStatus,
        Transfer,
        CloseConversation,
        AddNote,
        SetTags,
        ListCanned,
        ListAgents,
        GetHistory,
        PickConversation,
        OfferResolutions,
        AcceptResolution,
    ],
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
    #: The shopper's language as first known (see ``ConversationInfo.language``).
    language: str = ""
    customer_name: str = ""
    customer_email: str = ""


class CustomerIdentified(Event):
    """An anonymous shopper logged in: their open conversation now belongs to this customer."""

    type: Literal["customer_identified"] = "customer_identified"
    customer_name: str = ""
    customer_email: str = ""


class LanguageChanged(Event):
    """The shopper's language changed mid-chat; agents show ``language`` from here on.

    ``by``: ``shopper`` when they picked it in the widget, ``bot`` when read from their messages.
    """

    type: Literal["language_changed"] = "language_changed"
    language: Annotated[str, Field(min_length=1, max_length=35)]
    by: Literal["shopper", "bot"]


class MessagePosted(Event):
    """A message; ``deadline`` is set when it starts a response clock."""

    type: Literal["message_posted"] = "message_posted"
    author: Role
    author_id: str
    author_name: str = ""
    text: str
    client_id: str | None = None
    deadline: float | None = None
    faq_id: str | None = None
    faq_title: str = ""
    ask_email: bool = False


class ConversationQueued(Event):
    type: Literal["conversation_queued"] = "conversation_queued"
    reason: Literal["new", "handoff", "requeued", "reopened"] = "new"
    deadline: float | None = None


class ConversationAssigned(Event):
    type: Literal["conversation_assigned"] = "conversation_assigned"
    agent_id: Id
    agent_name: str
    deadline: float | None = None
    #: The shopper's language when it was assigned (see ``ConversationInfo.language``).
    language: str = ""


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


class EffortGiven(Event):
    """The shopper's customer-effort score (1-7) for an ended conversation."""

    type: Literal["effort_given"] = "effort_given"
    score: int


class BotFeedbackGiven(Event):
    type: Literal["bot_feedback_given"] = "bot_feedback_given"
    answer_seq: int
    helpful: bool


class EmailLeft(Event):
    type: Literal["email_left"] = "email_left"
    email: str
    name: str = ""


class FileAttached(Event):
    """A photo or PDF attached to the conversation; ``url`` serves it to its shopper and staff
    (send the same token as ``Authorization: Bearer``). It counts as a message for the response
    clock; ``deadline`` is the running clock's, if any."""

    type: Literal["file_attached"] = "file_attached"
    author: Role
    author_id: str
    author_name: str = ""
    file_id: Id
    name: Annotated[str, Field(min_length=1, max_length=100)]
    content_type: str
    size: Annotated[int, Field(ge=1)]
    url: str
    client_id: str | None = None
    deadline: float | None = None


class ResolutionOption(Frame):
    """An offered resolution with what it costs the shop."""

    kind: ResolutionKind
    percent: float
    amount: float


class ResolutionsOffered(Event):
    """Resolutions offered to the shopper (cheapest first); the widget shows them as buttons."""

    type: Literal["resolutions_offered"] = "resolutions_offered"
    by_id: str
    problem: Problem
    order_value: float
    currency: str
    options: list[ResolutionOption]
    client_id: str | None = None


class ResolutionAccepted(Event):
    """The resolution that settled the problem; ``cheapest`` when it was the cheapest offered."""

    type: Literal["resolution_accepted"] = "resolution_accepted"
    offer_seq: int
    by: Role
    by_id: str
    problem: Problem
    resolution: ResolutionKind
    percent: float
    amount: float
    currency: str
    order_value: float
    cheapest: bool


class NoticePosted(Event):
    """A notice from the shop (order confirmed, shipped, delayed, refunded), written in the
    shopper's language; a delay offers ``choices``, answered with ``choose_option``."""

    type: Literal["notice_posted"] = "notice_posted"
    notice_id: str
    notice_kind: NoticeKind
    title: str
    text: str
    order: str = ""
    tracking_link: str = ""
    new_date: str = ""
    coupon: str = ""
    choices: list[NoticeChoice] = []
    client_id: str | None = None


class ChoiceMade(Event):
    """The shopper's answer to the delay notice ``notice_id``."""

    type: Literal["choice_made"] = "choice_made"
    notice_id: str
    choice: NoticeChoice
    client_id: str | None = None


# Agent-only events live in a separate log per conversation, the staff log (see ``staff_log``):
# their ``seq`` counts in that log, and shoppers never follow it, so they can never receive them.


def staff_log(conversation_id: str) -> str:
    """The id of a conversation's agent-only log (notes, tags)."""
    return f"{conversation_id}.staff"


class NoteAdded(Event):
    """A private note, in the staff log; ``conversation_id`` names the conversation it is about."""

    type: Literal["note_added"] = "note_added"
    author_id: str
    author_name: str = ""
    text: str
    client_id: str | None = None


class TagsChanged(Event):
    """A conversation's tags, in the staff log."""

    type: Literal["tags_changed"] = "tags_changed"
    by_id: str
    tags: list[str]


class OrderCard(Frame):
    """One order as agents see it beside the chat."""

    number: str
    status: str
    items: list[str] = []
    carrier: str = ""
    tracking_url: str = ""
    estimated_delivery: str = ""


class OrderLookedUp(Event):
    """The bot looked orders up for the shopper, in the staff log; ``outcome`` is ``found``,
    ``not_found`` or ``unavailable``."""

    type: Literal["order_looked_up"] = "order_looked_up"
    outcome: Literal["found", "not_found", "unavailable"]
    orders: list[OrderCard] = []


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
    #: The shopper's language ("de", "zh-CN"): read from their text, else the widget's locale.
    language: str = ""
    customer_name: str = ""
    customer_email: str = ""


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
    """A waiting shopper's place; with ``agents_online`` 0 nobody is online to take it now, and
    ``back_at`` says when people are back (the shopper's language and time zone; empty: unknown).
    """

    type: Literal["queue_position"] = "queue_position"
    conversation_id: Id
    position: int
    estimated_wait_s: float | None
    agents_online: int = 0
    back_at: str = ""


class WaitingConversation(Frame):
    """A queue entry; ``question`` is what the person should answer (the first question, or the
    one the bot could not)."""

    conversation_id: Id
    position: int
    queued_at: float
    deadline: float | None
    question: str = ""
    #: The shopper's language (see ``ConversationInfo.language``).
    language: str = ""


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


class Availability(Frame):
    """Sent to a shopper after welcome: who would answer a new message now, and how soon.

    ``live``: an agent, within the response target; ``busy``: an agent, later than that;
    ``bot``: the FAQ bot first; ``offline``: nobody is online (leave an e-mail address).
    ``greeting`` and ``away`` are the shop's own texts in the shopper's language, when it has them;
    ``back_at`` says when people are back when nobody is online (empty: unknown).
    """

    type: Literal["availability"] = "availability"
    mode: Literal["live", "busy", "bot", "offline"]
    estimated_wait_s: float | None = None
    agents_online: int = 0
    greeting: str = ""
    away: str = ""
    back_at: str = ""


class CannedReply(Frame):
    """One shop-written reply; ``{placeholders}`` are filled in by the console."""

    shortcut: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_-]+$")]
    title: Annotated[str, Field(min_length=1, max_length=100)]
    text: Annotated[str, Field(min_length=1, max_length=2000)]


class CannedReplies(Frame):
    type: Literal["canned_replies"] = "canned_replies"
    replies: list[CannedReply]


class AgentEntry(Frame):
    agent_id: str
    name: str
    status: AgentStatus
    open_chats: int = 0
    capacity: int = 0


class AgentList(Frame):
    type: Literal["agent_list"] = "agent_list"
    agents: list[AgentEntry]


class PastConversation(Frame):
    conversation_id: str
    created_at: float
    status: ConversationStatus
    agent_name: str = ""
    messages: int = 0
    rating: int | None = None
    tags: list[str] = []
    context: PageContext | None = None


class ConversationHistory(Frame):
    """The earlier conversations of the shopper in ``conversation_id``, newest first."""

    type: Literal["conversation_history"] = "conversation_history"
    conversation_id: str
    conversations: list[PastConversation]


class Error(Frame):
    """What was wrong with the last frame; the socket stays open unless told otherwise."""

    type: Literal["error"] = "error"
    code: str
    message: str
    frame_type: str | None = None
    retry_after_ms: int | None = Field(
        None, description="overloaded: send the same frame again after this many ms"
    )
    client_id: str | None = Field(None, description="overloaded: the client_id of the refused send")


ServerFrame = Annotated[
    Union[
        ConversationStarted,
        CustomerIdentified,
        LanguageChanged,
        MessagePosted,
        ConversationQueued,
        ConversationAssigned,
        ConversationTransferred,
        ConversationRequeued,
        ConversationClosed,
        RatingGiven,
        EffortGiven,
        BotFeedbackGiven,
        EmailLeft,
        FileAttached,
        ResolutionsOffered,
        ResolutionAccepted,
        NoteAdded,
        TagsChanged,
        OrderLookedUp,
        NoticePosted,
        ChoiceMade,
        Welcome,
        Ack,
        QueuePosition,
        QueueSnapshot,
        StatusChanged,
        TypingNotice,
        ReadReceipt,
        Availability,
        CannedReplies,
        AgentList,
        ConversationHistory,
        Error,
    ],
    Field(discriminator="type"),
]
server_frame: TypeAdapter[ServerFrame] = TypeAdapter(ServerFrame)


# --- encoding server frames ------------------------------------------------------------------

_PLAIN = frozenset({str, int, float, bool, type(None)})
_MISSING = object()
#: Per frame class: every field's default (``_MISSING`` when required) in field order, and the
#: names of its float fields (pydantic writes an int given for them as ``1.0``).
_TEMPLATES: dict[type[Frame], tuple[dict[str, Any], tuple[str, ...]]] = {}


def _is_float(annotation: Any) -> bool:
    if annotation is float:
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        args = get_args(annotation)
        return float in args and all(a in (float, type(None)) for a in args)
    return False


def _template(kind: type[Frame]) -> tuple[dict[str, Any], tuple[str, ...]]:
    template = _TEMPLATES.get(kind)
    if template is None:
        fields = kind.model_fields
        defaults = {
            name: _MISSING if info.is_required() else info.get_default(call_default_factory=True)
            for name, info in fields.items()
        }
        floats = tuple(name for name, info in fields.items() if _is_float(info.annotation))
        template = _TEMPLATES[kind] = (defaults, floats)
    return template


def _nested(value: Any) -> Any:
    if isinstance(value, Frame):
        return value.__dict__  # validated already, fields in order (extra fields are forbidden)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"cannot encode {type(value).__name__}")


def encode(frame: Frame) -> str:
    """A built frame as JSON text: the same text as ``frame.model_dump_json()``, faster
    (orjson; a float of 1e16 or more is written ``1e16`` rather than ``1e+16``)."""
    return orjson.dumps(frame.__dict__, default=_nested).decode()


def encode_frame(kind: type[Frame], **values: Any) -> str:
    """The frame ``kind(**values)`` as JSON text, the same as its ``model_dump_json()``.

    Server frames whose values are all plain (str, int, float, bool, None), the hot path's
    messages and acks, are written from the values without building the model; any other value
    (a list, a nested frame) goes through the model, as before.
    """
    defaults, floats = _template(kind)
    plain = _PLAIN
    for value in values.values():
        if type(value) not in plain:
            return encode(kind(**values))
    data = defaults.copy()
    data.update(values)
    if len(data) != len(defaults):
        unknown = sorted(set(values) - set(defaults))
        raise TypeError(f"{kind.__name__} has no fields {unknown}")
    for name in floats:
        if type(data[name]) is int:
            data[name] = float(data[name])
    try:
        return orjson.dumps(data).decode()
    except TypeError:
        missing = [name for name, value in data.items() if value is _MISSING]
        raise TypeError(f"{kind.__name__} needs {missing}") from None
