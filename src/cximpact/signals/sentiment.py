"""Sentiment with intensity: VADER's valence lexicon plus customer-service cues, vectorised.

:class:`LexiconSentiment` scores every text of a batch at once. Its base is the valence
lexicon of VADER (Hutto & Gilbert, *VADER: A Parsimonious Rule-based Model for Sentiment
Analysis of Social Media Text*, ICWSM 2014; the ``vaderSentiment`` package, MIT licence) and
VADER's rules, re-implemented on whole token arrays instead of one Python loop per text:

- a word's valence (-4 .. +4) counts with its sign; a negator up to three tokens before it
  multiplies it by -0.74 (unless "so" / "this" follows the negator: "never so disappointed");
- a booster ("very", "extremely"; dampeners "slightly", "kinda") up to three tokens before it
  adds +-0.293 (x0.95, x0.9 further away) in the word's direction; a word or booster in
  capitals in a text that is not all capitals adds 0.733;
- after "but" words count 1.5 times, before it half;
- each "!" (up to four) adds 0.292 in the direction of the sum.

Customer-service texts say much of what they feel without sentiment words ("on hold for two
hours", "still no refund", "nobody answered"), and say polite things that lexicons take for
praise ("please help"). So the taxonomy's ``sentiment`` section adds:

- ``positive`` / ``strong_positive`` / ``negative`` / ``strong_negative``: words count at
  least +-1.5 / +-3.0 in the list's direction (VADER's valence when it is stronger; the list
  wins when VADER disagrees, as for "joke"); phrases and ``*`` words VADER lacks likewise;
- ``neutral``: words whose VADER valence is misleading in service talk ("help", "please",
  "care", "credit") count 0;
- ``complaint`` (-1.5 each): waiting, delays, "still no", lost, damaged, cancelled, refund not
  received ...; ``praise`` (+1.5 each): thanks, kudos; ``sarcasm`` (-3.0 each, after a
  positive word has counted): "thanks for nothing", "yeah right";
- ``request``: questions and requests ("can you", "how do I", a "?") with no complaint cue are
  pulled towards neutral (their score is multiplied by :data:`REQUEST_DAMPING`).

The sum ``x`` is squashed like VADER's compound score, ``x / sqrt(x**2 + 15)``, into (-1, 1).
``sentiment_intensity`` is the same squash of the *absolute* valences (how much feeling the
text carries, whatever its direction: a mixed text is neutral but intense).

Calibration (stated, not hidden): the label thresholds, the cue weights and the request
damping were set by hand on a development split (30 %, ``numpy.random.default_rng(20261129)``
permutation) of the airline tweets in ``benchmarks/bench_sentiment.py``; the benchmark reports
the other 70 %. No weight is learned from that data and the cue lists are generic
customer-service language (no airline words).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Final, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cximpact.errors import ConfigError, ContractError, NotFittedError
from cximpact.signals._arrow import arrow_strings, contains_match, count_matches

if TYPE_CHECKING:
    from cximpact.signals.keywords import SentimentLexicon, Taxonomy

__all__ = [
    "NEGATIVE_THRESHOLD",
    "POSITIVE_THRESHOLD",
    "REQUEST_DAMPING",
    "SENTIMENT_LABELS",
    "LexiconSentiment",
    "arrow_strings",
    "sentiment_labels",
]

SENTIMENT_LABELS: Final[tuple[str, ...]] = ("negative", "neutral", "positive")

#: Compound score at or below which a text is negative (set on the dev split, see module doc).
NEGATIVE_THRESHOLD: Final = -0.05
#: Compound score at or above which a text is positive (set on the dev split).
POSITIVE_THRESHOLD: Final = 0.5
#: Factor on the score of a question or request that carries no complaint cue.
REQUEST_DAMPING: Final = 0.5
#: Valence of one positive or negative emoji (VADER scale).
_EMOJI_WEIGHT: Final = 1.5
_POSITIVE_EMOJI: Final = (
    "[\U0001f600-\U0001f60e\U0001f642\U0001f917\U0001f970\U0001f60d\u2764\u263a"
    "\U0001f495-\U0001f49d\U0001f44d\U0001f44f\U0001f64c\U0001f389\U0001f38a"
    "\U0001f60a\U0001f618\u2665\U0001f499]"
)
_NEGATIVE_EMOJI: Final = (
    "[\U0001f612\U0001f614-\U0001f616\U0001f61e-\U0001f62b\U0001f62d\U0001f630"
    "\U0001f44e\U0001f4a9\U0001f620\U0001f621\U0001f624\U0001f92c\U0001f644"
    "\U0001f611\U0001f610\U0001f615\U0001f641\u2639]"
)

# VADER's empirical constants (Hutto & Gilbert 2014, vaderSentiment 3.3.2).
_BOOST: Final = 0.293
_CAPS_BOOST: Final = 0.733
_NEGATION_SCALAR: Final = -0.74
_NEVER_SO_SCALAR: Final = 1.25
_EXCLAMATION_BOOST: Final = 0.292
_MAX_EXCLAMATIONS: Final = 4
_BUT_BEFORE: Final = 0.5
_BUT_AFTER: Final = 1.5
_ALPHA: Final = 15.0
_WINDOW: Final = 3
_DISTANCE_SCALE: Final = (1.0, 0.95, 0.9)

# Weights of the taxonomy's lists (VADER valence scale, -4 .. +4).
_WORD_WEIGHT: Final = 1.5
_STRONG_WEIGHT: Final = 3.0
_COMPLAINT_WEIGHT: Final = -2.0
_PRAISE_WEIGHT: Final = 1.5
_SARCASM_WEIGHT: Final = -3.0

_TOKEN_SPLIT: Final = r"[^A-Za-z0-9'_]+"
_NEGATOR_EXTRA: Final = frozenset({"no", "dont", "didnt", "doesnt", "wont", "cant", "isnt"})
_NEVER_SO: Final = frozenset({"so", "this"})

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@lru_cache(maxsize=1)
def _vader() -> tuple[dict[str, float], frozenset[str], dict[str, float]]:
    """VADER's word valences, negators and boosters (single words), read once."""
    try:
        from vaderSentiment import vaderSentiment as vader
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ConfigError(
            "the sentiment signal needs the vaderSentiment package; "
            "install it with `pip install vaderSentiment==3.3.2`"
        ) from exc
    text = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text("utf-8")
    lexicon: dict[str, float] = {}
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) >= 2:
            lexicon[fields[0]] = float(fields[1])
    negators = frozenset(vader.NEGATE) | _NEGATOR_EXTRA
    boosters = {w: float(v) for w, v in vader.BOOSTER_DICT.items() if " " not in w}
    return lexicon, negators, boosters


def _domain_words(
    lists: SentimentLexicon, lexicon: dict[str, float]
) -> tuple[dict[str, float], list[tuple[re.Pattern[str], float]], list[tuple[str, float]]]:
    """VADER's valences extended by the taxonomy's word lists.

    Returns the token table, the ``*`` words (tried on tokens VADER lacks) and the phrases
    (regexes counted on the text), each with its valence.
    """
    from cximpact.signals.keywords import _alternation

    valences = dict(lexicon)
    wildcards: list[tuple[re.Pattern[str], float]] = []
    cues: list[tuple[str, float]] = []
    for words, weight in (
        (lists.positive, _WORD_WEIGHT),
        (lists.strong_positive, _STRONG_WEIGHT),
        (lists.negative, -_WORD_WEIGHT),
        (lists.strong_negative, -_STRONG_WEIGHT),
    ):
        for word in words:
            if _is_plain_word(word):
                valences[word] = _at_least(weight, lexicon.get(word, 0.0))
            elif " " not in word and "-" not in word and word.rstrip("*").isalnum():
                body = re.escape(word).replace(r"\*", r"[a-z0-9']*")
                wildcards.append((re.compile(body), weight))
            else:
                cues.append((_alternation((word,)), weight))
    for word in lists.neutral:
        valences[word] = 0.0
    return valences, wildcards, cues


def _at_least(weight: float, vader: float) -> float:
    """The taxonomy's weight, or VADER's valence when it points the same way and is stronger."""
    return vader if vader * weight > 0 and abs(vader) > abs(weight) else weight


def _is_plain_word(phrase: str) -> bool:
    """A single token of letters, digits and apostrophes (looked up in the token table)."""
    return re.fullmatch(r"[a-z0-9']+", phrase) is not None


def sentiment_labels(
    score: FloatArray,
    negative_threshold: float = NEGATIVE_THRESHOLD,
    positive_threshold: float = POSITIVE_THRESHOLD,
) -> npt.NDArray[np.object_]:
    """negative / neutral / positive for each compound score.

    Parameters
    ----------
    score : numpy.ndarray
        Compound scores in [-1, 1].
    negative_threshold, positive_threshold : float
        At or below the first a text is negative; at or above the second, positive.

    Returns
    -------
    numpy.ndarray of str
        One label per score.
    """
    labels = np.full(score.shape, "neutral", dtype=object)
    labels[score >= positive_threshold] = "positive"
    labels[score <= negative_threshold] = "negative"
    return labels


class LexiconSentiment:
    """Sentiment score, label and intensity per text (rules, nothing learned).

    Parameters
    ----------
    taxonomy : cximpact.signals.keywords.Taxonomy or None, optional
        Supplies the ``sentiment`` lists (domain words, cues) and the negators; ``None``
        uses the built-in taxonomy.
    negative_threshold, positive_threshold : float, optional
        Label thresholds on the compound score (defaults: :data:`NEGATIVE_THRESHOLD`,
        :data:`POSITIVE_THRESHOLD`).

    Attributes
    ----------
    valences_ : dict of str to float
        Token valences: VADER's lexicon, extended and neutralised by the taxonomy.
    wildcard_valences_ : list of (re.Pattern, float)
        Taxonomy words with ``*``, tried on tokens VADER does not know.
    wildcard_any_ : re.Pattern or None
        Any of those words (one quick test before trying each).
    negators_ : frozenset of str
        Tokens that negate the next three.
    boosters_ : dict of str to float
        Degree words and their increment.
    cue_patterns_ : list of (str, float)
        Phrase regexes (taxonomy syntax) and the valence each match adds.
    complaint_pattern_, request_pattern_ : str or None
        Regexes of the complaint and request cues.

    Examples
    --------
    >>> import pandas as pd
    >>> scorer = LexiconSentiment().fit()
    >>> out = scorer.transform(pd.Series(["Thanks, great help!", "On hold for 2 hours again"]))
    >>> list(out["sentiment_label"])
    ['positive', 'negative']
    """

    valences_: dict[str, float]
    wildcard_valences_: list[tuple[re.Pattern[str], float]]
    wildcard_any_: re.Pattern[str] | None
    negators_: frozenset[str]
    boosters_: dict[str, float]
    cue_patterns_: list[tuple[str, float]]
    complaint_pattern_: str | None
    request_pattern_: str | None

    def __init__(
        self,
        taxonomy: Taxonomy | None = None,
        *,
        negative_threshold: float = NEGATIVE_THRESHOLD,
        positive_threshold: float = POSITIVE_THRESHOLD,
    ) -> None:
        self.taxonomy = taxonomy
        self.negative_threshold = negative_threshold
        self.positive_threshold = positive_threshold

    # -- fitting -------------------------------------------------------------------------

    def fit(self, texts: pd.Series | None = None, y: Any = None) -> Self:
        """Build the token table and cue regexes; ``texts`` and ``y`` are ignored.

        Parameters
        ----------
        texts : pandas.Series or None, optional
            Ignored (nothing is learned).
        y : object, optional
            Ignored.

        Returns
        -------
        LexiconSentiment
            ``self``, fitted.

        Raises
        ------
        ConfigError
            The thresholds are not ordered ``-1 <= negative < positive <= 1``.
        """
        from cximpact.signals.keywords import _alternation, load_taxonomy

        if not -1.0 <= self.negative_threshold < self.positive_threshold <= 1.0:
            raise ConfigError(
                f"sentiment thresholds must satisfy -1 <= negative < positive <= 1, got "
                f"negative={self.negative_threshold}, positive={self.positive_threshold}"
            )
        taxonomy = self.taxonomy if self.taxonomy is not None else load_taxonomy()
        lexicon, negators, boosters = _vader()
        lists = taxonomy.sentiment
        valences, wildcards, cues = _domain_words(lists, lexicon)
        for phrases, weight in (
            (lists.complaint, _COMPLAINT_WEIGHT),
            (lists.praise, _PRAISE_WEIGHT),
            (lists.sarcasm, _SARCASM_WEIGHT),
        ):
            if phrases:
                cues.append((_alternation(phrases), weight))
        self.valences_ = valences
        self.wildcard_valences_ = wildcards
        self.wildcard_any_ = (
            re.compile("|".join(f"(?:{p.pattern})$" for p, _ in wildcards)) if wildcards else None
        )
        plain_negators = [n for n in taxonomy.negators if _is_plain_word(n)]
        self.negators_ = negators | frozenset(plain_negators)
        self.boosters_ = dict(boosters) | {
            w: _BOOST for w in lists.intensifiers if _is_plain_word(w)
        }
        self.cue_patterns_ = cues
        self.complaint_pattern_ = _alternation(lists.complaint) if lists.complaint else None
        self.request_pattern_ = _alternation(lists.request) if lists.request else None
        return self

    # -- scoring -------------------------------------------------------------------------

    def transform(self, texts: pd.Series) -> pd.DataFrame:
        """Score, label and intensity for each text.

        Parameters
        ----------
        texts : pandas.Series
            Texts; missing values count as empty texts.

        Returns
        -------
        pandas.DataFrame
            Indexed like ``texts``: ``sentiment`` (compound score in (-1, 1)),
            ``sentiment_label`` (negative / neutral / positive) and ``sentiment_intensity``
            (in [0, 1): how much feeling, whatever its direction).

        Raises
        ------
        NotFittedError
            :meth:`fit` was not called.
        ContractError
            ``texts`` is not a pandas Series.
        """
        from cximpact.signals.keywords import _normalise

        self._check(texts)
        original, lower = _normalise(texts)
        score, intensity = self.score_normalised(original, lower, texts)
        return pd.DataFrame(
            {
                "sentiment": score,
                "sentiment_label": pd.array(self.labels(score), dtype="str"),
                "sentiment_intensity": intensity,
            },
            index=texts.index,
        )

    def predict(self, texts: pd.Series) -> npt.NDArray[np.object_]:
        """The label of each text (negative / neutral / positive).

        Parameters
        ----------
        texts : pandas.Series
            Texts.

        Returns
        -------
        numpy.ndarray of str
            Labels in the order of ``texts``.
        """
        return np.asarray(self.transform(texts)["sentiment_label"].to_numpy(dtype=object))

    def labels(self, score: FloatArray) -> npt.NDArray[np.object_]:
        """Labels of compound scores with this scorer's thresholds.

        Parameters
        ----------
        score : numpy.ndarray
            Compound scores.

        Returns
        -------
        numpy.ndarray of str
            negative / neutral / positive.
        """
        return sentiment_labels(score, self.negative_threshold, self.positive_threshold)

    def score_normalised(
        self, original: pd.Series, lower: pd.Series, raw: pd.Series | None = None
    ) -> tuple[FloatArray, FloatArray]:
        """Compound score and intensity of texts already normalised to single-spaced ASCII.

        Parameters
        ----------
        original, lower : pandas.Series
            The texts as written and lower-cased (see ``keywords._normalise``).
        raw : pandas.Series or None, optional
            The texts before normalisation, to read emoji from (none are read when omitted).

        Returns
        -------
        tuple of numpy.ndarray
            ``(score, intensity)``, one float per text.
        """
        if not hasattr(self, "valences_"):
            raise NotFittedError("LexiconSentiment is not fitted; call fit() before transform()")
        n = len(original)
        if n == 0:
            return np.zeros(0), np.zeros(0)
        words, magnitude = self._word_scores(original, n)
        cue_sum, cue_magnitude = self._cue_scores(lower, n)
        emoji_sum, emoji_magnitude = _emoji_scores(raw, n)
        total = words + cue_sum + emoji_sum
        magnitude = magnitude + cue_magnitude + emoji_magnitude
        exclamations = np.minimum(count_matches(original, "!"), _MAX_EXCLAMATIONS)
        total = total + np.sign(total) * _EXCLAMATION_BOOST * exclamations
        magnitude = magnitude + _EXCLAMATION_BOOST * exclamations * (magnitude > 0)
        if self.request_pattern_ is not None:
            request = contains_match(lower, self.request_pattern_) | (
                count_matches(original, r"\?") > 0
            )
            if self.complaint_pattern_ is not None:
                request &= ~contains_match(lower, self.complaint_pattern_)
            total = np.where(request, total * REQUEST_DAMPING, total)
        score = total / np.sqrt(total**2 + _ALPHA)
        intensity = magnitude / np.sqrt(magnitude**2 + _ALPHA)
        return np.asarray(score, dtype=np.float64), np.asarray(intensity, dtype=np.float64)

    # -- parts ---------------------------------------------------------------------------

    def _check(self, texts: object) -> None:
        if not hasattr(self, "valences_"):
            raise NotFittedError("LexiconSentiment is not fitted; call fit() before transform()")
        if not isinstance(texts, pd.Series):
            raise ContractError(
                f"LexiconSentiment expects a pandas Series of texts, got "
                f"{type(texts).__name__}; wrap it with pandas.Series(...)"
            )

    def _token_tables(
        self, unique: Iterable[str]
    ) -> tuple[FloatArray, BoolArray, FloatArray, BoolArray, BoolArray]:
        """Per distinct lower-case token: valence, negator, booster, "but", never-so word."""
        valence, negator, booster, but, never_so = [], [], [], [], []
        for token in unique:
            word = token.strip("'")
            value = self.valences_.get(word)
            if value is None:
                value = 0.0
                if self.wildcard_any_ is not None and self.wildcard_any_.match(word):
                    value = next((w for p, w in self.wildcard_valences_ if p.fullmatch(word)), 0.0)
            valence.append(value)
            negator.append(word in self.negators_ or word.endswith("n't"))
            booster.append(self.boosters_.get(word, 0.0))
            but.append(word == "but")
            never_so.append(word in _NEVER_SO)
        return (
            np.asarray(valence, dtype=np.float64),
            np.asarray(negator, dtype=bool),
            np.asarray(booster, dtype=np.float64),
            np.asarray(but, dtype=bool),
            np.asarray(never_so, dtype=bool),
        )

    def _word_scores(self, original: pd.Series, n: int) -> tuple[FloatArray, FloatArray]:
        """Sum of VADER-rule word valences per text, and sum of their absolute values."""
        split = pc.split_pattern_regex(arrow_strings(original), _TOKEN_SPLIT)
        parents = np.asarray(pc.list_parent_indices(split), dtype=np.int64)
        tokens = pc.list_flatten(split)
        keep = np.asarray(pc.not_equal(tokens, ""), dtype=bool)
        tokens = tokens.filter(pa.array(keep))
        parents = parents[keep]
        if len(tokens) == 0:
            return np.zeros(n), np.zeros(n)
        encoded = pc.dictionary_encode(pc.utf8_lower(tokens))
        codes = np.asarray(encoded.indices, dtype=np.int64)
        valences, negators, boosters, buts, never_sos = self._token_tables(
            encoded.dictionary.to_pylist()
        )
        valence, negator, booster = valences[codes], negators[codes], boosters[codes]
        but, never_so = buts[codes], never_sos[codes]
        caps = np.asarray(pc.utf8_is_upper(tokens), dtype=bool) & (
            np.asarray(pc.utf8_length(tokens), dtype=np.int64) > 1
        )
        valence = self._apply_rules(valence, negator, booster, never_so, caps, parents, n)
        valence = _but_weights(but, parents, n) * valence
        words = np.bincount(parents, weights=valence, minlength=n).astype(np.float64)
        magnitude = np.bincount(parents, weights=np.abs(valence), minlength=n).astype(np.float64)
        return words, magnitude

    @staticmethod
    def _apply_rules(
        valence: FloatArray,
        negator: BoolArray,
        booster: FloatArray,
        never_so: BoolArray,
        caps: BoolArray,
        parents: npt.NDArray[np.int64],
        n: int,
    ) -> FloatArray:
        """Boosters, capitals and negation in the three tokens before each sentiment word."""
        sign = np.sign(valence)
        out = valence.copy()
        caps_count = np.bincount(parents, weights=caps, minlength=n)
        token_count = np.bincount(parents, minlength=n)
        differential = (caps_count > 0) & (caps_count < token_count)
        shouted = caps & differential[parents]
        out += sign * _CAPS_BOOST * shouted
        booster = booster + np.sign(booster) * _CAPS_BOOST * shouted  # "VERY good"
        size = len(valence)
        negated = np.zeros(size, dtype=bool)
        softened = np.zeros(size, dtype=bool)
        so_between = np.zeros(size, dtype=bool)  # "so" / "this" between negator and word
        for k in range(1, _WINDOW + 1):
            same = np.zeros(size, dtype=bool)
            same[k:] = parents[k:] == parents[:-k]
            before_booster = np.zeros(size)
            before_booster[k:] = booster[:-k]
            out += sign * _DISTANCE_SCALE[k - 1] * before_booster * same
            before_negator = np.zeros(size, dtype=bool)
            before_negator[k:] = negator[:-k]
            hit = before_negator & same
            softened |= hit & so_between
            negated |= hit & ~so_between
            previous_so = np.zeros(size, dtype=bool)
            previous_so[k:] = never_so[:-k]
            so_between |= previous_so
        out = np.where(negated, out * _NEGATION_SCALAR, out)
        out = np.where(softened & ~negated, out * _NEVER_SO_SCALAR, out)
        return np.asarray(out, dtype=np.float64)

    def _cue_scores(self, lower: pd.Series, n: int) -> tuple[FloatArray, FloatArray]:
        """Sum of phrase-cue valences per text, and of their absolute values."""
        total = np.zeros(n)
        magnitude = np.zeros(n)
        for pattern, weight in self.cue_patterns_:
            hits = count_matches(lower, pattern)
            total += weight * hits
            magnitude += abs(weight) * hits
        return total, magnitude


def _emoji_scores(raw: pd.Series | None, n: int) -> tuple[FloatArray, FloatArray]:
    """Net and absolute valence of the positive and negative emoji in each raw text."""
    if raw is None:
        return np.zeros(n), np.zeros(n)
    positive = count_matches(raw, _POSITIVE_EMOJI)
    negative = count_matches(raw, _NEGATIVE_EMOJI)
    return _EMOJI_WEIGHT * (positive - negative), _EMOJI_WEIGHT * (positive + negative)


def _but_weights(but: BoolArray, parents: npt.NDArray[np.int64], n: int) -> FloatArray:
    """0.5 before the first "but" of a text, 1.5 after it, 1 in texts without one."""
    cumulative = np.cumsum(but)
    starts = np.searchsorted(parents, np.arange(n))
    base = np.concatenate(([0], cumulative))[starts]
    seen: npt.NDArray[np.int64] = cumulative - base[parents]  # "but"s up to this token
    has_but = np.bincount(parents, weights=but, minlength=n) > 0
    weights = np.ones(len(but))
    weights[has_but[parents] & (seen == 0)] = _BUT_BEFORE
    weights[(seen > 0) & ~but] = _BUT_AFTER
    return weights
