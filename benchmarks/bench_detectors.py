"""Benchmark the escalation, churn and competitor detectors against a naive substring baseline.

Run from the repository root::

    .venv/bin/python benchmarks/bench_detectors.py

Data: the hand-labelled messages of ``tests/signals/detector_corpus.py`` (no external data):

* ``corpus`` -- the main set, about half hard negatives ("cancel my order", "account
  manager", "I'm not leaving", "Atticus"); the built-in taxonomy was tuned on it, so read it
  as an acceptance set;
* ``holdout`` -- a smaller set written after tuning and never tuned on (the honest number).

Detectors, measured in the same run:

* ``cximpact`` -- :class:`cximpact.signals.keywords.KeywordSignals` with the built-in
  taxonomy: word boundaries, negation ("I do not want to cancel"), look-alike exclusions,
  competitor lead-ins ("switching to" + a competitor), aliases and misspellings;
* ``naive substring`` -- the baseline: the same taxonomy phrases and aliases (``*`` dropped)
  searched as plain lower-case substrings, no boundaries, no negation, no exclusions.

Metrics per detector: precision, recall and F1 of the flag (competitors: of each
(message, competitor) pair). Results go to ``benchmarks/results/detectors.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import pandas as pd  # noqa: E402
from tests.signals.detector_corpus import Example, examples  # noqa: E402

from cximpact.signals.keywords import KeywordSignals, Taxonomy, load_taxonomy  # noqa: E402

BASELINE = "naive substring"
DETECTORS = ("escalation", "churn", "competitors")


def naive_detect(texts: list[str], taxonomy: Taxonomy) -> list[tuple[bool, bool, set[str]]]:
    """The baseline: any taxonomy phrase or alias as a lower-case substring."""

    def plain(phrases: Sequence[str]) -> list[str]:
        return [p.replace("*", "").strip() for p in phrases if p.replace("*", "").strip()]

    escalation = plain(taxonomy.escalation.phrases)
    churn = plain(taxonomy.churn.phrases)
    aliases = {c.name: plain(c.patterns) for c in taxonomy.competitors}
    out = []
    for text in texts:
        low = text.lower()
        out.append(
            (
                any(p in low for p in escalation),
                any(p in low for p in churn),
                {name for name, forms in aliases.items() if any(f in low for f in forms)},
            )
        )
    return out


def prf(truth: list[bool], predicted: list[bool]) -> dict[str, float | int]:
    """Precision, recall, F1 and counts of a binary flag."""
    tp = sum(t and p for t, p in zip(truth, predicted, strict=True))
    fp = sum(p and not t for t, p in zip(truth, predicted, strict=True))
    fn = sum(t and not p for t, p in zip(truth, predicted, strict=True))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "positives": tp + fn,
        "false_positives": fp,
        "false_negatives": fn,
    }


def pair_flags(
    rows: list[Example], predicted: list[set[str]], names: list[str]
) -> tuple[list[bool], list[bool]]:
    """(message, competitor) pairs as flags, for competitor precision and recall."""
    truth, guess = [], []
    for row, found in zip(rows, predicted, strict=True):
        expected = set(filter(None, row.competitors.split(",")))
        for name in names:
            truth.append(name in expected)
            guess.append(name in found)
    return truth, guess


def evaluate(part: str, signals: KeywordSignals, taxonomy: Taxonomy) -> dict[str, Any]:
    """Both detectors on one part of the corpus."""
    rows = examples(part)
    texts = [r.text for r in rows]
    out = signals.transform(pd.Series(texts))
    ours = [
        (bool(e), bool(c), set(filter(None, k.split(","))))
        for e, c, k in zip(
            out["escalation"], out["churn_language"], out["competitors"], strict=True
        )
    ]
    naive = naive_detect(texts, taxonomy)
    names = [c.name for c in taxonomy.competitors]
    result: dict[str, Any] = {"messages": len(rows)}
    for system, found in (("cximpact", ours), (BASELINE, naive)):
        truth_pairs, guess_pairs = pair_flags(rows, [f[2] for f in found], names)
        result[system] = {
            "escalation": prf([r.escalation for r in rows], [f[0] for f in found]),
            "churn": prf([r.churn for r in rows], [f[1] for f in found]),
            "competitors": prf(truth_pairs, guess_pairs),
        }
    return result


def report(results: dict[str, Any]) -> None:
    """Print one table per corpus part."""
    for part in ("corpus", "holdout"):
        res = results[part]
        print(f"\n{part} ({res['messages']} messages)")
        print(
            f"{'detector':12s} {'system':16s} {'precision':>9s} {'recall':>7s} {'F1':>7s} {'ratio F1':>9s}"
        )
        for detector in DETECTORS:
            base = res[BASELINE][detector]["f1"]
            for system in ("cximpact", BASELINE):
                row = res[system][detector]
                ratio = row["f1"] / base if base else float("inf")
                print(
                    f"{detector:12s} {system:16s} {row['precision']:9.3f} {row['recall']:7.3f} "
                    f"{row['f1']:7.3f} {ratio:9.2f}"
                )


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=REPO / "benchmarks" / "results" / "detectors.json"
    )
    args = parser.parse_args(argv)
    taxonomy = load_taxonomy()
    signals = KeywordSignals(taxonomy).fit()
    results = {
        "benchmark": "detectors",
        "baseline": BASELINE,
        "corpus": evaluate("corpus", signals, taxonomy),
        "holdout": evaluate("holdout", signals, taxonomy),
    }
    print(f"Detectors vs {BASELINE} (ratio F1 = cximpact F1 / baseline F1)")
    report(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nsaved {args.out}")
    return results


if __name__ == "__main__":
    main()
