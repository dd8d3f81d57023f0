"""The FAQ bot's brain: one shopper message in, one reply decision out; no I/O, no clock."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from chatserver.faq._embedding import Embedder
from chatserver.faq.detect import LanguageDetector
from chatserver.faq.intents import Intent, detect
from chatserver.faq.language import load_language
from chatserver.faq.loader import load_faq
from chatserver.faq.matcher import Match, Matcher
from chatserver.faq.models import Faq

ReplyKind = Literal["answer", "handoff", "greeting", "thanks", "abstain"]
#: What to do when the matched entry has no text in the shopper's language (shop.toml's
#: `missing_language`): answer in English with a short note, or hand off to a person.
MissingLanguage = Literal["english", "handoff"]

#: The confidence a runner-up language's answer needs when lingua's first guess is English.
RUNNER_UP_CONFIDENCE = 0.75

_INTENT_KIND: dict[Intent, ReplyKind] = {
    Intent.HANDOFF: "handoff",
    Intent.GREETING: "greeting",
    Intent.THANKS: "thanks",
}


class BotReply(BaseModel):
    """What the bot decided to do with a message.

    `entry_id`, `title` and `answer` are set only when `kind` is "answer"; `confidence` is the
    matcher's score for its best entry (also kept on "abstain", for logs and tuning). `lang` is
    the shopper's language; `in_english` says the answer is the English text because the entry
    has none in that language (the caller adds the shop's short note).
    """

    model_config = ConfigDict(frozen=True)

    kind: ReplyKind
    entry_id: str | None = None
    title: str | None = None
    answer: str | None = None
    confidence: float = 0.0
    lang: str = "en"
    in_english: bool = False


class FaqBot:
    """Answers from a FAQ when confident, in the shopper's language; otherwise hands off or
    abstains. Pure and thread-safe.

    Args:
        faq: the loaded FAQ (English and its other languages).
        threshold: the confidence below which the bot abstains (default: each language's own).
        margin: how far ahead of the runner-up the best entry must be.
        languages: the shop's languages, English first (default: the FAQ's).
        missing: what to do when an entry lacks the shopper's language.
        low_accuracy: lingua's faster low-accuracy mode for language detection.

    Raises:
        EmbeddingUnavailable: the `wordllama` package (English's meaning signal, loaded here
            once) is missing.
    """

    def __init__(
        self,
        faq: Faq,
        threshold: float | None = None,
        margin: float | None = None,
        languages: Sequence[str] | None = None,
        missing: MissingLanguage = "english",
        low_accuracy: bool = False,
    ) -> None:
        self.faq = faq
        self.missing = missing
        wanted = list(languages) if languages is not None else faq.languages
        self.languages = [code for code in wanted if _has_data(code)] or ["en"]
        self.detector = LanguageDetector(self.languages, low_accuracy=low_accuracy)
        embedder: Embedder | None = None
        self.matchers: dict[str, Matcher] = {}
        for code in self.languages:
            matcher = Matcher(faq, threshold=threshold, margin=margin, embedder=embedder, lang=code)
            embedder = embedder or matcher.embedder
            self.matchers[code] = matcher
        self.matcher = self.matchers.get("en") or next(iter(self.matchers.values()))

    @classmethod
    def from_path(cls, faq_path: Path, threshold: float | None = None) -> FaqBot:
        """Build a bot from a FAQ file, e.g. `faq_data/faq.toml` (and its languages' files).

        Raises:
            FaqError: a file is invalid.
        """
        return cls(load_faq(faq_path), threshold=threshold)

    def language(self, text: str, locale: str | None = None) -> str:
        """The shop language the shopper writes in."""
        return self.detector.detect(text, locale)

    def reply(self, text: str, locale: str | None = None) -> BotReply:
        """Decide how to answer one shopper message (`locale`: the widget's, a hint only).

        The likeliest language's matcher goes first; when it does not accept, the runner-up
        language and English get a turn (short lines are often too short to tell, and shoppers
        mix in English: "refund status?"). The answer is in the language that matched, or in
        the widget's language when that is the one detected.
        """
        scored = self.detector.scored(text, locale)
        ranked = [code for code, _ in scored]
        lang = ranked[0]
        intent = detect(text, lang)
        if intent is None and any(
            load_language(other).intent(text) is Intent.HANDOFF for other in ranked[1:]
        ):
            # "mens aub" is too short to tell Dutch from German, "un agente por favor" reads as
            # Italian as much as Spanish: a hand-off request in any language with a chance counts.
            intent = Intent.HANDOFF
        if intent is not None:
            return BotReply(kind=_INTENT_KIND[intent], lang=lang)
        found, lang = self._match(text, ranked, self.detector.is_tie(scored))
        if not (found.entry_id and found.accepted):
            return BotReply(kind="abstain", confidence=found.confidence, lang=lang)
        entry = self.faq.get(found.entry_id, lang)
        in_english = False
        if entry is None:
            if self.missing == "handoff":
                return BotReply(kind="handoff", confidence=found.confidence, lang=lang)
            entry = self.faq.get(found.entry_id)
            in_english = True
        if entry is None:  # pragma: no cover - every matched id is an English entry
            return BotReply(kind="abstain", confidence=found.confidence, lang=lang)
        return BotReply(
            kind="answer",
            entry_id=entry.id,
            title=entry.title,
            answer=entry.answer,
            confidence=found.confidence,
            lang=lang,
            in_english=in_english,
        )

    def _match(self, text: str, ranked: list[str], tie: bool) -> tuple[Match, str]:
        """The match in the likeliest language; on a near tie, the more confident of the first
        two; when neither accepts, the runner-up and English get a turn."""
        lang = ranked[0]
        found = self.matchers[lang].match(text)
        if tie and ranked[1] in self.matchers:
            rival = self.matchers[ranked[1]].match(text)
            better = not _accepted(found) or rival.confidence > found.confidence
            if _accepted(rival) and better and _sure(lang, ranked[1], rival):
                return rival, ranked[1]
        if _accepted(found):
            return found, lang
        for other in dict.fromkeys([*ranked[1:2], "en"]):
            if other != lang and other in self.matchers:
                retry = self.matchers[other].match(text)
                if _accepted(retry) and _sure(lang, other, retry):
                    return retry, other
        return found, lang


def _sure(first: str, other: str, found: Match) -> bool:
    """A language lingua ranks below English is a long shot ("break" reads as a typo of Polish
    "brak"): its answer must be surer than its own threshold."""
    return other == "en" or first != "en" or found.confidence >= RUNNER_UP_CONFIDENCE


def _accepted(found: Match) -> bool:
    return found.entry_id is not None and found.accepted


def _has_data(code: str) -> bool:
    try:
        load_language(code)
    except KeyError:
        return False
    return True
