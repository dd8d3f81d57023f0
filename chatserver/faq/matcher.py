"""Match a shopper's question to a FAQ entry: words, character n-grams and meaning, nearest example."""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np
from pydantic import BaseModel, ConfigDict
from rapidfuzz import process
from rapidfuzz.distance import OSA

from chatserver.faq._embedding import Embedder
from chatserver.faq._vectors import NearestIndex, char_grams, document_frequencies
from chatserver.faq.language import Language, load_language
from chatserver.faq.models import Faq

#: Below this confidence the bot does not answer (English; each language's data sets its own).
DEFAULT_THRESHOLD = 0.65
#: The best entry must beat the next one by this much, or the bot does not answer.
DEFAULT_MARGIN = 0.005
# The other gates and weights are per language, in `[tuning]` of chatserver/faq/lang/<code>.toml
# (see `Tuning`): a single content word needs a wider margin ("email" alone is near the e-mail
# entries of orders, account and newsletter alike); the matched words must weigh at least
# `min_evidence` (one specific word does, "order" alone not); the character n-gram cosine and the
# embedding cosine must reach their minimums; without word evidence the meaning alone must be
# `meaning_without_words` close. The confidence is the weighted sum of the three signals.
_GENERIC_WEIGHT = 0.4
#: The word score is this share of the closest example's cosine plus the rest of the coverage.
_COSINE_WEIGHT = 0.6
_CACHE_LIMIT = 20_000
_TOP = 6
#: A compound's parts are at least this long ("ab", "an" are no parts of "abholung").
_SHORTEST_PART = 3
#: Shorter words are seldom compounds, and more often a typo or a word of its own ("uhrzeit").
_SHORTEST_COMPOUND = 8


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

    One matcher serves one language: it indexes the FAQ's entries in that language, and the
    English ways of asking of the entries that have no text in it (so a shopper who writes
    English in a German chat, or asks about an untranslated entry, is still understood).

    Args:
        faq: the loaded FAQ.
        threshold: the confidence (0-1) below which `match` does not accept (default: the
            language's own).
        margin: how far the best entry must be ahead of the second to be accepted.
        embedder: the word-embedding model; by default one is loaded when the language uses it
            (build it once and share it when making several matchers).
        lang: the language code ("en", "de", "zh-CN").

    Raises:
        EmbeddingUnavailable: no embedder was given and `wordllama` cannot be loaded.
    """

    def __init__(
        self,
        faq: Faq,
        threshold: float | None = None,
        margin: float | None = None,
        embedder: Embedder | None = None,
        lang: str = "en",
    ) -> None:
        self.faq = faq
        self.lang: Language = load_language(lang)
        tuning = self.tuning = self.lang.tuning
        self.embedder = (
            (embedder if embedder is not None else Embedder()) if tuning.embedding else None
        )
        self.threshold = tuning.threshold if threshold is None else threshold
        self.margin = tuning.margin if margin is None else margin
        entries = faq.matchable(lang)
        self._ids = [entry.id for entry in entries]
        normalise, concept = self.lang.normalise, self.lang.concept
        self._vocabulary: dict[str, list[str]] = defaultdict(list)
        self._corrections: dict[str, str] = {}
        self._splits: dict[str, list[str]] = {}
        texts: list[str] = []
        groups: list[int] = []
        entry_words: list[dict[str, float]] = []
        for index, entry in enumerate(entries):
            texts.extend(normalise(text) for text in (entry.title, *entry.questions))
            groups.extend([index] * (1 + len(entry.questions)))
            entry_words.append(dict.fromkeys(self._concepts(normalise(entry.answer)), 1.0))
        concept_rows = [dict.fromkeys(self._concepts(text), 1.0) for text in texts]
        entry_concepts: list[set[str]] = [set() for _ in entries]
        for entry_index, row in zip(groups, concept_rows, strict=True):
            entry_words[entry_index].update(row)
            entry_concepts[entry_index].update(row)
        words_seen = {word for text in texts for word in self.lang.content_words(text)}
        for word in sorted(words_seen):
            self._vocabulary[word[0]].append(word)
        self._known = words_seen | self.lang.stopwords
        # The FAQ's commonest word for each concept: a synonym it never writes ("annullieren")
        # is read as that word ("stornieren"), so the n-grams and the meaning see it too.
        counts: Counter[str] = Counter(
            word for text in texts for word in self.lang.content_words(text)
        )
        self._faq_word: dict[str, str] = {}
        if self.lang.synonyms_as_faq_words:
            for word, _ in counts.most_common():
                self._faq_word.setdefault(self.lang.concept(word), word)
        # IDF over entries, not examples: an entry with many ways of asking must not dilute it.
        total = len(entries)
        per_entry = document_frequencies(entry_concepts)
        generic = {concept(word) for word in self.lang.generic}
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
        self._example_vectors = (
            np.ascontiguousarray(self.embedder.embed(texts).T) if self.embedder else None
        )
        group_array = np.asarray(groups, dtype=np.int64)
        self._example_starts = np.flatnonzero(np.r_[True, group_array[1:] != group_array[:-1]])

    def _concepts(self, normalised: str) -> list[str]:
        return [self.lang.concept(word) for word in self.lang.content_words(normalised)]

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
        # A word with a meaning of its own, from the language data ("schickt": shipping) or as
        # a form of a FAQ word, is no typo of a FAQ word that means something else ("schicke",
        # of sending back); only of one that agrees ("cancle": cancel), which helps the n-grams.
        own = self.lang.concept(word)
        if (word in self.lang.synonyms or own in self._idf) and self.lang.concept(fixed) != own:
            fixed = word
        if len(self._corrections) > _CACHE_LIMIT:
            self._corrections.clear()
        self._corrections[word] = fixed
        return fixed

    def _respell(self, word: str) -> list[str]:
        """Read an unknown word in the letters it stands for, when that makes it known.

        "groessentabelle" is "größentabelle" typed without umlauts: respelled and normalised
        again ("grosse tabelle"), every word of it is one the FAQ uses. Returns [] otherwise.
        """
        if not self.lang.respell or word in self._known:
            return []
        respelled = self.lang.respelled(word)
        if respelled == word:
            return []
        words = self.lang.normalise(respelled).split()
        known = all(w in self._known or self.lang.concept(w) in self._idf for w in words)
        return words if known else []

    def _as_faq_word(self, word: str) -> str:
        """Return the FAQ's word for a synonym from the language data it never writes."""
        if word in self._known:
            return word
        lang = self.lang
        if word not in lang.synonyms and lang.stem(word) not in lang.synonyms:
            return word
        # A product is no "artikel" to the n-grams: generic concepts keep the shopper's word.
        concept = lang.concept(word)
        return word if concept in lang.generic else self._faq_word.get(concept, word)

    def _is_faq_word(self, word: str) -> bool:
        word = self.lang.shorthand.get(word, word)
        return word not in self.lang.stopwords and (
            word in self._known or self.lang.concept(word) in self._idf
        )

    def _split(self, word: str) -> list[str]:
        """Split an unknown compound into words the FAQ uses, when it is made only of those.

        "paketverfolgung" is "paket" + "verfolgung", "sendungsverfolgungsnummer" is "sendung" +
        "verfolgung" + "nummer" (a joining "s" dropped). Returns [] otherwise, so a compound
        with a part the FAQ never uses ("fahrradhelm") stays one unknown word.
        """
        if (
            not self.lang.split_compounds
            or len(word) < _SHORTEST_COMPOUND
            or word in self.lang.synonyms
            or self._is_faq_word(word)
        ):
            return []
        cached = self._splits.get(word)
        if cached is None:
            respelled = self.lang.respelled(word)
            cached = self._split_parts(word) or (
                self._split_parts(respelled) if respelled != word else []
            )
            if len(self._splits) > _CACHE_LIMIT:
                self._splits.clear()
            self._splits[word] = cached
        return cached

    def _split_parts(self, word: str, depth: int = 0) -> list[str]:
        if depth > 2 or len(word) < 2 * _SHORTEST_PART or not word.isalpha():
            return []
        # The longest known head first: "versandkosten" is "versand" + "kosten", not "vers...".
        for cut in range(len(word) - _SHORTEST_PART, _SHORTEST_PART - 1, -1):
            head, tail = word[:cut], word[cut:]
            heads = [head]
            for joint in self.lang.compound_joints:
                if head.endswith(joint) and len(head) - len(joint) >= _SHORTEST_PART:
                    heads.append(head[: -len(joint)])
            found = next((h for h in heads if self._is_faq_word(h)), None)
            if found is None:
                continue
            rest = [tail] if self._is_faq_word(tail) else self._split_parts(tail, depth + 1)
            if rest:
                return [self.lang.shorthand.get(part, part) for part in (found, *rest)]
        return []

    def _words(self, text: str) -> list[str]:
        """Normalise a question, fix typos, and read unknown names in a shipping question as places.

        "do you deliver to vidisha" asks the same as "do you deliver to norway": in a question
        about shipping, a word the FAQ never uses right after "to", "in" or "at" is most likely a
        town or region. Elsewhere it is not ("how to gain weight").
        """
        lang = self.lang
        words = [
            fixed
            for word in lang.normalise(text).split()
            for fixed in self._respell(word) or self._split(word) or [self._correct(word)]
        ]
        if self._faq_word:
            words = [self._as_faq_word(word) for word in words]
        if not lang.shipping or not any(lang.concept(word) in lang.shipping for word in words):
            return words
        place, prepositions = lang.place, lang.place_prepositions
        folded: list[str] = []
        for word in words:
            # A number there is a postcode ("deliver to 75011"); an order number follows "order".
            if (
                word not in self._known
                and (word.isalpha() or word.isdigit())
                and folded
                and (folded[-1] in prepositions or folded[-1] == place)
            ):
                if folded[-1] != place:
                    folded.append(place)
                continue
            folded.append(word)
        return folded

    def _query(self, words: list[str]) -> dict[str, float]:
        query: dict[str, float] = {}
        for word in self.lang.content_words(" ".join(words)):
            if not word.isdigit():
                item = self.lang.concept(word)
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
        evidence = (covered >= self.tuning.min_evidence) | ((cosine >= 0.85) & (len(query) >= 2))
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
        if self.embedder is None or self._example_vectors is None:
            return np.zeros(len(self._ids))
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
        tuning = self.tuning
        combined = (
            tuning.word_weight * word_scores
            + tuning.char_weight * char_scores
            + tuning.meaning_weight * meaning_scores
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
        tuning = self.tuning
        margin = self.margin if concepts > 1 else max(self.margin, tuning.single_word_margin)
        if self.embedder is not None:
            meaning_ok = meaning_score >= tuning.min_meaning_score and (
                word_score > 0 or meaning_score >= tuning.meaning_without_words
            )
        else:
            meaning_ok = word_score > 0
        accepted = (
            best >= self.threshold
            and best - second >= margin
            and char_score >= tuning.min_char_score
            and meaning_ok
        )
        return Match(
            entry_id=best_id,
            confidence=round(best, 4),
            runner_up=second_id,
            runner_up_confidence=round(second, 4),
            accepted=accepted,
        )
