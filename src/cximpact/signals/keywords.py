"""Keyword signals: root cause, sentiment, competitors, escalation and churn language.

The first, rule-based version of the signals stage. A :class:`Taxonomy` (read from YAML by
:func:`load_taxonomy`) lists keywords per root-cause topic, competitor names with aliases,
escalation and churn phrases, negators and the sentiment lists. :class:`KeywordSignals` turns
those lists into one alternation regex each and scores whole columns of texts on pyarrow's RE2
engine (:mod:`cximpact.signals._arrow`: count, match, replace; on object columns pandas would
call Python's :mod:`re` once per row, about seven times slower). Sentiment is
:class:`~cximpact.signals.sentiment.LexiconSentiment`.

Every pattern uses only syntax that RE2 and Python's :mod:`re` share (no look-arounds), and
texts are normalised to ASCII with single spaces first, so ``\\b`` and ``\\w`` mean the same
on both engines.

Keyword syntax ("regex-light")
------------------------------
- matching ignores case and happens on word boundaries;
- ``*`` inside or at the end of a word stands for any word characters (``refund*``);
- ``*`` as a whole word inside a phrase stands for exactly one word (``switch* to the * plan``);
- an apostrophe is optional (``don't`` also matches "dont");
- a hyphen matches a hyphen, a space or nothing (``log-in`` matches "login");
- every other character is literal (``at&t``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow.compute as pc
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from cximpact.errors import ConfigError, ContractError, NotFittedError
from cximpact.signals._arrow import (
    arrow_strings,
    contains_match,
    count_matches,
    first_match,
    replace_matches,
)
from cximpact.signals.sentiment import LexiconSentiment

__all__ = [
    "OTHER",
    "SIGNAL_COLUMNS",
    "Competitor",
    "KeywordSignals",
    "PhraseSet",
    "SentimentLexicon",
    "Taxonomy",
    "Topic",
    "keyword_regex",
    "load_taxonomy",
]

OTHER = "other"
"""Root cause given to a text that matches no topic."""

SIGNAL_COLUMNS: tuple[str, ...] = (
    "root_cause",
    "root_cause_confidence",
    "secondary_root_cause",
    "sentiment",
    "sentiment_label",
    "competitors",
    "escalation",
    "churn_language",
    "sentiment_intensity",
    "escalation_phrase",
    "churn_phrase",
)
"""Columns of :meth:`KeywordSignals.transform`, in order."""

_TOPIC_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_REGEX_META = frozenset(".^$+?{}[]\\|()")
_MAX_NEGATION_WINDOW = 10


# --------------------------------------------------------------------------------------------
# Taxonomy model
# --------------------------------------------------------------------------------------------


def _clean_phrases(values: tuple[str, ...]) -> tuple[str, ...]:
    """Strip, lower-case and de-duplicate phrases (keeping order); reject blank or bare ``*``.

    Parameters
    ----------
    values : tuple of str
        Phrases as written in the taxonomy file.

    Returns
    -------
    tuple of str
        Cleaned phrases.
    """
    cleaned: dict[str, None] = {}
    for value in values:
        phrase = " ".join(value.split()).lower()
        if not phrase:
            raise ValueError("a keyword or phrase is blank")
        if all(token == "*" for token in phrase.split(" ")):
            raise ValueError(f"keyword {value!r} would match any word; add literal letters")
        cleaned[phrase] = None
    return tuple(cleaned)


Phrases = Annotated[tuple[str, ...], AfterValidator(_clean_phrases)]
"""A list of keywords or phrases: stripped, lower-cased, de-duplicated."""


class _Frozen(BaseModel):
    """Base of the taxonomy models: immutable, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Topic(_Frozen):
    """One root-cause topic: what it means and the keywords that signal it."""

    description: str = Field(min_length=1)
    harmful_candidate: bool
    keywords: Annotated[Phrases, Field(min_length=1)]


class Competitor(_Frozen):
    """A competitor: the canonical name reported and the aliases that mention it."""

    name: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()

    @field_validator("name")
    @classmethod
    def _no_comma(cls, value: str) -> str:
        if "," in value:
            raise ValueError(f"competitor name {value!r} contains a comma (used as separator)")
        return value.strip()

    @property
    def patterns(self) -> tuple[str, ...]:
        """What to match: the aliases, or the name itself when no alias is listed.

        The name is not matched on its own when aliases exist, so a brand that is also an
        everyday word ("Chase") can be matched only in safe forms ("chase bank").
        """
        return _clean_phrases(self.aliases or (self.name,))


class PhraseSet(_Frozen):
    """Phrases that raise a flag, and longer phrases that look alike but must not.

    ``competitor_lead_ins`` raise the flag only when a competitor's alias follows them
    ("switching to" + "verizon"), so "switch to wifi calling" does not.
    """

    phrases: Annotated[Phrases, Field(min_length=1)]
    exclusions: Phrases = ()
    competitor_lead_ins: Phrases = ()


class SentimentLexicon(_Frozen):
    """Domain additions to VADER's lexicon and customer-service cues.

    See :mod:`cximpact.signals.sentiment` for how each list counts.
    """

    positive: Annotated[Phrases, Field(min_length=1)]
    strong_positive: Phrases = ()
    negative: Annotated[Phrases, Field(min_length=1)]
    strong_negative: Phrases = ()
    intensifiers: Phrases = ()
    neutral: Phrases = ()
    complaint: Phrases = ()
    praise: Phrases = ()
    sarcasm: Phrases = ()
    request: Phrases = ()


class Taxonomy(_Frozen):
    """Everything the keyword signals need: topics, competitors, phrases and lexicons."""

    version: int = 1
    topics: dict[str, Topic] = Field(min_length=1)
    competitors: tuple[Competitor, ...] = ()
    escalation: PhraseSet
    churn: PhraseSet
    negators: Annotated[Phrases, Field(min_length=1)]
    negation_window: int = Field(6, ge=0, le=_MAX_NEGATION_WINDOW)
    negation_scope_words: Phrases = ()
    sentiment: SentimentLexicon

    @field_validator("topics")
    @classmethod
    def _topic_ids(cls, topics: dict[str, Topic]) -> dict[str, Topic]:
        for topic_id in topics:
            if topic_id == OTHER:
                raise ValueError(f"topic id {OTHER!r} is reserved for texts that match nothing")
            if not _TOPIC_ID.match(topic_id):
                raise ValueError(
                    f"topic id {topic_id!r} must be snake_case (lower-case letters, digits, _)"
                )
        return topics

    @model_validator(mode="after")
    def _unique_competitors(self) -> Self:
        names = [competitor.name for competitor in self.competitors]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"competitor names listed twice: {duplicates}")
        return self

    @property
    def topic_ids(self) -> tuple[str, ...]:
        """Topic ids in file order (the tie-break order)."""
        return tuple(self.topics)

    @property
    def harmful_topics(self) -> tuple[str, ...]:
        """Ids of the topics marked as harmful candidates."""
        return tuple(t for t, topic in self.topics.items() if topic.harmful_candidate)


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML loader that refuses a mapping with the same key twice."""


def _construct_unique_mapping(
    loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, str | int | float | bool) and key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} appears twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_unique_mapping,
)


def _read_text(path: Path | None) -> tuple[str, str]:
    """Return ``(text, source name)`` of the taxonomy file, or of the built-in one."""
    if path is None:
        resource = resources.files("cximpact").joinpath("data", "taxonomy.yaml")
        return resource.read_text(encoding="utf-8"), "cximpact/data/taxonomy.yaml (built-in)"
    source = str(path)
    if not path.is_file():
        raise ConfigError(f"taxonomy file {source} not found (or not a file); check the path")
    try:
        return path.read_text(encoding="utf-8"), source
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"taxonomy file {source} could not be read as UTF-8 text: {exc}") from exc


def _format_validation_error(exc: ValidationError) -> str:
    """One line per pydantic error: ``location: message``."""
    lines = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error["loc"]) or "(top level)"
        hint = ""
        if isinstance(error.get("input"), bool):
            hint = " (YAML reads unquoted yes/no/on/off as booleans; quote the word)"
        lines.append(f"  - {location}: {error['msg']}{hint}")
    return "\n".join(lines)


def _parse_taxonomy(text: str, source: str) -> Taxonomy:
    """Parse and validate taxonomy YAML text; every failure becomes a :class:`ConfigError`."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ConfigError(f"taxonomy file {source} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(
            f"taxonomy file {source} must be a YAML mapping with keys topics, competitors, "
            f"escalation, churn, negators and sentiment; found {type(data).__name__}"
        )
    try:
        return Taxonomy.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            f"taxonomy file {source} is invalid:\n{_format_validation_error(exc)}\n"
            "Fix these entries (see the built-in cximpact/data/taxonomy.yaml for the layout)."
        ) from exc


@lru_cache(maxsize=1)
def _builtin_taxonomy() -> Taxonomy:
    text, source = _read_text(None)
    return _parse_taxonomy(text, source)


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Read and validate a taxonomy YAML file.

    Parameters
    ----------
    path : pathlib.Path or None, optional
        The file to read. ``None`` (default) reads the built-in ``cximpact/data/taxonomy.yaml``.

    Returns
    -------
    Taxonomy
        The validated, immutable taxonomy.

    Raises
    ------
    ConfigError
        The file is missing, unreadable, not YAML, repeats a key, or breaks the layout (the
        message lists every offending entry).
    """
    if path is None:
        return _builtin_taxonomy()
    text, source = _read_text(Path(path))
    return _parse_taxonomy(text, source)


# --------------------------------------------------------------------------------------------
# Keyword -> regex
# --------------------------------------------------------------------------------------------


def _token_regex(token: str) -> str:
    """Regex for one whitespace-free token of the keyword syntax."""
    if token == "*":
        return r"\w+"
    parts = []
    for char in token:
        if char == "*":
            parts.append(r"\w*")
        elif char == "'":
            parts.append("'?")
        elif char == "-":
            parts.append("[ -]?")
        elif char in _REGEX_META:
            parts.append("\\" + char)
        else:
            parts.append(char)
    return "".join(parts)


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def keyword_regex(keyword: str) -> str:
    """Translate one keyword of the regex-light syntax into a regex.

    Parameters
    ----------
    keyword : str
        A lower-case keyword or phrase, e.g. ``"refund*"`` or ``"charged twice"``.

    Returns
    -------
    str
        A regex valid for both RE2 and Python's :mod:`re`, matching on word boundaries in
        lower-cased text whose whitespace is collapsed to single spaces.

    Examples
    --------
    >>> keyword_regex("refund*")
    '\\\\brefund\\\\w*'
    >>> keyword_regex("log-in")
    '\\\\blog[ -]?in\\\\b'
    """
    tokens = keyword.lower().split()
    body = " ".join(_token_regex(token) for token in tokens)
    start = r"\b" if _is_word_char(keyword[0]) or keyword[0] == "*" else ""
    end = r"\b" if _is_word_char(keyword[-1]) else ""
    return f"{start}{body}{end}"


def _alternation(keywords: tuple[str, ...] | list[str]) -> str:
    """One non-capturing alternation of keywords, longest first (fewer backtracks)."""
    ordered = sorted(dict.fromkeys(keywords), key=lambda k: (-len(k), k))
    return "(?:" + "|".join(keyword_regex(k) for k in ordered) + ")"


_CHAIN_WORDS = r"(?:(?:or|nor|and|to|a|an|the|my|your|any)\b )?"


def _negated(negators: str, scope: str, window: int, target: str) -> str:
    """Regex for a negator, up to ``window`` scope words, then one or more target phrases.

    Phrases that follow the first one directly (optionally joined by "or", "to", "my"...)
    fall under the same negation: "won't be switching to another provider" is one match.
    """
    middle = f"(?: {scope}){{0,{window}}}" if window and scope else ""
    return f"{negators}{middle} {target}(?: {_CHAIN_WORDS}{target})*"


def _compile(pattern: str) -> re.Pattern[str]:
    """Compile a generated pattern (a bug in the translation surfaces as ConfigError)."""
    try:
        return re.compile(pattern)
    except re.error as exc:  # pragma: no cover - the translation escapes everything
        raise ConfigError(f"taxonomy produced an invalid regex {pattern[:80]!r}: {exc}") from exc


# --------------------------------------------------------------------------------------------
# Text normalisation
# --------------------------------------------------------------------------------------------

_APOSTROPHES = "[\u2018\u2019\u201b\u00b4`]"
_QUOTES = "[\u201c\u201d\u201e]"
_DASHES = "[\u2010\u2011\u2012\u2013\u2014]"
_NON_ASCII = "[^\\x00-\\x7f]"
_WHITESPACE = "[ \\t\\r\\n\\f\\v]+"


def _normalise(texts: pd.Series) -> tuple[pd.Series, pd.Series]:
    """ASCII text with single spaces, as written and lower-cased.

    Parameters
    ----------
    texts : pandas.Series
        Raw texts (missing values become empty strings).

    Returns
    -------
    tuple of pandas.Series
        ``(ascii_text, lower_text)`` with the input's index.
    """
    text = texts.astype(object).where(texts.notna(), "").astype(str).astype("string[pyarrow]")
    for pattern, replacement in (
        (_APOSTROPHES, "'"),
        (_QUOTES, '"'),
        (_DASHES, "-"),
        (_NON_ASCII, " "),
        (_WHITESPACE, " "),
    ):
        text = replace_matches(text, pattern, replacement)
    lower = pc.utf8_lower(arrow_strings(text))
    return text, pd.Series(pd.arrays.ArrowStringArray(lower), index=text.index)


# --------------------------------------------------------------------------------------------
# KeywordSignals
# --------------------------------------------------------------------------------------------


class KeywordSignals:
    """Rule-based signals for interaction texts, driven by a :class:`Taxonomy`.

    Parameters
    ----------
    taxonomy : Taxonomy or None, optional
        Topics, competitors, phrases and lexicons; ``None`` uses :func:`load_taxonomy`'s
        built-in taxonomy.

    Attributes
    ----------
    topic_ids_ : tuple of str
        Topic ids in tie-break order (set by :meth:`fit`).
    topic_patterns_ : dict of str to re.Pattern
        One alternation regex per topic (all its keywords; for inspection).
    topic_phrase_patterns_, topic_word_patterns_ : dict of str to re.Pattern or None
        Per topic, its multi-word keywords and its single-word keywords.
    phrase_span_pattern_ : re.Pattern or None
        Every multi-word keyword of every topic: the spans single words are not counted in.
    competitor_patterns_ : dict of str to re.Pattern
        One regex per canonical competitor name (name and aliases).
    competitor_any_pattern_ : re.Pattern
        Any alias of any competitor (a cheap first pass).
    escalation_pattern_, escalation_negated_pattern_, escalation_exclusion_pattern_ : re.Pattern
        Escalation phrases; a negator before one; look-alike phrases that do not count.
    churn_pattern_, churn_negated_pattern_, churn_exclusion_pattern_ : re.Pattern
        The same for churn language.
    sentiment_ : cximpact.signals.sentiment.LexiconSentiment
        The fitted sentiment scorer (VADER lexicon, the taxonomy's domain words and cues).

    Notes
    -----
    Root cause: each topic scores the number of its keyword hits (a single word inside any
    topic's multi-word keyword does not count again); the best topic wins (ties go
    to the topic listed first), ``other`` when no keyword hits. ``root_cause_confidence`` is
    the winner's share of all hits times ``1 - 0.5 ** hits`` (one hit is weak evidence), so it
    lies in [0, 1) and is 0 for ``other``. ``secondary_root_cause`` is the runner-up topic
    when it has at least one hit.

    Sentiment: :class:`~cximpact.signals.sentiment.LexiconSentiment` (VADER's valence
    lexicon and rules with the taxonomy's customer-service cues); a compound score in (-1, 1),
    a label and an intensity in [0, 1).

    Escalation and churn: look-alike exclusions ("cancel my order", "account manager") and
    negated phrases ("I do not want to cancel") are blanked out first; a flag is raised when a
    phrase remains, and ``escalation_phrase`` / ``churn_phrase`` show the first phrase that
    remained (what a reviewer reads to see why).

    Examples
    --------
    >>> import pandas as pd
    >>> signals = KeywordSignals().fit()
    >>> out = signals.transform(pd.Series(["I was charged twice! I want to cancel."]))
    >>> out.loc[0, "root_cause"], bool(out.loc[0, "churn_language"])
    ('billing_error', True)
    """

    topic_ids_: tuple[str, ...]
    topic_patterns_: dict[str, re.Pattern[str]]
    topic_phrase_patterns_: dict[str, re.Pattern[str] | None]
    topic_word_patterns_: dict[str, re.Pattern[str] | None]
    phrase_span_pattern_: re.Pattern[str] | None
    competitor_patterns_: dict[str, re.Pattern[str]]
    competitor_any_pattern_: re.Pattern[str]
    escalation_pattern_: re.Pattern[str]
    escalation_negated_pattern_: re.Pattern[str]
    escalation_exclusion_pattern_: re.Pattern[str] | None
    churn_pattern_: re.Pattern[str]
    churn_negated_pattern_: re.Pattern[str]
    churn_exclusion_pattern_: re.Pattern[str] | None
    sentiment_: LexiconSentiment

    def __init__(self, taxonomy: Taxonomy | None = None) -> None:
        self.taxonomy = taxonomy

    # -- fitting -------------------------------------------------------------------------

    def fit(self, texts: pd.Series | None = None, y: Any = None) -> Self:
        """Compile the taxonomy into regexes; the texts are not used (nothing is learned).

        Parameters
        ----------
        texts : pandas.Series or None, optional
            Ignored; accepted for scikit-learn style pipelines.
        y : object, optional
            Ignored.

        Returns
        -------
        KeywordSignals
            ``self``, fitted.
        """
        taxonomy = self.taxonomy if self.taxonomy is not None else load_taxonomy()
        self.topic_ids_ = taxonomy.topic_ids
        self.topic_patterns_ = {
            topic_id: _compile(_alternation(topic.keywords))
            for topic_id, topic in taxonomy.topics.items()
        }
        self._fit_topic_parts(taxonomy)
        self.competitor_patterns_ = {
            c.name: _compile(_alternation(c.patterns)) for c in taxonomy.competitors
        }
        self.competitor_any_pattern_ = _compile(
            "|".join(p.pattern for p in self.competitor_patterns_.values()) or "$^"
        )
        self._fit_flags(taxonomy)
        self.sentiment_ = LexiconSentiment(taxonomy).fit()
        return self

    def _fit_topic_parts(self, taxonomy: Taxonomy) -> None:
        """Split each topic's keywords into phrases (with a space) and single words."""
        self.topic_phrase_patterns_ = {}
        self.topic_word_patterns_ = {}
        for topic_id, topic in taxonomy.topics.items():
            phrases = [k for k in topic.keywords if " " in k]
            words = [k for k in topic.keywords if " " not in k]
            self.topic_phrase_patterns_[topic_id] = (
                _compile(_alternation(phrases)) if phrases else None
            )
            self.topic_word_patterns_[topic_id] = _compile(_alternation(words)) if words else None
        every_phrase = [k for t in taxonomy.topics.values() for k in t.keywords if " " in k]
        self.phrase_span_pattern_ = _compile(_alternation(every_phrase)) if every_phrase else None

    def _fit_flags(self, taxonomy: Taxonomy) -> None:
        """Compile escalation and churn phrases, their negated forms and exclusions."""
        negators = _alternation(taxonomy.negators)
        scope = _alternation(taxonomy.negation_scope_words) if taxonomy.negation_scope_words else ""
        window = taxonomy.negation_window
        aliases = [alias for c in taxonomy.competitors for alias in c.patterns]
        for name, phrase_set in (("escalation", taxonomy.escalation), ("churn", taxonomy.churn)):
            phrases = _alternation(phrase_set.phrases)
            if phrase_set.competitor_lead_ins and aliases:
                # lead-ins x aliases as two alternations in a row, not their cross product
                led = f"{_alternation(phrase_set.competitor_lead_ins)} {_alternation(aliases)}"
                phrases = f"(?:{phrases}|{led})"
            exclusion = (
                _compile(_alternation(phrase_set.exclusions)) if phrase_set.exclusions else None
            )
            setattr(self, f"{name}_pattern_", _compile(phrases))
            setattr(
                self,
                f"{name}_negated_pattern_",
                _compile(_negated(negators, scope, window, phrases)),
            )
            setattr(self, f"{name}_exclusion_pattern_", exclusion)

    def fit_transform(self, texts: pd.Series, y: Any = None) -> pd.DataFrame:
        """:meth:`fit`, then :meth:`transform`.

        Parameters
        ----------
        texts : pandas.Series
            Interaction texts.
        y : object, optional
            Ignored.

        Returns
        -------
        pandas.DataFrame
            See :meth:`transform`.
        """
        return self.fit(texts, y).transform(texts)

    # -- transforming --------------------------------------------------------------------

    def transform(
        self, texts: pd.Series, *, ties: bool = False, topic_texts: bool = False
    ) -> pd.DataFrame:
        """Signals for each text.

        Parameters
        ----------
        texts : pandas.Series
            Interaction texts; missing values are treated as empty texts.
        ties : bool, optional
            Add ``root_cause_tied`` (bool): the two best topics had as many keyword hits, so
            list order chose the root cause (a learned classifier should pick between them).
        topic_texts : bool, optional
            Add ``topic_text``: :meth:`topic_texts` of each text, from the normalised text
            this call makes anyway.

        Returns
        -------
        pandas.DataFrame
            Indexed like ``texts`` with columns ``root_cause`` (str), ``root_cause_confidence``
            (float in [0, 1]), ``secondary_root_cause`` (str, "" when none), ``sentiment``
            (float in [-1, 1]), ``sentiment_label`` (negative / neutral / positive),
            ``competitors`` (comma-joined canonical names, "" when none), ``escalation``
            (bool), ``churn_language`` (bool), ``sentiment_intensity`` (float in [0, 1)),
            ``escalation_phrase`` and ``churn_phrase`` (the phrase that raised the flag, as
            written in lower case; "" when the flag is not raised).

        Raises
        ------
        NotFittedError
            :meth:`fit` was not called.
        ContractError
            ``texts`` is not a pandas Series.
        """
        if not hasattr(self, "topic_patterns_"):
            raise NotFittedError("KeywordSignals is not fitted; call fit() before transform()")
        if not isinstance(texts, pd.Series):
            raise ContractError(
                f"KeywordSignals.transform expects a pandas Series of texts, "
                f"got {type(texts).__name__}; wrap it with pandas.Series(...)"
            )
        original, lower = _normalise(texts)
        root, confidence, secondary, tied = self._root_causes(lower)
        sentiment, intensity = self.sentiment_.score_normalised(original, lower, texts)
        escalation, escalation_phrase = self._flag(
            lower,
            self.escalation_pattern_,
            self.escalation_negated_pattern_,
            self.escalation_exclusion_pattern_,
        )
        churn, churn_phrase = self._flag(
            lower, self.churn_pattern_, self.churn_negated_pattern_, self.churn_exclusion_pattern_
        )
        columns: dict[str, Any] = {
            "root_cause": pd.array(root, dtype="str"),
            "root_cause_confidence": confidence,
            "secondary_root_cause": pd.array(secondary, dtype="str"),
            "sentiment": sentiment,
            "sentiment_label": pd.array(self.sentiment_.labels(sentiment), dtype="str"),
            "competitors": pd.array(self._competitors(lower), dtype="str"),
            "escalation": escalation,
            "churn_language": churn,
            "sentiment_intensity": intensity,
            "escalation_phrase": pd.array(escalation_phrase, dtype="str"),
            "churn_phrase": pd.array(churn_phrase, dtype="str"),
        }
        if ties:
            columns["root_cause_tied"] = tied
        if topic_texts:
            columns["topic_text"] = self._without_reactions(lower).array
        return pd.DataFrame(columns, index=texts.index)

    def topic_texts(self, texts: pd.Series) -> pd.Series:
        """Texts as a root-cause classifier should read them: what went wrong, not the reaction.

        Lower-cased and normalised, with churn language, escalation requests and competitor
        names blanked out. Those words say how the customer feels about the problem, not what
        it is, and they are far more common in the texts of customers who go on to leave: a
        classifier that reads them misses more of the leavers' problems (measured on the
        simulator: 83% vs 88% root-cause accuracy), which understates exactly the issues that
        drive churn.

        Parameters
        ----------
        texts : pandas.Series
            Interaction texts; missing values are treated as empty texts.

        Returns
        -------
        pandas.Series
            pyarrow-backed strings indexed like ``texts``.
        """
        if not hasattr(self, "topic_patterns_"):
            raise NotFittedError("KeywordSignals is not fitted; call fit() before topic_texts()")
        return self._without_reactions(_normalise(texts)[1])

    def _without_reactions(self, lower: pd.Series) -> pd.Series:
        """Normalised lower-case texts with churn, escalation and competitor phrases blanked."""
        for pattern in (
            self.churn_pattern_,
            self.escalation_pattern_,
            self.competitor_any_pattern_,
        ):
            lower = replace_matches(lower, pattern.pattern, " ")
        return lower

    def _topic_hits(self, lower: pd.Series) -> npt.NDArray[np.float64]:
        """Keyword hits per text (rows) and topic (columns), longest phrase first.

        Multi-word keywords are counted on the text; single words only outside every topic's
        multi-word keywords, so "sent to the wrong address" is one late-delivery hit, not also
        an address-update hit.
        """
        outside = lower
        if self.phrase_span_pattern_ is not None:
            outside = replace_matches(lower, self.phrase_span_pattern_.pattern, " ")
        hits = np.zeros((len(lower), len(self.topic_ids_)))
        for j, topic_id in enumerate(self.topic_ids_):
            phrases = self.topic_phrase_patterns_[topic_id]
            words = self.topic_word_patterns_[topic_id]
            if phrases is not None:
                hits[:, j] += count_matches(lower, phrases.pattern)
            if words is not None:
                hits[:, j] += count_matches(outside, words.pattern)
        return hits

    def _root_causes(
        self, lower: pd.Series
    ) -> tuple[
        npt.NDArray[np.object_],
        npt.NDArray[np.float64],
        npt.NDArray[np.object_],
        npt.NDArray[np.bool_],
    ]:
        """Best topic, its confidence, the runner-up topic and whether the two tied, per text."""
        ids = np.array([*self.topic_ids_, OTHER, ""], dtype=object)
        hits = self._topic_hits(lower)
        rows = np.arange(len(lower))
        best = hits.argmax(axis=1)
        best_hits = hits[rows, best]
        total = hits.sum(axis=1)
        runner_up_hits = hits.copy()
        runner_up_hits[rows, best] = -1.0
        second = runner_up_hits.argmax(axis=1) if hits.shape[1] > 1 else best
        second_hits = runner_up_hits[rows, second] if hits.shape[1] > 1 else np.zeros(len(rows))
        no_topic = len(self.topic_ids_)
        root = ids[np.where(best_hits > 0, best, no_topic)]
        secondary = ids[np.where(second_hits > 0, second, no_topic + 1)]
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total > 0, best_hits / total, 0.0)
        confidence = share * (1.0 - 0.5**best_hits)
        tied = (best_hits > 0) & (second_hits == best_hits)
        return root, confidence, secondary, tied

    def _competitors(self, lower: pd.Series) -> npt.NDArray[np.object_]:
        """Comma-joined canonical names of the competitors each text mentions."""
        joined = np.full(len(lower), "", dtype=object)
        if not self.competitor_patterns_:
            return joined
        # One pass over every text for any alias; the per-competitor passes see only the hits.
        candidates = contains_match(lower, self.competitor_any_pattern_.pattern)
        if not candidates.any():
            return joined
        text = lower[candidates]
        names = np.full(len(text), "", dtype=object)
        for name, pattern in self.competitor_patterns_.items():
            mentioned = contains_match(text, pattern)
            if not mentioned.any():
                continue
            empty = names == ""
            names = np.where(mentioned, np.where(empty, name, names + "," + name), names).astype(
                object
            )
        joined[candidates] = names
        return joined

    @staticmethod
    def _flag(
        lower: pd.Series,
        phrases: re.Pattern[str],
        negated: re.Pattern[str],
        exclusions: re.Pattern[str] | None,
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.object_]]:
        """Whether a phrase remains once look-alikes and negated phrases are blanked out.

        Returns the flags and, per text, the first phrase that remained ("" when none).
        """
        candidates = contains_match(lower, phrases.pattern)
        found = np.full(len(lower), "", dtype=object)
        if not candidates.any():
            return candidates, found
        text = lower[candidates]  # few texts: the long negated pattern compiled once
        if exclusions is not None:
            text = replace_matches(text, exclusions, " ")
        text = replace_matches(text, negated, " ")
        first = first_match(text, phrases)
        flags = candidates.copy()
        flags[candidates] = first != ""
        found[candidates] = first
        return flags, found
