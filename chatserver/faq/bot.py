"""The FAQ bot's brain: one shopper message in, one reply decision out; no I/O, no clock."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from chatserver.faq.intents import Intent, detect
from chatserver.faq.loader import Faq, load_faq
from chatserver.faq.matcher import DEFAULT_MARGIN, DEFAULT_THRESHOLD, Matcher

ReplyKind = Literal["answer", "handoff", "greeting", "thanks", "abstain"]

_INTENT_KIND: dict[Intent, ReplyKind] = {
    Intent.HANDOFF: "handoff",
    Intent.GREETING: "greeting",
    Intent.THANKS: "thanks",
}


class BotReply(BaseModel):
    """What the bot decided to do with a message.

    `entry_id`, `title` and `answer` are set only when `kind` is "answer"; `confidence` is the
    matcher's score for its best entry (also kept on "abstain", for logs and tuning).
    """

    model_config = ConfigDict(frozen=True)

    kind: ReplyKind
    entry_id: str | None = None
    title: str | None = None
    answer: str | None = None
    confidence: float = 0.0


class FaqBot:
    """Answers from a FAQ when confident; otherwise hands off or abstains. Pure and thread-safe.

    Args:
        faq: the loaded FAQ.
        threshold: the confidence below which the bot abstains.
        margin: how far ahead of the runner-up the best entry must be.

    Raises:
        EmbeddingUnavailable: the `wordllama` package (the matcher's meaning signal, loaded here
            once) is missing.
    """

    def __init__(
        self, faq: Faq, threshold: float = DEFAULT_THRESHOLD, margin: float = DEFAULT_MARGIN
    ) -> None:
        self.faq = faq
        self.matcher = Matcher(faq, threshold=threshold, margin=margin)

    @classmethod
    def from_path(cls, faq_path: Path, threshold: float = DEFAULT_THRESHOLD) -> FaqBot:
        """Build a bot from a FAQ file, e.g. `faq_data/faq.toml`.

        Raises:
            FaqError: the file is invalid.
        """
        return cls(load_faq(faq_path), threshold=threshold)

    def reply(self, text: str) -> BotReply:
        """Decide how to answer one shopper message."""
        intent = detect(text)
        if intent is not None:
            return BotReply(kind=_INTENT_KIND[intent])
        found = self.matcher.match(text)
        entry = self.faq.get(found.entry_id) if found.entry_id and found.accepted else None
        if entry is None:
            return BotReply(kind="abstain", confidence=found.confidence)
        return BotReply(
            kind="answer",
            entry_id=entry.id,
            title=entry.title,
            answer=entry.answer,
            confidence=found.confidence,
        )
