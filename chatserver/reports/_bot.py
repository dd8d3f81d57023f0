"""The bot's figures, from the outcome each conversation record keeps as its events happen.

The rules that set ``bot_spoke``, ``bot_helpful``, ``handoffs`` and ``unanswered`` live in
:mod:`chatserver.domain.conversation`. Records made before those fields have none (``bot_spoke`` is
null): for those the bot took, :func:`fill_older` replays their logs through the same rules, so an
older store reports as before, at the cost of reading those logs.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache
from itertools import compress
from typing import Any

import numpy as np

from chatserver.domain.conversation import Conversation, bot_answered, feedback_given, handed_off
from chatserver.faq.intents import Intent, detect
from chatserver.reports._columns import Bools, floats
from chatserver.reports._stats import share
from chatserver.reports.models import BotFigures, Question
from chatserver.store.ports import REPORT_FIELDS

MAX_QUESTIONS = 50
OUTCOME_FIELDS = ("bot_spoke", "bot_helpful", "handoffs", "unanswered")
_ID, _CREATED, _QUEUED, _SPOKE = (
    REPORT_FIELDS.index(name) for name in ("id", "created_at", "queued_at", "bot_spoke")
)
_OUTCOME = [REPORT_FIELDS.index(name) for name in OUTCOME_FIELDS]


def older(rows: Sequence[Sequence[Any]]) -> list[str]:
    """The ids of rows (``REPORT_FIELDS`` values) without the bot's outcome that started with it.

    One that started in the queue has ``queued_at == created_at``; one the bot took has no
    ``queued_at``, or the later instant of its hand-off.
    """
    return [
        row[_ID]
        for row in rows
        if row[_SPOKE] is None and (row[_QUEUED] is None or row[_QUEUED] != row[_CREATED])
    ]


def fill_older(rows: Sequence[list[Any]], logs: Mapping[str, Sequence[str]]) -> None:
    """Set the outcome fields of the rows whose logs are given, from those logs (in place)."""
    for row in rows:
        log = logs.get(row[_ID])
        if log is not None:
            outcome = replay(row[_ID], log).model_dump(include=set(OUTCOME_FIELDS))
            for name, at in zip(OUTCOME_FIELDS, _OUTCOME, strict=True):
                row[at] = outcome[name]


@lru_cache(maxsize=4096)
def asks_for_a_person(text: str) -> bool:
    """True when a shopper message asks for a person."""
    # Cached: intent detection normalises text at some cost, and reports replay many old logs.
    return detect(text) is Intent.HANDOFF


def replay(conversation_id: str, log: Sequence[str]) -> Conversation:
    """A bot conversation's record as the hub would have kept it, from its events (JSON texts)."""
    record = Conversation(
        id=conversation_id, shop_id="", shopper_id="", status="bot", created_at=0.0
    )
    question, question_seq = "", 0  # the shopper message the bot's next reply answers
    for raw in log:
        event = json.loads(raw)
        kind, changes = event["type"], {}
        if kind == "message_posted" and event["author"] == "shopper":
            question, question_seq = event["text"], event["seq"]
        elif kind == "message_posted" and event["author"] == "bot":
            asked = asks_for_a_person(question)
            changes = bot_answered(
                record, question, question_seq, bool(event.get("ask_email")), asked
            )
        elif kind == "conversation_queued" and event["reason"] == "handoff":
            changes = handed_off(record)
        elif kind == "bot_feedback_given":
            changes = feedback_given(record, event["answer_seq"], event["helpful"])
        record = record.model_copy(update=changes)
    return record


def figures(columns: Mapping[str, Sequence[Any]], resolved: Bools) -> tuple[BotFigures, int]:
    """The bot's figures over records, and the hand-offs in the ``resolved`` ones.

    Args:
        columns: ``REPORT_FIELDS`` name -> that field's values, one per record.
        resolved: per record, whether it was resolved.
    """
    spoke = floats(columns["bot_spoke"]) == 1  # true is 1; false 0 and null NaN
    helpful = floats(columns["bot_helpful"]) == 1
    handoffs = np.nan_to_num(floats(columns["handoffs"]))
    handed_off = spoke & (handoffs > 0)
    settled = int((spoke & helpful & (handoffs == 0)).sum())
    questions = Counter(q for qs in compress(columns["unanswered"], spoke) if qs for q in qs)
    talked, handed = int(spoke.sum()), int(handed_off.sum())
    with_orders = int((np.nan_to_num(floats(columns["bot_order_answers"])) > 0).sum())
    bot = BotFigures(
        conversations=talked,
        settled=settled,
        settled_share=share(settled, talked),
        handoffs=handed,
        handoff_rate=share(handed, talked),
        unanswered=[Question(text=q, count=c) for q, c in questions.most_common(MAX_QUESTIONS)],
        order_answers=with_orders,
    )
    return bot, int(handoffs[resolved].sum())
