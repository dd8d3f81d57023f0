"""Match a shopper's question to a FAQ entry: words, character n-grams and meaning, nearest example."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
from pydantic import BaseModel, ConfigDict
from rapidfuzz import process
from rapidfuzz.distance import OSA

from chatserver.faq._embedding import Embedder
from chatserver.faq._places import PLACE
from chatserver.faq._text import GENERIC, STOPWORDS, concept, content_words, normalise
from chatserver.faq._vectors import NearestIndex, char_grams, document_frequencies
from chatserver.faq.models import Faq

#: Below this confidence the bot does not answer.
DEFAULT_THRESHOLD = 0.65
#: The best entry must beat the next one by this much, or the bot does not answer.
DEFAULT_MARGIN = 0.005
#: ... and by this much when the question has a single content word: "email" alone is near the
#: e-mail entries of orders, account and newsletter alike, and one word cannot say which is meant.
SINGLE_WORD_MARGIN = 0.05
#: The matched words must weigh at least this much (one specific word does, "order" alone not).
MIN_EVIDENCE = 1.6
#: The best entry's character n-gram cosine must reach this (a question spelt quite unlike any
#: way of asking is not answered on meaning alone) ...
MIN_CHAR_SCORE = 0.3
#: ... and so must its embedding cosine: the meaning signal is the strongest on real shopper text
#: (nearest way of asking, top-1: 87% against 74% for either other signal on the public set).
MIN_MEANING_SCORE = 0.70
#: Without word evidence (see MIN_EVIDENCE) the meaning alone must be this close: "order" on its
#: own is near "order status" in meaning, but says too little to answer.
MEANING_WITHOUT_WORDS = 0.85
_GENERIC_WEIGHT = 0.4
#: The word score is this share of the closest example's cosine plus the rest of the coverage.
_COSINE_WEIGHT = 0.6
#: The confidence is these shares of the word score, the character n-gram cosine and the
#: embedding cosine (they add up to 1).
_WORD_WEIGHT = 0.1
_CHAR_WEIGHT = 0.2
_MEANING_WEIGHT = 0.7
_PLACE_PREPOSITIONS = frozenset(("to", "in", "at", "into"))
_SHIPPING = frozenset(("ship", "deliver", "countr", "postcod"))
_CACHE_LIMIT = 20_000
_TOP = 6


class Match(BaseModel):
    """The matcher's verdict on one question."""

    model_config = ConfigDict(frozen=True)

    entry_id: str | None
    confidence: float
    runner_up: str | None = None
    runner_up_confidence: float = 0.0
    accepted: bool = False


class Matcher:
    """Scores questions against a FAQ; build once per FAQ, then call `match` from anywhere.

    Args:
        faq: the loaded FAQ.
        threshold: the confidence (0-1) below which `match` does not accept.
        margin: how far the best entry must be ahead of the second to be accepted.
        embedder: the word-embedding model; by default one is loaded (build it once and share it
            when making several matchers).

    Raises:
        EmbeddingUnavailable: no embedder was given and `wordllama` cannot be loaded.
    """

    def __init__(
        self,
        faq: Faq,
        threshold: float = DEFAULT_THRESHOLD,
        margin: float = DEFAULT_MARGIN,
        embedder: Embedder | None = None,
    ) -> None:
        self.faq = faq
        self.embedder = embedder if embedder is not None else Embedder()
        self.threshold = threshold
        self.margin = margin
        self._ids = [entry.id for entry in faq.entries]
        self._vocabulary: dict[str, list[str]] = defaultdict(list)
        self._corrections: dict[str, str] = {}
        texts: list[str] = []
        groups: list[int] = []
        entry_words: list[dict[str, float]] = []
        for index, entry in enumerate(faq.entries):
            texts.extend(normalise(text) for text in (entry.title, *entry.questions))
            groups.extend([index] * (1 + len(entry.questions)))
            entry_words.append(dict.fromkeys(self._concepts(normalise(entry.answer)), 1.0))
        concept_rows = [dict.fromkeys(self._concepts(text), 1.0) for text in texts]
        entry_concepts: list[set[str]] = [set() for _ in faq.entries]
        for entry_index, row in zip(groups, concept_rows, strict=True):
            entry_words[entry_index].update(row)
            entry_concepts[entry_index].update(row)
        words_seen = {word for text in texts for word in content_words(text)}
        for word in sorted(words_seen):
            self._vocabulary[word[0]].append(word)
        self._known = words_seen | STOPWORDS
        # IDF over entries, not examples: an entry with many ways of asking must not dilute it.
        total = len(faq.entries)
        per_entry = document_frequencies(entry_concepts)
        generic = {concept(word) for word in GENERIC}
        self._idf = {
            item: math.log(1 + total / count) * (_GENERIC_WEIGHT if item in generic else 1.0)
            for item, count in per_entry.items()
        }
        # An unknown word (a product, a place) counts like a rare one: it lowers the confidence.
        self._unknown_idf = math.log(1 + total) * 0.8
        self._words_index = NearestIndex(
            [{item: self._idf[item] for item in row} for row in concept_rows], groups
        )
        self._coverage_index = NearestIndex(entry_words, range(total), normalise=False)
        gram_rows = [char_grams(text) for text in texts]
        gram_frequency = document_frequencies(gram_rows)
        self._gram_idf = {
            gram: math.log((1 + len(texts)) / (1 + count)) + 1.0
            for gram, count in gram_frequency.items()
        }
        self._unknown_gram_idf = math.log(1 + len(texts)) + 1.0
        self._chars_index = NearestIndex(
            [{g: tf * self._gram_idf[g] for g, tf in row.items()} for row in gram_rows], groups
        )
        # One column per example: einsum then runs along rows of 64 dimensions x all examples,
        # a third faster than one dot product per example row.
        self._example_vectors = np.ascontiguousarray(self.embedder.embed(texts).T)
        group_array = np.asarray(groups, dtype=np.int64)
        self._example_starts = np.flatnonzero(np.r_[True, group_array[1:] != group_array[:-1]])

    @staticmethod
    def _concepts(normalised: str) -> list[str]:
        return [concept(word) for word in content_words(normalised)]

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

    def _words(self, text: str) -> list[str]:
        """Normalise a question, fix typos, and read unknown names in a shipping question as places.

        "do you deliver to vidisha" asks the same as "do you deliver to norway": in a question
        about shipping, a word the FAQ never uses right after "to", "in" or "at" is most likely a
        town or region. Elsewhere it is not ("how to gain weight").
        """
        words = [self._correct(word) for word in normalise(text).split()]
        if not any(concept(word) in _SHIPPING for word in words):
            return words
        folded: list[str] = []
        for word in words:
            # A number there is a postcode ("deliver to 75011"); an order number follows "order".
            if (
                word not in self._known
                and (word.isalpha() or word.isdigit())
                and folded
                and (folded[-1] in _PLACE_PREPOSITIONS or folded[-1] == PLACE)
            ):
                if folded[-1] != PLACE:
                    folded.append(PLACE)
                continue
            folded.append(word)
        return folded

    def _query(self, words: list[str]) -> dict[str, float]:
        query: dict[str, float] = {}
        for word in content_words(" ".join(words)):
            if not word.isdigit():
                item = concept(word)
                query[item] = self._idf.get(item, self._unknown_idf)
        return query

    def scores(self, text: str) -> dict[str, float]:
        """Return a confidence (0-1) for the entries that best match the question."""
        return {entry_id: score for entry_id, score, *_ in self._rank(text)[0]}

    def _word_scores(self, query: dict[str, float]) -> np.ndarray:
        """Return, per entry, how well its closest way of asking shares the question's words."""
        query_norm = math.sqrt(sum(w * w for w in query.values()))
        cosine = self._words_index.best_per_group(query, query_norm)
        covered = self._coverage_index.best_per_group(query)
        # Generic words alone ("order") are no evidence, unless they are the whole question.
        evidence = (covered >= MIN_EVIDENCE) | ((cosine >= 0.85) & (len(query) >= 2))
        coverage = covered / sum(query.values())
        return np.where(evidence, _COSINE_WEIGHT * cosine + (1 - _COSINE_WEIGHT) * coverage, 0.0)

    def _char_scores(self, words: list[str]) -> np.ndarray:
        """Return, per entry, the character n-gram cosine of its closest way of asking."""
        grams = char_grams(" ".join(words))
        query = {g: tf * self._gram_idf.get(g, self._unknown_gram_idf) for g, tf in grams.items()}
        # Unknown grams still count in the norm: a question about something else scores low.
        norm = math.sqrt(sum(w * w for w in query.values())) or 1.0
        return self._chars_index.best_per_group(query, norm)

    def _meaning_scores(self, words: list[str]) -> np.ndarray:
        """Return, per entry, the embedding cosine of its closest way of asking."""
        vector = self.embedder.embed_one(" ".join(words))
        # einsum, not `@`: BLAS may split a large product over threads, and on a busy machine
        # waiting for a descheduled helper thread costs milliseconds (the p99 went from 0.3 to 5+).
        cosines = np.einsum("ji,j->i", self._example_vectors, vector)
        return np.maximum.reduceat(cosines, self._example_starts)

    def _rank(self, text: str) -> tuple[list[tuple[str, float, float, float, float]], int]:
        """Return (entry id, confidence, word, character and meaning scores), likeliest first.

        Also returns how many content words (concepts) the question has.
        """
        words = self._words(text)
        query = self._query(words)
        if not query:
            return [], 0
        word_scores = self._word_scores(query)
        char_scores = self._char_scores(words)
        meaning_scores = self._meaning_scores(words)
        combined = (
            _WORD_WEIGHT * word_scores
            + _CHAR_WEIGHT * char_scores
            + _MEANING_WEIGHT * meaning_scores
        )
        top = np.argsort(-combined)[:_TOP]
        ranked = [
            (
                self._ids[i],
                float(combined[i]),
                float(word_scores[i]),
                float(char_scores[i]),
                float(meaning_scores[i]),
            )
            for i in top
            if combined[i] > 0
        ]
        return ranked, len(query)

    def match(self, text: str) -> Match:
        """Return the best entry for a question, its confidence, and whether it is accepted."""
        ranked, concepts = self._rank(text)
        if not ranked:
            return Match(entry_id=None, confidence=0.0)
        best_id, best, word_score, char_score, meaning_score = ranked[0]
        second_id, second = (ranked[1][0], ranked[1][1]) if len(ranked) > 1 else (None, 0.0)
        margin = self.margin if concepts > 1 else max(self.margin, SINGLE_WORD_MARGIN)
        accepted = (
            best >= self.threshold
            and best - second >= margin
            and char_score >= MIN_CHAR_SCORE
            and meaning_score >= MIN_MEANING_SCORE
            and (word_score > 0 or meaning_score >= MEANING_WITHOUT_WORDS)
        )
        return Match(
            entry_id=best_id,
            confidence=round(best, 4),
            runner_up=second_id,
            runner_up_confidence=round(second, 4),
            accepted=accepted,
        )
