"""What the bot did in one conversation, read from its stored events.

The log is scanned as text and only the few events that matter are parsed: reports walk the logs
of every conversation the bot spoke in. An unanswered question is the shopper message the bot
could not settle: the last real question before a hand-off to a person, the question before an
answer the shopper marked unhelpful, or one the bot met by asking for an e-mail address
(nobody staffed, ``ask_email``). Add new signals in :func:`walk`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from chatserver.faq.intents import Intent, detect


@dataclass
class BotOutcome:
    spoke: bool = False
    handoffs: int = 0
    helpful: bool = False
    unanswered: list[str] = field(default_factory=list)

    @property
    def settled(self) -> bool:
        """ "That answered it" from the shopper, and no person was needed."""
        return self.spoke and self.helpful and self.handoffs == 0


@lru_cache(maxsize=4096)
def _asks_for_a_person(text: str) -> bool:
    # Cached: intent detection normalises text at some cost, and questions repeat a lot.
    return detect(text) is Intent.HANDOFF


def normalise(question: str) -> str:
    """The form questions are counted under: lower case, single spaces."""
    return " ".join(question.lower().split())


def walk(log: Sequence[str]) -> BotOutcome:
    """Read a conversation's events (JSON texts, in seq order) for the bot's outcome."""
    outcome = BotOutcome()
    asked: list[str] = []  # the shopper's messages so far, parsed only when one is needed
    counted: set[int] = set()

    def unanswered_before(seq: int | None) -> None:
        """Count the last real question (before ``seq``, if given) as unanswered, once."""
        for position in range(len(asked) - 1, -1, -1):
            event = json.loads(asked[position])
            if seq is not None and event["seq"] >= seq:
                continue
            if not _asks_for_a_person(event["text"]):
                if position not in counted:
                    counted.add(position)
                    outcome.unanswered.append(normalise(event["text"]))
                return

    for raw in log:
        if '"message_posted"' in raw:
            if '"author":"shopper"' in raw:
                asked.append(raw)
            elif '"author":"bot"' in raw:
                outcome.spoke = True
                if '"ask_email":true' in raw:  # nobody staffed and no answer: asks for an address
                    unanswered_before(None)
        elif '"conversation_queued"' in raw and '"reason":"handoff"' in raw:
            outcome.handoffs += 1
            unanswered_before(None)
        elif '"bot_feedback_given"' in raw:
            if '"helpful":true' in raw:
                outcome.helpful = True
            else:
                unanswered_before(json.loads(raw)["answer_seq"])
    return outcome


@dataclass
class BotSummary:
    """The bot's figures over many conversations."""

    conversations: int = 0
    settled: int = 0
    handed_off: int = 0
    handoffs_in_resolved: int = 0
    questions: Counter[str] = field(default_factory=Counter)


_TROUBLE = ('"reason":"handoff"', '"helpful":false', '"ask_email":true')


def summarise(logs: Mapping[str, Sequence[str]], resolved: Container[str]) -> BotSummary:
    """Add up the bot's outcomes in these logs; hand-offs are also counted for ``resolved`` ones."""
    summary = BotSummary()
    for conversation_id, log in logs.items():
        text = "\n".join(log)
        if any(sign in text for sign in _TROUBLE):
            outcome = walk(log)
        else:
            # Nothing went unanswered (most conversations): no need to walk event by event.
            outcome = BotOutcome(spoke='"author":"bot"' in text, helpful='"helpful":true' in text)
        if outcome.spoke:
            summary.conversations += 1
            summary.settled += outcome.settled
            summary.handed_off += outcome.handoffs > 0
            summary.questions.update(outcome.unanswered)
        if outcome.handoffs and conversation_id in resolved:
            summary.handoffs_in_resolved += outcome.handoffs
    return summary
