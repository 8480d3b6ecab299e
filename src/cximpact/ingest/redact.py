"""Redact personal data (PII) from free text before it is stored.

Five kinds of PII are replaced by a typed placeholder (see :data:`PLACEHOLDERS`):

========  ============  ===========================================================
type      placeholder   detected when
========  ============  ===========================================================
EMAIL     ``<EMAIL>``   ``local@domain.tld`` (Unicode letters allowed)
IBAN      ``<IBAN>``    a registered country code, check digits and BBAN of the
                        country's registered length, compact or in groups of four,
                        passing the ISO 13616 mod-97 check
SSN       ``<SSN>``     ``ddd-dd-dddd`` with a possible area (not 000, 666, 9xx),
                        group (not 00) and serial (not 0000)
CARD      ``<CARD>``    13-19 digits, optionally split by single spaces or dashes,
                        passing the Luhn check
PHONE     ``<PHONE>``   a number ``phonenumbers.PhoneNumberMatcher`` accepts with
                        leniency ``VALID`` for the given default region (numbers
                        written with ``+`` and a country code are found from any
                        region) and that has at least seven digits
========  ============  ===========================================================

Detectors run in the order of the table and each one only sees what earlier ones left,
so a card number is never half-eaten as a phone number. Detection is repeated on the
redacted text (at most three passes in all) until it finds nothing more, so redacting a
redacted text changes nothing.

Ordinary numbers are left alone: amounts (``$1,234.56``, ``49.99 EUR``), dates
(``2024-03-15``, ``03/15/2024``, ``15.03.2024``), times, percentages, years, identifiers
glued to letters (``ORD-20240315-7781``, ``1Z999AA10123456784``), ``#123456``, digit runs
that fail the Luhn or the mod-97 check, and numbers of more than 20 digits printed in
fours (USPS tracking numbers). Before the phone matcher runs, dates, times, amounts,
percentages, identifiers and card-like references are hidden from it, and what it finds is
vetted (digit grouping, a full stop or ``" / "`` inside, ``#`` suffixes).

A text that contains no ``@``, no IBAN-shaped token and no run of at least seven digits
(up to three spaces or phone punctuation characters between the digits allowed) cannot
hold any detectable PII; :func:`redact_text` returns it untouched after one cheap
regular-expression search, and :func:`redact_series` makes that check for a whole column
before it does any expensive work.

Limits: numbers written side by side with nothing but a space between them ("201 344 9957
2005") are ambiguous and are sometimes missed or cut at the wrong place; international
numbers dialled with ``00`` (instead of ``+``) are only found when the region dials
``00``; a phone number needs seven digits or more; obfuscated addresses ("jo at example
dot com") are not found.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

import pandas as pd
import phonenumbers

from cximpact.errors import ConfigError, ContractError

__all__ = [
    "PII_TYPES",
    "PLACEHOLDERS",
    "find_pii",
    "is_luhn_valid",
    "is_valid_iban",
    "redact_series",
    "redact_text",
]

PLACEHOLDERS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "EMAIL": "<EMAIL>",
        "PHONE": "<PHONE>",
        "CARD": "<CARD>",
        "IBAN": "<IBAN>",
        "SSN": "<SSN>",
    }
)
"""PII type -> the placeholder that replaces it."""

PII_TYPES: Final[tuple[str, ...]] = tuple(PLACEHOLDERS)
"""The PII types, in the order of :data:`PLACEHOLDERS`."""

# ISO 13616 registry: country code -> total IBAN length.
_IBAN_LENGTHS: Final[Mapping[str, int]] = MappingProxyType(
    {
        "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
        "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
        "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
        "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
        "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
        "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
        "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
        "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
        "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
        "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
        "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
        "YE": 30,
    }
)  # fmt: skip

_MIN_PHONE_DIGITS: Final = 7
_MASK: Final = "\u00a7"  # '§': not phone punctuation, not a letter, not a digit

# Python's ``re`` only skips ahead fast when a pattern starts with a character class, so the
# scanning patterns below consume a first character and look behind it instead of starting
# with a look-behind.

# Digits separated by at most three phone-punctuation characters (no commas: amounts).
_SEP: Final = (
    r"[\s\-\u2010-\u2015\u2212\u30fc\uff0d/\uff0f.()\uff08\uff09\[\]\uff3b\uff3d"
    r"~\u2053\u223c\uff5e]"
)
_RUN7_REST: Final = rf"(?:{_SEP}{{0,3}}\d){{{_MIN_PHONE_DIGITS - 1}}}"
# '@', the start of an IBAN ("DE89 3704") or seven digits: a necessary condition for any PII.
_PREFILTER_PATTERN: Final = (
    rf"[@\d](?:(?<=@)|(?<=[A-Za-z]{{2}}\d)\d ?[A-Za-z0-9]{{4}}|(?<=\d){_RUN7_REST})"
)
_PREFILTER: Final = re.compile(_PREFILTER_PATTERN)
_PHONE_HINT: Final = re.compile(rf"\d{_RUN7_REST}")
_PHONE_RUN: Final = re.compile(rf"\d{_RUN7_REST}(?:{_SEP}{{0,3}}\d)*")

_EMAIL: Final = re.compile(
    r"(?<![\w.%+\-])[\w%+\-]+(?:\.[\w%+\-]+)*@[^\W_](?:[\w\-]*[^\W_])?"
    r"(?:\.[^\W_](?:[\w\-]*[^\W_])?)*\.[^\W\d_]{2,}(?![\w\-]|\.[^\W_])"
)
# The check digits of an IBAN, preceded by a two-letter country code that starts a token.
_IBAN_START: Final = re.compile(r"\d(?<=(?<![A-Za-z0-9])[A-Za-z]{2}\d)\d")
_SSN: Final = re.compile(
    r"\d(?<![\w\-]\d)\d\d(?<!000)(?<!666)(?<!9\d\d)-(?!00)\d\d-(?!0000)\d{4}(?![\w\-]|[.,]\d)",
    re.ASCII,
)
# A run of digit groups joined by single spaces or dashes, with 13 digits or more;
# boundaries are checked in code.
_CARD_RUN: Final = re.compile(r"\d(?<!\w\d)(?:[ \-]?\d){12,}")
_GROUP: Final = re.compile(r"\d+")
# Card groupings other than fours (see _card_layout): 4-6-5 (Amex), 4-6-4 (Diners).
_CARD_LAYOUTS: Final = frozenset({(4, 6, 5), (4, 6, 4)})
# Layouts so card-like that a run with them is a (non-Luhn) reference, never a phone.
_LONG_CARD_LAYOUTS: Final = frozenset({(4, 4, 4, 4), (4, 4, 4, 4, 3)})

# What the phone matcher must not see (all branches start at the first character matched):
_NOT_PHONE: Final = re.compile(
    r"[\d$\u00a3\u00a5\u20ac](?:"
    # an amount after a currency sign: $1234.56, €1.299,00
    r"(?<=[$\u00a3\u00a5\u20ac])\d+(?:[.,]\d+)*"
    # a time: 14:30, 9:05:59
    r"|(?<![\d:]\d)\d?:[0-5]\d(?::[0-5]\d)?(?!\d)"
    # a date: 2024-03-15, 2024/3/15, 03/15/2024, 15.03.2024
    r"|(?<![\d./\-]\d)(?:(?:(?<=1)9|(?<=2)0)\d\d([\-/.])\d\d?\1\d\d?"
    r"|\d?([\-/.])\d\d?\2(?:19|20)\d\d)(?![\d]|[\-/.]\d)"
    # an amount before a currency code: 49.99 EUR, 12,50 €
    r"|(?<![\d.,]\d)\d{0,6}(?:[.,]\d{3})*(?:[.,]\d{1,2})?[ \u00a0]?(?:EUR|USD|GBP|CHF|\u20ac)"
    r"(?![A-Za-z\d])"
    # a percentage: 12.5%, 100 %
    r"|(?<![\d.,]\d)\d*(?:[.,]\d+)?[ \u00a0]?%"
    # thousands separators: 1,234,567 (never in phone numbers)
    r"|(?<![\d.,]\d)\d{0,2},\d{3}(?:,\d{3})*(?:\.\d+)?(?![\d,])"
    # digits glued to letters before them: ORD-20240315-7781, SO1234567890, v2.14.3
    r"|(?:(?<=[A-WYZa-wyz]\d)|(?<=[A-Za-z][\-_]\d))[\w\-]*(?:\.\d[\w\-]*)*"
    # a token starting with a digit that holds a letter: 1Z999AA10123456784
    r"|(?<![\w\-].)[\w\-]*[A-Za-z][\w\-]*"
    r")"
)

_SPACED_BREAK: Final = re.compile(r"\d\s+[\-/\u2010-\u2015]\s+\S")
_MAX_PASSES: Final = 3
_SMALL: Final = 256  # columns up to this long are checked value by value (no vector overhead)
_REACH: Final = 48  # how far a phone window may reach past its digits to find whitespace
_MAX_WINDOW: Final = 512  # windows are merged up to this length
_SENTENCE_BREAK: Final = re.compile(r"\d\.\s")
_EXTENSION: Final = re.compile(r"(?i)[\s,;]*(?:e?xt(?:ension)?\.?|x|;ext=)\s*\d")
_NANP_GROUPINGS: Final = frozenset({(10,), (3, 7), (3, 3, 4)})
_CC_PREFIX: Final = re.compile(r"(?<![\w+.,])\+?(\d{1,3})[ .\-]?\Z")

_Span = tuple[str, int, int]
_BLOCKED: Final = ""  # span kind: seen by the detectors as taken, never redacted


class _Spans:
    """Findings so far, with an occupancy map so overlap tests stay cheap on long texts."""

    __slots__ = ("_taken", "items")

    def __init__(self, n: int) -> None:
        self.items: list[_Span] = []
        self._taken = bytearray(n)

    def free(self, start: int, end: int) -> bool:
        """Tell whether no finding overlaps ``[start, end)``."""
        return self._taken.find(1, start, end) < 0

    def covered(self, start: int, end: int) -> bool:
        """Tell whether findings cover all of ``[start, end)``."""
        return self._taken.find(0, start, end) < 0

    def add(self, kind: str, start: int, end: int) -> None:
        self.items.append((kind, start, end))
        self._taken[start:end] = b"\x01" * (end - start)

    def add_free(self, kind: str, start: int, end: int) -> bool:
        """Add the finding unless it overlaps one; tell whether it was added."""
        if self.free(start, end):
            self.add(kind, start, end)
            return True
        return False


def is_luhn_valid(digits: str) -> bool:
    """Tell whether a digit string passes the Luhn (mod-10) check.

    Parameters
    ----------
    digits : str
        Decimal digits only; separators must be removed first.

    Returns
    -------
    bool
        ``True`` when ``digits`` is non-empty, all digits, and its Luhn sum is a multiple
        of ten.

    Examples
    --------
    >>> is_luhn_valid("4111111111111111")
    True
    >>> is_luhn_valid("4111111111111112")
    False
    """
    if not digits or not digits.isdecimal():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def is_valid_iban(iban: str) -> bool:
    """Tell whether a string is a valid IBAN (ISO 13616).

    Spaces are ignored and letters may be in either case. The country must be in the IBAN
    registry, the length must be that country's length and the mod-97 remainder of the
    rearranged number must be 1.

    Parameters
    ----------
    iban : str
        The candidate, compact (``DE89370400440532013000``) or grouped
        (``DE89 3704 0044 0532 0130 00``).

    Returns
    -------
    bool
        ``True`` when the candidate is a valid IBAN.

    Examples
    --------
    >>> is_valid_iban("GB82 WEST 1234 5698 7654 32")
    True
    >>> is_valid_iban("GB82 WEST 1234 5698 7654 33")
    False
    """
    compact = iban.replace(" ", "").upper()
    if not compact.isascii() or not compact.isalnum():
        return False
    expected = _IBAN_LENGTHS.get(compact[:2])
    if expected is None or len(compact) != expected:
        return False
    if not compact[2:4].isdigit():
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def _check_region(region: str) -> str:
    if not isinstance(region, str):
        raise ConfigError(f"region must be a string such as 'US', got {type(region).__name__}")
    code = region.upper()
    if code != "ZZ" and code not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(
            f"region {region!r} is not a region phonenumbers knows; expected an ISO 3166 "
            "alpha-2 code such as 'US', 'GB' or 'DE' (or 'ZZ' for international numbers only)"
        )
    return code


def _find_emails(text: str, spans: _Spans) -> None:
    if "@" not in text:
        return
    for m in _EMAIL.finditer(text):
        spans.add_free("EMAIL", m.start(), m.end())


def _find_ibans(text: str, spans: _Spans) -> None:
    n = len(text)
    for m in _IBAN_START.finditer(text):
        start = m.start() - 2
        expected = _IBAN_LENGTHS.get(text[start : start + 2].upper())
        if expected is None:
            continue
        pos = m.end()
        count = 4
        # Spaces are only allowed after every fourth character.
        while count < expected and pos < n:
            ch = text[pos]
            if ch == " " and count % 4 == 0 and pos + 1 < n and text[pos + 1].isalnum():
                pos += 1
                continue
            if ch.isascii() and ch.isalnum():
                count += 1
                pos += 1
                continue
            break
        if count != expected:
            continue
        if pos < n and text[pos].isalnum():
            continue  # part of a longer token
        # A registered-length IBAN that fails mod-97 is not redacted, but no later detector
        # may read its digits as a card, an SSN or a phone number either.
        if spans.free(start, pos):
            spans.add("IBAN" if is_valid_iban(text[start:pos]) else _BLOCKED, start, pos)


def _glued_before(text: str, start: int) -> bool:
    """Tell whether what starts at ``start`` continues an identifier or a decimal number."""
    if start >= 2 and text[start - 1] in "-_/" and text[start - 2].isalnum():
        return True
    if start >= 2 and text[start - 1] in ".," and text[start - 2].isdigit():
        return True
    return start >= 1 and text[start - 1] == "+"  # "+" starts a phone number, never a card


def _glued_after(text: str, end: int) -> bool:
    """Tell whether what ends at ``end`` goes on as an identifier or a decimal number."""
    if end < len(text) and text[end].isalnum():
        return True
    nxt = text[end : end + 2]
    return len(nxt) == 2 and nxt[0] in "-_/.,:" and nxt[1].isalnum()


def _glued(text: str, start: int, end: int) -> bool:
    """Tell whether ``text[start:end]`` is part of a larger identifier or decimal number."""
    return _glued_before(text, start) or _glued_after(text, end)


def _card_layout(sizes: tuple[int, ...]) -> bool:
    """Tell whether digit-group sizes look like a printed card number."""
    if len(sizes) == 1 or sizes in _CARD_LAYOUTS:
        return True
    return len(sizes) >= 4 and all(size == 4 for size in sizes[:-1]) and 1 <= sizes[-1] <= 4


def _plausible_iin(digits: str) -> bool:
    """Tell whether a number starts like a payment card (Amex, Diners, JCB, Visa, MC, ...)."""
    first = digits[0]
    return first in "3456" or (first == "2" and "2221" <= digits[:4] <= "2720")


def _find_cards(text: str, spans: _Spans) -> None:
    """Add card numbers to ``spans``, and digit runs that are no phone number as blocked."""
    reserved: list[_Span] = []
    for m in _CARD_RUN.finditer(text):
        if spans.covered(m.start(), m.end()):
            continue  # inside an IBAN (or an e-mail address)
        groups = [(g.start() + m.start(), g.end() + m.start()) for g in _GROUP.finditer(m.group())]
        # An edge group glued to an identifier or a decimal belongs to that token.
        if _glued_before(text, groups[0][0]):
            groups = groups[1:]
        if groups and _glued_after(text, groups[-1][1]):
            groups = groups[:-1]
        sizes = tuple(e - s for s, e in groups)
        if sum(sizes) < 13:
            continue
        seps = [text[e] for _, e in groups[:-1]]
        last = len(groups) - 1
        uniform = len(set(seps)) <= 1
        candidates: list[tuple[int, int, int, int, int, int]] = []
        for i in range(len(groups)):
            ndigits = 0
            for j in range(i, len(groups)):
                ndigits += sizes[j]
                if ndigits > 19:
                    break
                if ndigits < 13:
                    continue
                printed = _card_layout(sizes[i : j + 1]) and len(set(seps[i:j])) <= 1
                if not printed:
                    # Odd groupings only as a whole run of groups of four or more digits.
                    if i != 0 or j != last or not uniform or min(sizes) < 4:
                        continue
                elif j > i and sizes[i] == 4:
                    f_start, f_end, f_digits = _fours_extent(sizes, seps, i, j)
                    # Inside a longer number printed in fours, a card can only be at one of
                    # its ends ("2008 4111 1111 1111 1111", "4111 1111 1111 1111 1227"),
                    # and a number of more than 20 digits in fours (a USPS tracking
                    # number has 22) holds no card at all.
                    if f_digits > 20 or (i != f_start and j != f_end):
                        continue
                digits = "".join(text[s:e] for s, e in groups[i : j + 1])
                if not is_luhn_valid(digits):
                    continue
                iin = _plausible_iin(digits)
                edges = (i == 0) + (j == last)
                if (edges < 2 or not printed) and not iin:
                    # Cut out of a longer run, or oddly grouped ("1994 7187783221"): only
                    # with a card network's prefix.
                    continue
                candidates.append(
                    (-int(printed), -int(iin), -edges, -ndigits, groups[i][0], groups[j][1])
                )
        candidates.sort()
        for *_, start, end in candidates:
            spans.add_free("CARD", start, end)
        for f_start, f_end in _long_fours(sizes, seps):
            reserved.append((_BLOCKED, groups[f_start][0], groups[f_end][1]))
        # Digits no phone number has (16 and more in one group), or printed like a card.
        for (start, end), size in zip(groups, sizes, strict=True):
            if size >= 16:
                reserved.append((_BLOCKED, start, end))
        reserved.extend(_printed_references(groups, seps))
    for kind, start, end in reserved:
        spans.add_free(kind, start, end)


def _fours_extent(sizes: tuple[int, ...], seps: list[str], i: int, j: int) -> tuple[int, int, int]:
    """Grow the window of groups ``i..j`` over neighbouring four-digit groups.

    Neighbours join when they are four-digit groups (or one shorter final group) joined by
    the window's own separator. Returns ``(first, last, ndigits)`` of the grown window.
    """
    sep = seps[i]
    first, last = i, j
    while first > 0 and sizes[first - 1] == 4 and seps[first - 1] == sep:
        first -= 1
    while last + 1 < len(sizes) and seps[last] == sep and sizes[last] == 4:
        if sizes[last + 1] > 4:
            break
        last += 1
    return first, last, sum(sizes[first : last + 1])


def _long_fours(sizes: tuple[int, ...], seps: list[str]) -> list[tuple[int, int]]:
    """Find numbers of more than 20 digits printed in fours (USPS tracking numbers)."""
    found: list[tuple[int, int]] = []
    for i in range(len(sizes) - 4):
        if sizes[i] == 4 and (i == 0 or sizes[i - 1] != 4 or seps[i - 1] != seps[i]):
            first, last, ndigits = _fours_extent(sizes, seps, i, i)
            if ndigits > 20:
                found.append((first, last))
    return found


def _printed_references(groups: list[tuple[int, int]], seps: list[str]) -> list[_Span]:
    """Find numbers printed like a card (4-4-4-4) in a run of digit groups.

    Such a number must be the whole run or be set apart from the rest of the run by a
    different separator ("5440-2280-2551-4284 917 547 4135").
    """
    sizes = tuple(e - s for s, e in groups)
    last = len(groups) - 1
    found: list[_Span] = []
    for i in range(len(groups)):
        for j in range(i + 3, min(i + 5, last + 1)):
            if sizes[i : j + 1] not in _LONG_CARD_LAYOUTS or len(set(seps[i:j])) != 1:
                continue
            inner = seps[i]
            if (i > 0 and seps[i - 1] == inner) or (j < last and seps[j] == inner):
                continue
            found.append((_BLOCKED, groups[i][0], groups[j][1]))
    return found


def _find_ssns(text: str, spans: _Spans) -> None:
    for m in _SSN.finditer(text):
        spans.add_free("SSN", m.start(), m.end())


def _mask(text: str, spans: list[_Span]) -> str:
    if not spans:
        return text
    parts: list[str] = []
    pos = 0
    for _, start, end in sorted(spans, key=lambda span: span[1]):
        parts.append(text[pos:start])
        parts.append(_MASK * (end - start))
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def _phone_windows(masked: str) -> list[tuple[int, int]]:
    """Whitespace-bounded windows around each seven-digit run, merged where they touch."""
    windows: list[tuple[int, int]] = []
    n = len(masked)
    for m in _PHONE_RUN.finditer(masked):
        start, end = m.span()
        # (Bounded, so that a huge text without whitespace stays linear.)
        while start > 0 and not masked[start - 1].isspace() and m.start() - start < _REACH:
            start -= 1
        while end < n and not masked[end].isspace() and end - m.end() < _REACH:
            end += 1
        # Take up to two more tokens for an extension ("ext. 12", "x 12").
        for _ in range(2):
            nxt = end + 1
            while nxt < n and not masked[nxt].isspace() and nxt - m.end() <= 16:
                nxt += 1
            if end >= n or nxt - m.end() > 16:
                break
            end = nxt
        if windows and start <= windows[-1][1] and end - windows[-1][0] <= _MAX_WINDOW:
            windows[-1] = (windows[-1][0], max(end, windows[-1][1]))
        else:
            windows.append((start, end))
    return windows


def _plausible_grouping(raw: str, country_code: int) -> bool:
    """Tell whether the digit groups of a number written without ``+`` look like a phone.

    North American numbers must be grouped 3-3-4, 3-7 or 10 (after an optional trunk
    ``1``); elsewhere the first of several groups may not have six or more digits.
    """
    body = _EXTENSION.split(raw, maxsplit=1)[0]
    groups = tuple(len(g) for g in _GROUP.findall(body))
    if len(groups) <= 1:
        return True
    if country_code == 1:
        if groups[0] == 1:
            groups = groups[1:]
        return groups in _NANP_GROUPINGS
    return groups[0] < 6


def _phone_span(masked: str, start: int, raw: str, number: Any, region: str) -> _Span | None:
    """Vet one match of the phone matcher; return its span or ``None`` to drop it."""
    lead = len(raw) - len(raw.lstrip())  # "2023 / 3053117429" comes back as " 3053117429"
    start += lead
    raw = raw[lead:]
    cut = len(raw)
    if "#" in raw:  # "#123" after a number is an order or ticket, not an extension
        cut = raw.index("#")
    if brk := _SENTENCE_BREAK.search(raw):  # "plan 254972. 2022": a full stop ends a number
        cut = min(cut, brk.start() + 1)
    if cut < len(raw):
        raw = raw[:cut].rstrip(" .,;:")
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_valid_number(number):
            return None
    end = start + len(raw)
    if sum(ch.isdigit() for ch in raw) < _MIN_PHONE_DIGITS:
        return None
    if _SPACED_BREAK.search(raw) and raw[0] not in "+0(":
        return None  # "plan 513285 / 2017": two numbers, not one phone number
    country_code = number.country_code or 0
    if not raw.startswith("+"):
        if not _plausible_grouping(raw, country_code):
            return None  # "order 220236 1991": an id and a year, not (220) 236-1991
        # "2022 1 (415) 555-2671": the matcher may drop the country code...
        prefix = _CC_PREFIX.search(masked, max(0, start - 6), start)
        before = masked[: prefix.start()].rstrip()[-1:] if prefix else ""
        if prefix and prefix.group(1) == str(country_code) and not before.isalpha():
            start = prefix.start()  # ...but "tier 1 (617) 361-3137" keeps its "1"
    if _glued(masked, start, end):
        return None
    return ("PHONE", start, end)


def _match_window(masked: str, w_start: int, w_end: int, region: str, spans: _Spans) -> bool:
    """Add the phone numbers found in a window; tell whether there were any."""
    added = False
    matcher = phonenumbers.PhoneNumberMatcher(
        masked[w_start:w_end], region, leniency=phonenumbers.Leniency.VALID
    )
    for match in matcher:
        span = _phone_span(masked, w_start + match.start, match.raw_string, match.number, region)
        if span is not None:
            added |= spans.add_free(*span)
    return added


def _match_window_split(masked: str, w_start: int, w_end: int, region: str, spans: _Spans) -> None:
    """Match a window; if nothing is found, also without its first or its last token.

    The matcher reads numbers written side by side ("201 344 9957 2005") as one invalid
    number and then gives up.
    """
    if _match_window(masked, w_start, w_end, region, spans):
        return
    window = masked[w_start:w_end].rstrip()
    first_gap = window.find(" ")
    last_gap = window.rfind(" ")
    if first_gap < 0:
        return
    for sub_start, sub_end in ((w_start, w_start + last_gap), (w_start + first_gap + 1, w_end)):
        if _PHONE_HINT.search(masked, sub_start, sub_end):
            _match_window(masked, sub_start, sub_end, region, spans)


def _find_phones(text: str, spans: _Spans, region: str) -> None:
    masked = _mask(text, spans.items)
    if not _PHONE_HINT.search(masked):
        return
    masked = _NOT_PHONE.sub(lambda m: _MASK * (m.end() - m.start()), masked)
    # The matcher is slow pure Python and its cost grows with the text it scans: run it on
    # windows only. They end at whitespace, so the matcher sees the same neighbours of every
    # candidate as it would in the whole text.
    for w_start, w_end in _phone_windows(masked):
        _match_window_split(masked, w_start, w_end, region, spans)


def _find_once(text: str, region: str) -> list[_Span]:
    """Run every detector once; return sorted, disjoint findings."""
    spans = _Spans(len(text))
    _find_emails(text, spans)
    _find_ibans(text, spans)
    # SSNs before cards: "4875 8101 1748 5686 052-21-7463" holds a 4-4-4-4-3 window.
    _find_ssns(text, spans)
    _find_cards(text, spans)
    _find_phones(text, spans, region)
    found = [span for span in spans.items if span[0] != _BLOCKED]
    found.sort(key=lambda span: span[1])
    return found


def _find_unfiltered(text: str, region: str) -> list[_Span]:
    """Find PII until redacting finds nothing more, so that redaction is idempotent.

    A detector can miss a value next to another one (the phone matcher reads
    "+44 121 236 4144) 7028018035" as one invalid number); once the neighbour is replaced
    by its placeholder, the value shows. Later passes run on the redacted text and their
    findings are mapped back to ``text``.
    """
    spans = _find_once(text, region)
    for _ in range(_MAX_PASSES - 1):
        if not spans:
            break
        redacted, segments = _apply_mapped(text, spans)
        if not _PREFILTER.search(redacted):
            break
        more = _find_once(redacted, region)
        if not more:
            break
        starts = [segment[0] for segment in segments]
        mapped = [
            (
                kind,
                _map_back(segments, starts, start, True),
                _map_back(segments, starts, end, False),
            )
            for kind, start, end in more
        ]
        # A later finding that reaches into a placeholder swallows that earlier finding.
        swallowed = bytearray(len(text) + 1)
        for _, start, end in mapped:
            swallowed[start:end] = b"\x01" * (end - start)
        spans = sorted(
            [sp for sp in spans if not swallowed[sp[1]]] + mapped, key=lambda span: span[1]
        )
    return spans


# (start, end) in the redacted text, (start, end) in the original text, is a placeholder
_Segment = tuple[int, int, int, int, bool]


def _apply_mapped(text: str, spans: list[_Span]) -> tuple[str, list[_Segment]]:
    """Redact ``text`` and describe where each piece of the result came from."""
    parts: list[str] = []
    segments: list[_Segment] = []
    pos = 0
    out = 0
    for kind, start, end in spans:
        parts.append(text[pos:start])
        segments.append((out, out + start - pos, pos, start, False))
        out += start - pos
        placeholder = PLACEHOLDERS[kind]
        parts.append(placeholder)
        segments.append((out, out + len(placeholder), start, end, True))
        out += len(placeholder)
        pos = end
    parts.append(text[pos:])
    segments.append((out, out + len(text) - pos, pos, len(text), False))
    return "".join(parts), segments


def _apply(text: str, spans: list[_Span]) -> str:
    return _apply_mapped(text, spans)[0] if spans else text


def _map_back(segments: list[_Segment], starts: list[int], index: int, is_start: bool) -> int:
    """Map an index of the redacted text to the original; placeholders map as a whole."""
    k = bisect.bisect_right(starts, index) - 1
    if not is_start and k > 0 and segments[k][0] == index:
        k -= 1  # an end index belongs to the segment it closes
    r_start, _, o_start, o_end, placeholder = segments[k]
    if placeholder:
        return o_start if is_start else o_end
    return o_start + index - r_start


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise ContractError(f"text to redact must be a str, got {type(text).__name__}")
    return text


def find_pii(text: str, region: str = "US") -> list[tuple[str, int, int]]:
    """Find the PII in a text.

    Parameters
    ----------
    text : str
        Free text, any script.
    region : str, default "US"
        ISO 3166 alpha-2 region used to read phone numbers written without a ``+`` country
        code; ``"ZZ"`` finds only international (``+``) numbers.

    Returns
    -------
    list of tuple of (str, int, int)
        ``(type, start, end)`` for each finding, sorted by ``start`` and never overlapping;
        ``type`` is a key of :data:`PLACEHOLDERS` and ``text[start:end]`` is the PII.

    Raises
    ------
    ContractError
        If ``text`` is not a ``str``.
    ConfigError
        If ``region`` is not a region ``phonenumbers`` knows.

    Examples
    --------
    >>> find_pii("mail jo@example.com or call 415-555-2671")
    [('EMAIL', 5, 19), ('PHONE', 28, 40)]
    """
    text = _check_text(text)
    code = _check_region(region)
    if not _PREFILTER.search(text):
        return []
    return _find_unfiltered(text, code)


def redact_text(text: str, region: str = "US") -> str:
    """Replace every PII finding in a text by its typed placeholder.

    Parameters
    ----------
    text : str
        Free text, any script.
    region : str, default "US"
        Default region for phone numbers written without a ``+`` country code (see
        :func:`find_pii`).

    Returns
    -------
    str
        ``text`` with each span of :func:`find_pii` replaced by ``PLACEHOLDERS[type]``;
        everything else is kept byte for byte. Redacting the result again changes nothing.

    Raises
    ------
    ContractError
        If ``text`` is not a ``str``.
    ConfigError
        If ``region`` is not a region ``phonenumbers`` knows.

    Examples
    --------
    >>> redact_text("Card 4111 1111 1111 1111, SSN 123-45-6789, total $1,234.56")
    'Card <CARD>, SSN <SSN>, total $1,234.56'
    """
    text = _check_text(text)
    code = _check_region(region)
    if not _PREFILTER.search(text):
        return text
    return _apply(text, _find_unfiltered(text, code))


def redact_series(texts: pd.Series[Any], region: str = "US") -> pd.Series[Any]:
    """Redact a whole column of texts.

    Equal to ``texts.map(lambda t: redact_text(t, region))`` for a column of strings, but a
    cheap vectorised pre-check first sets aside the texts that cannot contain PII (no
    ``@``, no IBAN-shaped token and no run of seven digits), so only the rest pays for
    the detectors.

    Parameters
    ----------
    texts : pandas.Series
        Strings; missing values (``None``, ``NaN``, ``pd.NA``) are allowed and kept.
    region : str, default "US"
        Default region for phone numbers written without a ``+`` country code.

    Returns
    -------
    pandas.Series
        A new series with the same index, name and dtype; ``texts`` is not modified.

    Raises
    ------
    ContractError
        If a non-missing value is not a ``str``.
    ConfigError
        If ``region`` is not a region ``phonenumbers`` knows.
    """
    if not isinstance(texts, pd.Series):
        raise ContractError(f"texts must be a pandas Series, got {type(texts).__name__}")
    code = _check_region(region)
    out = texts.copy()
    if texts.empty:
        return out
    if len(texts) <= _SMALL:
        small = texts.tolist()
        if all(isinstance(v, str) or v is None for v in small):  # else: the checks below
            found = [i for i, v in enumerate(small) if v is not None and _PREFILTER.search(v)]
            if found:
                out.iloc[found] = [
                    _apply(small[i], _find_unfiltered(small[i], code)) for i in found
                ]
            return out
    values = texts.astype(object)
    missing = values.isna().to_numpy()
    is_str = values.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    bad = ~(missing | is_str)
    if bad.any():
        first = texts.index[bad.argmax()]
        kind = type(values[bad].iloc[0]).__name__
        raise ContractError(
            f"redact_series needs a column of strings; {int(bad.sum())} value(s) are not str "
            f"(first at index {first!r}, a {kind}); cast the column with .astype(str) or "
            "fix the source"
        )
    # Python-regex semantics on object dtype, whatever the input dtype (pyarrow uses RE2).
    candidates = values.str.contains(_PREFILTER_PATTERN, regex=True, na=False).to_numpy(dtype=bool)
    if not candidates.any():
        return out
    positions = candidates.nonzero()[0]
    redacted = [_apply(t, _find_unfiltered(t, code)) for t in values.iloc[positions]]
    out.iloc[positions] = redacted
    return out
