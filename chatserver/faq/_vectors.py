"""Sparse TF-IDF vectors and nearest-example cosine search, shared by the matcher's two signals."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence

import numpy as np
from scipy import sparse

#: Grams are taken inside each word padded with spaces (like scikit-learn's "char_wb").
_SIZES = (3, 4, 5)
#: A feature in more rows than this share (and this count) is stored densely; see NearestIndex.
_DENSE_SHARE = 0.04
_DENSE_MIN_ROWS = 256


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
        # Stored column by column (CSC layout): a query touches only its own features' columns.
        matrix = sparse.csc_matrix(
            (values, (data_rows, data_cols)), shape=(len(rows), max(1, len(self.columns)))
        )
        matrix.sum_duplicates()
        self._rows = len(rows)
        # A feature in many rows (" or", "der" among character grams) is kept as a dense row of
        # its own: summing a few contiguous rows beats scattering tens of thousands of entries.
        counts = np.diff(matrix.indptr)
        dense = np.flatnonzero(counts > max(_DENSE_MIN_ROWS, _DENSE_SHARE * len(rows)))
        self._dense_slot = {int(column): slot for slot, column in enumerate(dense)}
        self._dense = np.ascontiguousarray(matrix[:, dense].T.toarray(), dtype=np.float32)
        self._indptr: list[int] = matrix.indptr.tolist()
        self._indices = matrix.indices.astype(np.intp)
        self._data = matrix.data.astype(np.float64)
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
        indptr = self._indptr
        dense_slot = self._dense_slot
        slots: list[int] = []
        dense_weights: list[float] = []
        slices: list[slice] = []
        lengths: list[int] = []
        weights: list[float] = []
        for feature, weight in query.items():
            column = columns.get(feature)
            if column is None:
                continue
            slot = dense_slot.get(column)
            if slot is not None:
                slots.append(slot)
                dense_weights.append(weight / norm)
            else:
                start, end = indptr[column], indptr[column + 1]
                slices.append(slice(start, end))
                lengths.append(end - start)
                weights.append(weight / norm)
        if slices:
            # A scatter-add of the query's columns, not `matrix[:, columns] @ weights`: scipy's
            # fancy indexing validates and copies on every call, several times the cost of the sum.
            rows = np.concatenate([self._indices[part] for part in slices])
            products = np.concatenate([self._data[part] for part in slices])
            products *= np.repeat(weights, lengths)
            scores = np.bincount(rows, weights=products, minlength=self._rows)
        else:
            scores = np.zeros(self._rows)
        if slots:
            # einsum, not `@`: BLAS would spread this small product over threads (see matcher).
            scores += np.einsum(
                "i,ij->j", np.asarray(dense_weights, dtype=np.float32), self._dense[slots]
            )
        best = np.maximum.reduceat(scores, self._starts)
        if self._identity_groups:
            return best
        result = np.zeros(self.groups)
        result[self._group_ids] = best
        return result
