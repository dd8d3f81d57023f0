"""Sparse TF-IDF vectors and nearest-example cosine search, shared by the matcher's two signals."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence

import numpy as np
from scipy import sparse

#: Grams are taken inside each word padded with spaces (like scikit-learn's "char_wb").
_SIZES = (3, 4, 5)


def char_grams(text: str) -> dict[str, float]:
    """Return the sublinear counts of the 3-5 letter grams of the words of a normalised text."""
    counts: dict[str, int] = {}
    for word in text.split():
        padded = f" {word} "
        for size in _SIZES:
            for start in range(max(1, len(padded) - size + 1)):
                gram = padded[start : start + size]
                counts[gram] = counts.get(gram, 0) + 1
    return {gram: 1.0 + math.log(count) for gram, count in counts.items()}


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
        # Column slices of a CSC matrix are cheap: a query touches only its own features' columns.
        self._matrix = sparse.csc_matrix(
            (values, (data_rows, data_cols)), shape=(len(rows), max(1, len(self.columns)))
        )
        group_array = np.asarray(groups, dtype=np.int64)
        self.groups = int(group_array.max()) + 1 if len(group_array) else 0
        if len(group_array):
            self._starts = np.flatnonzero(np.r_[True, group_array[1:] != group_array[:-1]])
        else:
            self._starts = np.zeros(0, dtype=np.int64)
        self._group_ids = group_array[self._starts]

    def best_per_group(self, query: Mapping[str, float], norm: float = 1.0) -> np.ndarray:
        """Return, for every group, the highest dot product of `query / norm` with its rows."""
        result = np.zeros(self.groups)
        known = [(self.columns[f], w) for f, w in query.items() if f in self.columns]
        if not known or not self.groups:
            return result
        columns = np.fromiter((c for c, _ in known), dtype=np.int64, count=len(known))
        weights = np.fromiter((w for _, w in known), dtype=np.float64, count=len(known))
        scores = self._matrix[:, columns] @ (weights / norm)
        result[self._group_ids] = np.maximum.reduceat(scores, self._starts)
        return result
