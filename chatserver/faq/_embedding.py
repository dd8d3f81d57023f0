"""Static word embeddings (WordLlama) for the matcher's meaning signal, loaded offline only."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

#: The model and width; its weights and tokenizer ship inside the `wordllama` wheel.
_CONFIG = "l2_supercat"
_DIM = 256
#: Its embeddings are trained to work truncated (matryoshka): fewer dimensions keep a large
#: FAQ's example matrix small enough to scan within the latency budget.
DIMENSIONS = 64


class EmbeddingUnavailable(RuntimeError):
    """Raised when the `wordllama` package, or the weights inside it, cannot be loaded."""


class Embedder:
    """Turns texts into unit vectors whose dot product says how alike their meanings are.

    The weights are read from the installed package folder and downloads are disabled, so
    building an `Embedder` never touches the network: a missing file is an error, not a fetch.

    Raises:
        EmbeddingUnavailable: `wordllama` is not installed, or its wheel lacks the weights.
    """

    def __init__(self) -> None:
        try:
            import wordllama  # type: ignore[import-untyped]  # ships no type hints
        except ImportError as exc:
            raise EmbeddingUnavailable(
                "the FAQ matcher needs the 'wordllama' package (pip install 'wordllama>=0.4')"
            ) from exc
        # resolve_file() looks in the package folder first; cache_dir points there too, and
        # disable_download turns a missing file into FileNotFoundError instead of an HTTP GET.
        folder = Path(wordllama.__file__).resolve().parent
        try:
            self._model = wordllama.WordLlama.load(
                config=_CONFIG,
                dim=_DIM,
                trunc_dim=DIMENSIONS,
                cache_dir=folder,
                disable_download=True,
            )
        except (FileNotFoundError, ValueError) as exc:
            raise EmbeddingUnavailable(f"cannot load the wordllama weights: {exc}") from exc

    def embed_one(self, text: str) -> np.ndarray:
        """Return the unit vector of one text, as `embed` would, without its batching overhead.

        `WordLlamaInference.embed` pads a batch and calls `encode_batch`, which hands the work to
        the tokenizer's thread pool: on a busy machine that alone took 0.5 ms at the 99th
        percentile. One `encode` and a mean of the token rows is the same average pooling.
        """
        ids = self._model.tokenizer.encode(text, add_special_tokens=False).ids
        if not ids:
            return np.zeros(DIMENSIONS, dtype=np.float32)
        vector = self._model.embedding[ids].mean(axis=0)
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 else vector

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return one unit-length float32 row per text (a zero row for a text with no tokens)."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        vectors = np.asarray(self._model.embed(list(texts), norm=False), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms > 0, norms, 1.0)
