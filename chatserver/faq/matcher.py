"""Match a shopper's question to a FAQ entry: weighted word overlap plus rapidfuzz, with a score."""

from __future__ import annotations

import math
from collections import defaultdict

from pydantic import BaseModel, ConfigDict
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from chatserver.faq._text import GENERIC, STOPWORDS, concept, content_words, normalise
from chatserver.faq.loader import Faq

#: Below this confidence the bot does not answer.
DEFAULT_THRESHOLD = 0.6
#: The best entry must beat the next one by this much, or the bot does not answer.
DEFAULT_MARGIN = 0.1
#: The matched words must weigh at least this much (one specific word does, "order" alone not).
MIN_EVIDENCE = 1.6
#: The best entry must explain this share of the question's weight (unknown words lower it).
MIN_COVERAGE = 0.5
_GENERIC_WEIGHT = 0.4
_COSINE_WEIGHT = 0.55
_COVERAGE_WEIGHT = 0.35
_FUZZY_WEIGHT = 0.10
_RERANK = 6
_CACHE_LIMIT = 20_000


class Match(BaseModel):
    """The matcher's verdict on one question."""

    model_config = ConfigDict(frozen=True)

    entry_id: str | None
    confidence: float
    runner_up: str | None = None
    runner_up_confidence: float = 0.0
    accepted: bool = False


class _Doc:
    """One way of asking (a question or a title), indexed."""

    __slots__ = ("entry_index", "weights", "norm", "text")

    def __init__(self, entry_index: int, concepts: dict[str, float], text: str) -> None:
        self.entry_index = entry_index
        self.weights = concepts
        self.norm = math.sqrt(sum(w * w for w in concepts.values())) or 1.0
        self.text = text


class Matcher:
    """Scores questions against a FAQ; build once per FAQ, then call `match` from anywhere.

    Args:
        faq: the loaded FAQ.
        threshold: the confidence (0-1) below which `match` does not accept.
        margin: how far the best entry must be ahead of the second to be accepted.
    """

    def __init__(
        self, faq: Faq, threshold: float = DEFAULT_THRESHOLD, margin: float = DEFAULT_MARGIN
    ) -> None:
        self.faq = faq
        self.threshold = threshold
        self.margin = margin
        self._ids = [entry.id for entry in faq.entries]
        self._vocabulary: dict[str, list[str]] = defaultdict(list)
        self._corrections: dict[str, str] = {}
        self._entry_words: list[set[str]] = []
        texts: list[tuple[int, list[str]]] = []
        entry_concepts: list[set[str]] = []
        words_seen: set[str] = set()
        for index, entry in enumerate(faq.entries):
            seen: set[str] = set()
            for text in (entry.title, *entry.questions):
                words = content_words(normalise(text))
                words_seen.update(words)
                concepts = [concept(word) for word in words]
                seen.update(concepts)
                texts.append((index, concepts))
            entry_concepts.append(seen)
            answer_words = content_words(normalise(entry.answer))
            self._entry_words.append(seen | {concept(word) for word in answer_words})
        for word in sorted(words_seen):
            self._vocabulary[word[0]].append(word)
        self._known = words_seen | STOPWORDS
        total = len(faq.entries)
        generic = {concept(word) for word in GENERIC}
        frequency: dict[str, int] = defaultdict(int)
        for concepts_of_entry in entry_concepts:
            for item in concepts_of_entry:
                frequency[item] += 1
        self._idf = {
            item: math.log(1 + total / count) * (_GENERIC_WEIGHT if item in generic else 1.0)
            for item, count in frequency.items()
        }
        # An unknown word (a product, a place) counts like a rare one: it lowers the confidence.
        self._unknown_idf = math.log(1 + total) * 0.8
        self._docs: list[_Doc] = []
        self._postings: dict[str, list[int]] = defaultdict(list)
        for entry_index, concepts in texts:
            weights = {item: self._idf[item] for item in concepts}
            if not weights:
                continue
            doc = _Doc(entry_index, weights, " ".join(concepts))
            for item in weights:
                self._postings[item].append(len(self._docs))
            self._docs.append(doc)

    def _correct(self, word: str) -> str:
        """Fix a likely typo by the nearest FAQ word with the same first letter."""
        if word in self._known or len(word) < 4 or not word.isalpha():
            return word
        cached = self._corrections.get(word)
        if cached is not None:
            return cached
        if len(word) < 5:
            return word
        limit = 1 if len(word) < 8 else 2
        found = process.extractOne(
            word, self._vocabulary.get(word[0], ()), scorer=OSA.distance, score_cutoff=limit
        )
        fixed = found[0] if found else word
        if len(self._corrections) > _CACHE_LIMIT:
            self._corrections.clear()
        self._corrections[word] = fixed
        return fixed

    def _query(self, text: str) -> dict[str, float]:
        words = [word for word in content_words(normalise(text)) if not word.isdigit()]
        query: dict[str, float] = {}
        for word in words:
            item = concept(self._correct(word))
            query[item] = self._idf.get(item, self._unknown_idf)
        return query

    def scores(self, text: str) -> dict[str, float]:
        """Return a confidence (0-1) for the entries that best share words with the question."""
        return {entry_id: score for entry_id, score, _ in self._rank(text)}

    def _rank(self, text: str) -> list[tuple[str, float, float]]:
        """Return (entry id, confidence, share of the question explained), best first."""
        query = self._query(text)
        if not query:
            return []
        query_norm = math.sqrt(sum(w * w for w in query.values()))
        dots: dict[int, float] = defaultdict(float)
        for item, weight in query.items():
            for doc_index in self._postings.get(item, ()):
                dots[doc_index] += weight * weight
        best: dict[int, tuple[float, int]] = {}
        for doc_index, dot in dots.items():
            doc = self._docs[doc_index]
            cosine = dot / (query_norm * doc.norm)
            if cosine > best.get(doc.entry_index, (0.0, 0))[0]:
                best[doc.entry_index] = (cosine, doc_index)
        ranked = sorted(best.items(), key=lambda item: item[1][0], reverse=True)[:_RERANK]
        query_mass = sum(query.values())
        query_text = " ".join(query)
        result: list[tuple[str, float, float]] = []
        for entry_index, (cosine, doc_index) in ranked:
            covered = sum(w for item, w in query.items() if item in self._entry_words[entry_index])
            # Generic words alone ("order") are no evidence, unless they are the whole question.
            if covered < MIN_EVIDENCE and (cosine < 0.85 or len(query) < 2):
                continue
            fuzzy = fuzz.token_sort_ratio(query_text, self._docs[doc_index].text) / 100
            coverage = covered / query_mass
            score = _COSINE_WEIGHT * cosine + _COVERAGE_WEIGHT * coverage + _FUZZY_WEIGHT * fuzzy
            result.append((self._ids[entry_index], score, coverage))
        return sorted(result, key=lambda item: item[1], reverse=True)

    def match(self, text: str) -> Match:
        """Return the best entry for a question, its confidence, and whether it is accepted."""
        ranked = self._rank(text)
        if not ranked:
            return Match(entry_id=None, confidence=0.0)
        best_id, best, coverage = ranked[0]
        second_id, second, _ = ranked[1] if len(ranked) > 1 else (None, 0.0, 0.0)
        accepted = (
            best >= self.threshold and best - second >= self.margin and coverage >= MIN_COVERAGE
        )
        return Match(
            entry_id=best_id,
            confidence=round(best, 4),
            runner_up=second_id,
            runner_up_confidence=round(second, 4),
            accepted=accepted,
        )
