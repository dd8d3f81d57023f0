"""Sparse TF-IDF vectors and nearest-example cosine search, shared by the matcher's two signals."""

from __future__ import annotations

import functools
import math
from collections.abc import Collection, Mapping, Sequence

import numpy as np
from scipy import sparse

#: Grams are taken inside each word padded with spaces (like scikit-learn's "char_wb").
_SIZES = (3, 4, 5)
#: Above this many stored entries per row touched by a query, scipy's product is the faster.
_SCATTER_LIMIT = 1.0


def char_grams(text: str) -> dict[str, float]:
    """Return the sublinear counts of the 3-5 letter grams of the words of a normalised text."""
    counts: dict[str, int] = {}
    for word in text.split():
        for gram in _word_grams(word):
            counts[gram] = counts.get(gram, 0) + 1
    return {gram: 1.0 + math.log(count) for gram, count in counts.items()}


@functools.lru_cache(maxsize=50_000)
def _word_grams(word: str) -> tuple[str, ...]:
    """Return the grams of one word padded with spaces; shoppers reuse few words, so cache them."""
    padded = f" {word} "
    return tuple(
        padded[start : start + size]
        for size in _SIZES
        for start in range(max(1, len(padded) - size + 1))
    )


def document_frequencies(rows: Sequence[Collection[str]]) -> dict[str, int]:
    """Return in how many rows (feature maps or sets) each feature occurs."""
    frequency: dict[str, int] = {}
    for row in rows:
        for feature in row:
            frequency[feature] = frequency.get(feature, 0) + 1
    return frequency


class NearestIndex:
    """Cosine similarity of a query to every stored row, keeping the best row of each group.

    Args:
        rows: one weighted feature map per stored text (weights already include any IDF).
        groups: for each row, the index of its group (its FAQ entry); rows of a group must be
            consecutive, so the best per group is one `np.maximum.reduceat`.
        normalise: divide each row by its length (cosine); without it the dot product is kept.
    """

    def __init__(
        self, rows: Sequence[Mapping[str, float]], groups: Sequence[int], normalise: bool = True
    ) -> None:
        self.columns: dict[str, int] = {}
        data_rows: list[int] = []
        data_cols: list[int] = []
        values: list[float] = []
        for row_index, row in enumerate(rows):
            norm = math.sqrt(sum(w * w for w in row.values())) if normalise else 1.0
            for feature, weight in row.items():
                data_rows.append(row_index)
                data_cols.append(self.columns.setdefault(feature, len(self.columns)))
                values.append(weight / (norm or 1.0))
        # Stored column by column (CSC layout): a query touches only its own features' columns.
        self._matrix = sparse.csc_matrix(
            (values, (data_rows, data_cols)), shape=(len(rows), max(1, len(self.columns)))
        )
        self._matrix.sum_duplicates()
        self._rows = len(rows)
        self._starts_of = self._matrix.indptr[:-1].astype(np.intp)
        self._lengths_of = np.diff(self._matrix.indptr).astype(np.intp)
        self._indices = self._matrix.indices.astype(np.intp)
        self._data = self._matrix.data.astype(np.float64)
        group_array = np.asarray(groups, dtype=np.int64)
        self.groups = int(group_array.max()) + 1 if len(group_array) else 0
        if len(group_array):
            self._starts = np.flatnonzero(np.r_[True, group_array[1:] != group_array[:-1]])
        else:
            self._starts = np.zeros(0, dtype=np.int64)
        self._group_ids = group_array[self._starts]
        self._identity_groups = bool(np.array_equal(self._group_ids, np.arange(self.groups)))

    def best_per_group(self, query: Mapping[str, float], norm: float = 1.0) -> np.ndarray:
        """Return, for every group, the highest dot product of `query / norm` with its rows."""
        if not self.groups:
            return np.zeros(0)
        columns = self.columns
        picked: list[int] = []
        weights: list[float] = []
        for feature, weight in query.items():
            column = columns.get(feature)
            if column is not None:
                picked.append(column)
                weights.append(weight)
        if not picked:
            return np.zeros(self.groups)
        scaled = np.asarray(weights) / norm
        starts = self._starts_of[picked]
        lengths = self._lengths_of[picked]
        if lengths.sum() > _SCATTER_LIMIT * self._rows:
            # Many entries (common character grams): scipy's column slice and product run in C
            # and beat the scatter-add below, despite the fixed cost of its index checks.
            scores = self._matrix[:, picked] @ scaled
        else:
            # Few entries (words): a scatter-add of the query's columns, not scipy, whose fancy
            # indexing validates and copies on every call, several times the cost of the sum.
            parts = [
                slice(start, start + length)
                for start, length in zip(starts.tolist(), lengths.tolist(), strict=True)
            ]
            rows = np.concatenate([self._indices[part] for part in parts])
            products = np.concatenate([self._data[part] for part in parts])
            products *= np.repeat(scaled, lengths)
            scores = np.bincount(rows, weights=products, minlength=self._rows)
        best = np.maximum.reduceat(scores, self._starts)
        if self._identity_groups:
            return best
        result = np.zeros(self.groups)
        result[self._group_ids] = best
        return result
