"""Tests for :mod:`cximpact.signals.embeddings` (shipped static embeddings, no torch)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from cximpact.errors import ConfigError, ContractError, NotFittedError
from cximpact.signals.embeddings import StaticEmbedder, StaticTextFeatures, default_embedder

_TRICKY = [
    "I was charged twice for the same order!!",
    "Café naïve résumé: €50, $100 & foo_bar 3.5% e-mail",
    "Why do I see an extra £1 charge?  (since 01/02)",
    "don’t — “quoted” … ellipsis",
    "URGENT!!! my card NEVER arrived",
    "日本語 text with CJK",
    "",
    "ｆｕｌｌ ｗｉｄｔｈ",
]


@pytest.fixture(scope="module")
def embedder() -> StaticEmbedder:
    return default_embedder()


def test_vectors_have_unit_length_and_shipped_dimension(embedder: StaticEmbedder) -> None:
    vectors = embedder.encode(["refund not received", "card arrived broken", "hello"])
    assert vectors.shape == (3, 256)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


def test_missing_and_empty_texts_give_zero_rows(embedder: StaticEmbedder) -> None:
    vectors = embedder.encode(["", None, float("nan"), "refund"])
    assert not vectors[:3].any()
    assert vectors[3].any()
    assert embedder.encode([]).shape == (0, 256)


def test_a_single_string_is_refused(embedder: StaticEmbedder) -> None:
    with pytest.raises(ContractError, match="single string"):
        embedder.encode("refund please")


def test_paraphrases_are_closer_than_unrelated_texts(embedder: StaticEmbedder) -> None:
    refund, money_back, weather = embedder.encode(
        [
            "where is my refund",
            "I still have not been reimbursed",
            "what is the weather like in Paris",
        ]
    )
    assert float(refund @ money_back) > float(refund @ weather) + 0.1


def test_word_cache_gives_the_tokenizer_s_own_ids(embedder: StaticEmbedder) -> None:
    reference = embedder._tokenizer.encode_batch(_TRICKY, add_special_tokens=False)
    expected = [[i for i in e.ids if i != embedder._unk] for e in reference]
    assert embedder.token_ids(_TRICKY) == expected
    assert embedder.token_ids(_TRICKY) == expected  # second pass served from the cache


def test_encoding_is_batch_independent(embedder: StaticEmbedder) -> None:
    whole = embedder.encode(_TRICKY)
    pieces = embedder.encode(_TRICKY, batch_size=3)
    np.testing.assert_allclose(whole, pieces, rtol=1e-6, atol=1e-7)


def test_long_texts_are_truncated_to_max_tokens() -> None:
    short = StaticEmbedder(max_tokens=4)
    ids, lengths = short.tokenize(["one two three four five six", "one"])
    assert list(lengths) == [4, 1]
    assert ids.size == 5


def test_missing_files_raise_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="build_static_embeddings"):
        StaticEmbedder(tmp_path)
    with pytest.raises(ConfigError, match="max_tokens"):
        StaticEmbedder(max_tokens=0)


def test_shipped_files_are_small_and_attributed(embedder: StaticEmbedder) -> None:
    data = Path(str(resources.files("cximpact.signals") / "data"))
    total = sum(p.stat().st_size for p in data.glob("static_*"))
    assert total < 15_000_000
    meta = json.loads((data / "static_embeddings.json").read_text())
    assert "Apache-2.0" in meta["licence"]
    assert meta["dimensions"] == embedder.dim
    assert meta["vocabulary_size"] == embedder.vocabulary_size
    assert embedder.metadata() == meta


def test_encoding_does_not_import_torch() -> None:
    code = (
        "import sys\n"
        "from cximpact.signals.supervised import SupervisedTopicClassifier\n"
        "from cximpact.signals.embeddings import default_embedder\n"
        "default_embedder().encode(['my card never arrived'])\n"
        "SupervisedTopicClassifier().fit(['a card', 'a refund'] * 3, ['c', 'r'] * 3)\n"
        "banned = [m for m in ('torch', 'transformers', 'sentence_transformers') "
        "if m in sys.modules]\n"
        "print(banned)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"


def test_text_features_stack_tfidf_and_weighted_embedding() -> None:
    texts = ["refund my money", "card never arrived", "refund please", "card is late"]
    features = StaticTextFeatures(embedding_weight=2.0).fit(texts)
    matrix = features.transform([*texts, "unseen words only"])
    width = features.vocabulary_.size
    assert matrix.shape == (5, width + 256)
    dense = matrix.toarray()
    np.testing.assert_allclose(np.linalg.norm(dense[:4, :width], axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(dense[:, width:], axis=1), 2.0, rtol=1e-5)
    assert not dense[4, :width].any()  # nothing seen in fit: no TF-IDF, only the embedding
    sparse_only = StaticTextFeatures(embedding_weight=0.0).fit(texts).transform(texts)
    assert sparse_only.shape == (4, width)


def test_text_features_check_fit_and_params() -> None:
    with pytest.raises(NotFittedError):
        StaticTextFeatures().transform(["x"])
    with pytest.raises(ConfigError, match="embedding_weight"):
        StaticTextFeatures(embedding_weight=-1.0).fit(["x"])
