"""A conversation's record, the response-clock rules (the 60-second promise) and the bot's outcome."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict

from chatserver.domain.protocol import ConversationInfo, ConversationStatus, PageContext

_set = object.__setattr__  # as pydantic's own copy sets a model's slots


class Conversation(BaseModel):
    """What the store keeps about a conversation besides its log.

    The response clock runs while ``clock_started`` is set: from the moment the conversation needs
    a human (queued, or a shopper message waiting for an agent) to the next agent message.

    The bot's outcome is kept as it happens, for reports (rules below: ``bot_answered``,
    ``handed_off``, ``feedback_given``): ``bot_spoke``, ``bot_helpful`` ("That answered it"),
    ``handoffs`` to a person, and ``unanswered``, the questions the bot could not settle.
    ``question`` is what a person should answer, for the queue's preview: the shopper's first
    message, then the last one the bot could not answer. ``assigned_at`` is when the current agent
    got it (handling times for the wait estimate).
    ``last_question`` is the shopper's last real question to the bot (not a request for a person)
    until it is counted as unanswered; ``last_question_seq`` is its place in the log.
    ``language`` is the shopper's language (a shop language code such as "de" or "zh-CN"): the
    one the bot reads in their text, or the widget's locale while no text has told
    (``language_detected`` False); routing prefers agents who speak it.
    ``faq_ids`` are the FAQ entries the bot answered with, in order (they name an after-sale
    problem); ``resolution_offer`` is the latest offer of resolutions and ``resolution`` the one
    accepted (``core/resolutions.py``).
    ``customer_*`` name the shop's verified customer (empty: an anonymous shopper);
    ``order_asked`` says the bot asked for an order number and its e-mail or postcode, and
    ``bot_order_answers`` counts the bot's answers with the shop's real order data.
    ``tone_flagged`` counts the agent messages the tone rules flagged; ``tone_by_agent`` holds,
    per agent, ``[messages, flagged]``. ``effort`` is the shopper's customer-effort score (1-7).
    """

    model_config = ConfigDict(extra="ignore")

    id: str
    shop_id: str
    shopper_id: str
    status: ConversationStatus
    created_at: float
    agent_id: str | None = None
    agent_name: str = ""
    queued_at: float | None = None
    assigned_at: float | None = None
    question: str = ""
    clock_started: float | None = None
    first_response_s: float | None = None
    response_times: list[float] = []
    closed_at: float | None = None
    closed_by: str | None = None
    locale: str = "en"
    timezone: str = ""
    language: str = ""
    language_detected: bool = False
    context: PageContext | None = None
    rating: int | None = None
    rating_comment: str = ""
    email: str | None = None
    messages: int = 0
    tags: list[str] = []
    bot_spoke: bool = False
    bot_helpful: bool = False
    handoffs: int = 0
    unanswered: list[str] = []
    last_question: str = ""
    last_question_seq: int | None = None
    faq_ids: list[str] = []
    resolution_offer: dict[str, Any] | None = None
    resolution: dict[str, Any] | None = None
    customer_id: str = ""
    customer_name: str = ""
    customer_email: str = ""
    order_asked: bool = False
    bot_order_answers: int = 0
    tone_flagged: int = 0
    tone_by_agent: dict[str, list[int]] = {}
    effort: int | None = None

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> Conversation:
        """Build from a backend record (field name -> JSON text)."""
        # Names are identifiers and values JSON text made by ``fields``: joined, they are one JSON
        # object that pydantic-core parses and validates in one pass, five times faster than a
        # json.loads per field (this runs on every message).
        record = "{" + ",".join(f'"{name}":{value}' for name, value in fields.items()) + "}"
        return cls.model_validate_json(record)

    def fields(self, *names: str) -> dict[str, str]:
        """These fields (all when none named) as a backend record."""
        data = self.model_dump(mode="json", include=set(names) if names else None)
        return {k: orjson.dumps(v).decode() for k, v in data.items()}

    def updated(self, changes: Mapping[str, Any]) -> Conversation:
        """This record with ``changes`` (field name -> value), unvalidated: the same as
        ``model_copy(update=changes)``, in half the time (this runs on every message)."""
        copy = object.__new__(type(self))
        values = self.__dict__.copy()
        values.update(changes)
        _set(copy, "__dict__", values)
        _set(copy, "__pydantic_fields_set__", self.__pydantic_fields_set__ | changes.keys())
        _set(copy, "__pydantic_extra__", self.__pydantic_extra__)
        _set(copy, "__pydantic_private__", self.__pydantic_private__)
        return copy

    def deadline(self, target_s: float) -> float | None:
        """When the running response clock misses the target, or None if it is stopped."""
        return None if self.clock_started is None else self.clock_started + target_s

    def info(self, target_s: float) -> ConversationInfo:
        """What a client needs to draw this conversation."""
        return ConversationInfo(
            conversation_id=self.id,
            shopper_id=self.shopper_id,
            status=self.status,
            agent_id=self.agent_id,
            agent_name=self.agent_name,
            created_at=self.created_at,
            deadline=self.deadline(target_s),
            language=self.language,
            customer_name=self.customer_name,
            customer_email=self.customer_email,
        )


def _json_value(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__}")


def record_of(changes: Mapping[str, Any]) -> dict[str, str]:
    """Field values as a backend record (field name -> JSON text)."""
    return {
        name: orjson.dumps(value, default=_json_value).decode() for name, value in changes.items()
    }


def start_clock(conversation: Conversation, now: float) -> dict[str, Any]:
    """Changes that start the response clock, unless it is already running."""
    if conversation.clock_started is not None:
        return {}
    return {"clock_started": now}


def stop_clock(conversation: Conversation, now: float) -> dict[str, Any]:
    """Changes that record an agent's reply: stop the clock and keep the time it ran."""
    if conversation.clock_started is None:
        return {}
    elapsed = round(max(0.0, now - conversation.clock_started), 3)
    changes: dict[str, Any] = {
        "clock_started": None,
        "response_times": [*conversation.response_times, elapsed],
    }
    if conversation.first_response_s is None:
        changes["first_response_s"] = elapsed
    return changes


def _unanswered(conversation: Conversation, question: str) -> dict[str, Any]:
    """Changes that count ``question`` as one the bot could not settle (once: it is then cleared)."""
    if not question:
        return {}
    counted = " ".join(question.lower().split())  # the form questions are counted under
    return {"unanswered": [*conversation.unanswered, counted], "last_question": ""}


def bot_answered(
    conversation: Conversation,
    question: str,
    question_seq: int,
    ask_email: bool,
    asked_for_person: bool,
) -> dict[str, Any]:
    """Changes that record a bot reply to the shopper message ``question`` (stored at
    ``question_seq``); ``ask_email`` (nobody staffed, no answer) leaves the question unanswered.
    A request for a person (``asked_for_person``) is no question the bot failed."""
    changes: dict[str, Any] = {"bot_spoke": True}
    if not asked_for_person:
        changes |= {"last_question": question, "last_question_seq": question_seq}
    if ask_email:
        changes |= _unanswered(
            conversation, changes.get("last_question", conversation.last_question)
        )
    return changes


def handed_off(conversation: Conversation) -> dict[str, Any]:
    """Changes that record the bot handing over to a person: its last question went unanswered."""
    return {"handoffs": conversation.handoffs + 1} | _unanswered(
        conversation, conversation.last_question
    )


def feedback_given(conversation: Conversation, answer_seq: int, helpful: bool) -> dict[str, Any]:
    """Changes that record the shopper's verdict on the bot's answer at ``answer_seq``.

    An unhelpful answer leaves the last question before it unanswered. The record knows only the
    last question: a verdict on an earlier answer, after a newer question, counts none (the widget
    offers a verdict on the latest answer only).
    """
    if helpful:
        return {"bot_helpful": True}
    seq = conversation.last_question_seq
    if seq is None or seq >= answer_seq:
        return {}
    return _unanswered(conversation, conversation.last_question)


def tone_counted(conversation: Conversation, agent_id: str, flagged: bool) -> dict[str, Any]:
    """Changes that count one agent message, and whether the tone rules flagged it."""
    messages, flags = conversation.tone_by_agent.get(agent_id, [0, 0])
    counts = {**conversation.tone_by_agent, agent_id: [messages + 1, flags + int(flagged)]}
    changes: dict[str, Any] = {"tone_by_agent": counts}
    if flagged:
        changes["tone_flagged"] = conversation.tone_flagged + 1
    return changes
