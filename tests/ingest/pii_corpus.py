"""Seeded generator of support messages with planted PII and hard negatives.

Used by ``tests/ingest/test_redact.py`` and ``benchmarks/bench_redaction.py``.

Each message comes with the list of values planted in it as ``(type, value)`` pairs. PII
types are those of :data:`PII_TYPES` (the keys of ``cximpact.ingest.redact.PLACEHOLDERS``);
hard negatives, which a redactor must leave byte for byte, have a type starting with
``"NEG_"`` (see :data:`NEGATIVE_TYPES`). Every planted value occurs exactly once in its
message, so ``text.index(value)`` locates it.

The generator is deliberately independent of the redactor: it has its own Luhn and
mod-97 code, and only uses ``phonenumbers`` to make sure a planted phone number is a real,
valid number (otherwise nobody could be blamed for missing it).
"""

from __future__ import annotations

import random
import string

import phonenumbers

__all__ = ["NEGATIVE_TYPES", "PII_TYPES", "make_corpus", "make_runon_corpus"]

PII_TYPES: tuple[str, ...] = ("EMAIL", "PHONE", "CARD", "IBAN", "SSN")
NEGATIVE_TYPES: tuple[str, ...] = (
    "NEG_AMOUNT",
    "NEG_DATE",
    "NEG_TIME",
    "NEG_ORDER_ID",
    "NEG_TRACKING",
    "NEG_NON_LUHN",
    "NEG_BAD_IBAN",
    "NEG_PLAN",
    "NEG_YEAR",
    "NEG_PERCENT",
    "NEG_BIG_NUMBER",
    "NEG_VERSION",
)

Planted = list[tuple[str, str]]

# --------------------------------------------------------------------------- checksums


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _luhn_complete(body: str) -> str:
    for check in "0123456789":
        if _luhn_ok(body + check):
            return body + check
    raise AssertionError("unreachable")


def _iban_mod97(country: str, check: str, bban: str) -> int:
    rearranged = bban + country + check
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97


# ------------------------------------------------------------------------------- PII


_FIRST = ["john", "maria", "li", "jürgen", "zoë", "ana", "mohammed", "priya", "olga", "kenji"]
_LAST = ["smith", "garcia", "wang", "müller", "dubois", "silva", "khan", "patel", "ivanova"]
_DOMAINS = [
    "example.com",
    "mail.example.org",
    "gmail.com",
    "outlook.co.uk",
    "beispiel.de",
    "firma-gmbh.de",
    "cs.uni-example.edu",
    "yahoo.fr",
]


def _email(rng: random.Random) -> str:
    first, last, domain = rng.choice(_FIRST), rng.choice(_LAST), rng.choice(_DOMAINS)
    style = rng.randrange(6)
    if style == 0:
        local = f"{first}.{last}"
    elif style == 1:
        local = f"{first}{last}{rng.randrange(1, 999)}"
    elif style == 2:
        local = f"{first}_{last}+orders"
    elif style == 3:
        local = f"{first[0]}.{last}"
    elif style == 4:
        local = f"{first}-{last}.{rng.randrange(1990, 2010)}"
    else:
        local = f"{first}.{last}".upper()
        domain = domain.upper()
    return f"{local}@{domain}"


_US_AREAS = [201, 206, 212, 213, 305, 312, 404, 415, 480, 503, 617, 646, 702, 713, 718, 917]
_INTL_REGIONS = ["GB", "DE", "FR", "ES", "IT", "NL", "IN", "AU", "BR", "MX", "JP", "CA"]


def _us_phone(rng: random.Random) -> str:
    while True:
        area = rng.choice(_US_AREAS)
        exch = rng.randrange(200, 1000)
        sub = rng.randrange(0, 10000)
        national = f"{area}{exch:03d}{sub:04d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(national, "US")):
            break
    a, e, s = national[:3], national[3:6], national[6:]
    fmt = rng.choice(
        [
            f"({a}) {e}-{s}",
            f"{a}-{e}-{s}",
            f"{a}.{e}.{s}",
            f"{a} {e} {s}",
            f"+1 {a} {e} {s}",
            f"+1-{a}-{e}-{s}",
            f"+1{a}{e}{s}",
            f"1 ({a}) {e}-{s}",
            f"{a}{e}{s}",
        ]
    )
    return fmt


def _intl_phone(rng: random.Random) -> str:
    while True:
        region = rng.choice(_INTL_REGIONS)
        kind = rng.choice(
            [phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]
        )
        example = phonenumbers.example_number_for_type(region, kind)
        if example is None:
            continue
        nsn = str(example.national_number)
        keep = max(2, len(nsn) - 5)
        nsn = nsn[:keep] + "".join(rng.choice(string.digits) for _ in range(len(nsn) - keep))
        number = phonenumbers.parse("+" + str(example.country_code) + nsn, None)
        if phonenumbers.is_valid_number(number):
            break
    fmt = rng.choice(
        [phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.E164]
    )
    return phonenumbers.format_number(number, fmt)


def _phone(rng: random.Random) -> str:
    return _us_phone(rng) if rng.random() < 0.6 else _intl_phone(rng)


# (prefixes, length, layout or None for 4-4-4-4...)
_CARD_SPECS: list[tuple[list[str], int, tuple[int, ...]]] = [
    (["4"], 16, (4, 4, 4, 4)),
    (["4"], 13, (4, 4, 4, 1)),
    (["4"], 19, (4, 4, 4, 4, 3)),
    (["51", "52", "53", "54", "55", "2221", "2720"], 16, (4, 4, 4, 4)),
    (["34", "37"], 15, (4, 6, 5)),
    (["6011", "65"], 16, (4, 4, 4, 4)),
    (["36"], 14, (4, 6, 4)),
    (["3528", "3589"], 16, (4, 4, 4, 4)),
]


def _group(digits: str, layout: tuple[int, ...], sep: str) -> str:
    parts, pos = [], 0
    for size in layout:
        parts.append(digits[pos : pos + size])
        pos += size
    return sep.join(parts)


def _card(rng: random.Random) -> str:
    prefixes, length, layout = rng.choice(_CARD_SPECS)
    prefix = rng.choice(prefixes)
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    digits = _luhn_complete(body)
    return _group(digits, layout, rng.choice(["", " ", "-"]))


# country -> BBAN shape: n digits, a upper letters, c alphanumerics
_IBAN_SHAPES = {
    "DE": "n" * 18,
    "GB": "aaaa" + "n" * 14,
    "FR": "n" * 10 + "c" * 11 + "nn",
    "NL": "aaaa" + "n" * 10,
    "ES": "n" * 20,
    "IT": "a" + "n" * 10 + "c" * 12,
    "BE": "n" * 12,
    "CH": "n" * 5 + "c" * 12,
    "AT": "n" * 16,
    "PL": "n" * 24,
    "IE": "aaaa" + "n" * 14,
    "NO": "n" * 11,
}


def _bban(rng: random.Random, shape: str) -> str:
    out = []
    for kind in shape:
        if kind == "n" or (kind == "c" and rng.random() < 0.8):
            out.append(rng.choice(string.digits))
        else:
            out.append(rng.choice(string.ascii_uppercase))
    return "".join(out)


def _format_iban(iban: str, rng: random.Random) -> str:
    if rng.random() < 0.5:
        return iban
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def _iban(rng: random.Random) -> str:
    country = rng.choice(sorted(_IBAN_SHAPES))
    bban = _bban(rng, _IBAN_SHAPES[country])
    check = 98 - _iban_mod97(country, "00", bban)
    return _format_iban(f"{country}{check:02d}{bban}", rng)


def _ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randrange(1, 100):02d}-{rng.randrange(1, 10000):04d}"


_PII_MAKERS = {"EMAIL": _email, "PHONE": _phone, "CARD": _card, "IBAN": _iban, "SSN": _ssn}

# --------------------------------------------------------------------------- negatives

_MONTHS = ["January", "March", "June", "September", "November", "December"]


def _amount(rng: random.Random) -> str:
    whole, cents = rng.randrange(1, 99999), rng.randrange(100)
    return rng.choice(
        [
            f"${whole:,}.{cents:02d}",
            f"{whole}.{cents:02d} EUR",
            f"€{whole:,}.{cents:02d}".replace(",", "X").replace(".", ",").replace("X", "."),
            f"£{whole % 1000}.{cents:02d}",
            f"USD {whole:,}",
            f"${rng.randrange(1_000_000, 99_999_999):,}.{cents:02d}",
        ]
    )


def _date(rng: random.Random) -> str:
    y, m, d = rng.randrange(2015, 2026), rng.randrange(1, 13), rng.randrange(1, 29)
    return rng.choice(
        [
            f"{y}-{m:02d}-{d:02d}",
            f"{m:02d}/{d:02d}/{y}",
            f"{d:02d}.{m:02d}.{y}",
            f"{m}/{d}/{y}",
            f"{_MONTHS[m % 6]} {d}, {y}",
            f"{y}-{m:02d}-{d:02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z",
            f"{y}-{m:02d}-{d:02d} {rng.randrange(24):02d}:{rng.randrange(60):02d}",
        ]
    )


def _time(rng: random.Random) -> str:
    h, mi = rng.randrange(24), rng.randrange(60)
    return rng.choice([f"{h:02d}:{mi:02d}", f"{h % 12 + 1}:{mi:02d} pm", f"{h:02d}:{mi:02d}:15"])


def _order_id(rng: random.Random) -> str:
    y, m, d = rng.randrange(2020, 2026), rng.randrange(1, 13), rng.randrange(1, 29)
    return rng.choice(
        [
            f"ORD-{y}{m:02d}{d:02d}-{rng.randrange(1000, 10000)}",
            f"#{rng.randrange(100000, 1000000)}",
            f"INV-{y}-{rng.randrange(0, 1000000):06d}",
            f"SO{rng.randrange(10**9, 10**10)}",
            f"case_{rng.randrange(10**7, 10**8)}",
        ]
    )


def _tracking(rng: random.Random) -> str:
    alnum = string.ascii_uppercase + string.digits
    return rng.choice(
        [
            "1Z"
            + "".join(rng.choice(alnum) for _ in range(6))
            + "".join(rng.choice(string.digits) for _ in range(10)),
            "".join(rng.choice(string.ascii_uppercase) for _ in range(2))
            + "".join(rng.choice(string.digits) for _ in range(9))
            + "GB",
            "JJD" + "".join(rng.choice(string.digits) for _ in range(15)),
            # USPS: 22 digits printed in fours; no card may be read out of it.
            _group(
                "9400" + "".join(rng.choice(string.digits) for _ in range(18)),
                (4, 4, 4, 4, 4, 2),
                " ",
            ),
        ]
    )


def _non_luhn(rng: random.Random) -> str:
    while True:
        digits = rng.choice("3456") + "".join(rng.choice(string.digits) for _ in range(15))
        if not _luhn_ok(digits):
            return _group(digits, (4, 4, 4, 4), rng.choice(["", " ", "-"]))


def _bad_iban(rng: random.Random) -> str:
    while True:
        country = rng.choice(sorted(_IBAN_SHAPES))
        bban = _bban(rng, _IBAN_SHAPES[country])
        good = 98 - _iban_mod97(country, "00", bban)
        check = (good + rng.randrange(1, 97)) % 97
        if check < 2:
            continue
        return _format_iban(f"{country}{check:02d}{bban}", rng)


def _plan(rng: random.Random) -> str:
    return rng.choice(
        [
            f"plan {rng.randrange(10, 999999)}",
            f"tier {rng.randrange(1, 6)}",
            f"P-{rng.randrange(100, 99999)}",
        ]
    )


def _year(rng: random.Random) -> str:
    return str(rng.randrange(1990, 2026))


def _percent(rng: random.Random) -> str:
    return rng.choice(
        [f"{rng.randrange(1, 100)}%", f"{rng.randrange(1, 100)}.{rng.randrange(10)}%"]
    )


def _big_number(rng: random.Random) -> str:
    return rng.choice(
        [
            f"{rng.randrange(1_000_000, 999_999_999):,} points",
            f"{rng.randrange(10**6, 10**9):,} bytes",
        ]
    )


def _version(rng: random.Random) -> str:
    return f"v{rng.randrange(1, 20)}.{rng.randrange(0, 40)}.{rng.randrange(0, 200)}"


_NEG_MAKERS = {
    "NEG_AMOUNT": _amount,
    "NEG_DATE": _date,
    "NEG_TIME": _time,
    "NEG_ORDER_ID": _order_id,
    "NEG_TRACKING": _tracking,
    "NEG_NON_LUHN": _non_luhn,
    "NEG_BAD_IBAN": _bad_iban,
    "NEG_PLAN": _plan,
    "NEG_YEAR": _year,
    "NEG_PERCENT": _percent,
    "NEG_BIG_NUMBER": _big_number,
    "NEG_VERSION": _version,
}

# ---------------------------------------------------------------------------- templates

_SENTENCES: dict[str, list[str]] = {
    "EMAIL": [
        "You can reach me at {v}.",
        "Please send the receipt to {v}",
        "my email is {v} (not the old one)",
        "Contact: {v}",
        "Merci de répondre à {v} !",
        "{v}",
    ],
    "PHONE": [
        "Call me back on {v} after 5pm.",
        "My number is {v}.",
        "phone: {v}",
        "Tel. {v} — anytime",
        "Ruf mich bitte an unter {v}.",
        "(mobile {v})",
        "{v}",
    ],
    "CARD": [
        "I paid with card {v} and was charged twice.",
        "Card number {v}, please cancel it.",
        "The full number is {v}",
        "cc:{v}",
        "Mi tarjeta {v} fue rechazada.",
    ],
    "IBAN": [
        "Please refund to IBAN {v}.",
        "My bank account: {v}",
        "IBAN:{v}",
        "Bitte auf mein Konto {v} überweisen, danke.",
        "Remboursez sur {v} svp",
    ],
    "SSN": [
        "SSN {v} for the verification",
        "my social is {v}.",
        "Social Security Number: {v}",
        "They asked for my SSN ({v}) on the phone??",
    ],
    "NEG_AMOUNT": [
        "I was charged {v} instead of the promised price.",
        "The refund of {v} never arrived.",
        "Total: {v}",
    ],
    "NEG_DATE": ["The order was placed on {v}.", "Since {v} nothing works.", "Delivered {v}"],
    "NEG_TIME": ["I called at {v} and nobody answered.", "The outage began around {v}."],
    "NEG_ORDER_ID": [
        "Order {v} still hasn't shipped.",
        "re: {v}",
        "Ticket {v} was closed without an answer.",
    ],
    "NEG_TRACKING": ["Tracking {v} shows no movement.", "Sendungsnummer {v}"],
    "NEG_NON_LUHN": [
        "The reference on the letter is {v}.",
        "Meter ID {v}",
        "Reference number: {v}",
    ],
    "NEG_BAD_IBAN": [
        "Is {v} a valid IBAN? Your form rejected it.",
        "The old account {v} is closed.",
    ],
    "NEG_PLAN": ["I'm on {v} and want to downgrade.", "Switched to {v} last week."],
    "NEG_YEAR": ["Customer since {v}!", "Same problem as in {v}."],
    "NEG_PERCENT": ["You promised {v} off.", "Battery drops to {v} in an hour."],
    "NEG_BIG_NUMBER": ["My balance shows {v}.", "The upload stopped at {v}."],
    "NEG_VERSION": ["The app ({v}) keeps crashing.", "Updated to {v} yesterday."],
}

_PLAIN = [
    "The app keeps crashing when I open settings.",
    "I waited on hold for 45 minutes.",
    "This is the third time I'm writing 😡",
    "Please escalate this to a manager.",
    "Die Lieferung ist beschädigt angekommen.",
    "Le colis n'est jamais arrivé.",
    "El reembolso todavía no aparece.",
    "注文した商品がまだ届いていません。",
    "Can someone finally look into this?",
    "The chat agent disconnected twice.",
    "Your website says in stock but the checkout fails.",
    "I'd like to cancel my subscription.",
    "The password reset email never comes.",
    "Thanks for the quick help last time!",
]
_OPENERS = [
    "Hi,",
    "Hello team,",
    "Good morning.",
    "Hey -",
    "Bonjour,",
    "Hallo,",
    "",
    "",
    "Dear support,",
]
_CLOSERS = [
    "Thanks,",
    "Best regards, Ana",
    "Cheers",
    "Merci d'avance",
    "— sent from my phone",
    "",
    "",
]


def _message(rng: random.Random, pii_rate: float) -> tuple[str, Planted]:
    planted: Planted = []
    if rng.random() < pii_rate:
        for kind in rng.sample(PII_TYPES, rng.randint(1, 3)):
            planted.append((kind, _PII_MAKERS[kind](rng)))
    if rng.random() < 0.5:
        for kind in rng.sample(NEGATIVE_TYPES, rng.randint(1, 3)):
            planted.append((kind, _NEG_MAKERS[kind](rng)))
    sentences = [rng.choice(_SENTENCES[kind]).format(v=value) for kind, value in planted]
    sentences += rng.sample(_PLAIN, rng.randint(1, 2))
    rng.shuffle(sentences)
    parts = [rng.choice(_OPENERS), *sentences, rng.choice(_CLOSERS)]
    text = " ".join(p for p in parts if p)
    return text, planted


def make_corpus(n: int, seed: int, *, pii_rate: float = 0.35) -> list[tuple[str, Planted]]:
    """Generate ``n`` support messages with planted PII and hard negatives.

    Parameters
    ----------
    n : int
        Number of messages.
    seed : int
        Seed; the same ``(n, seed, pii_rate)`` gives the same corpus.
    pii_rate : float, default 0.35
        Share of messages carrying one to three PII values. About half of all messages
        carry one to three hard negatives; every message has one or two plain sentences.

    Returns
    -------
    list of (str, list of (str, str))
        ``(text, [(type, value), ...])``; each value occurs exactly once in ``text``.
    """
    rng = random.Random(seed)
    corpus: list[tuple[str, Planted]] = []
    while len(corpus) < n:
        text, planted = _message(rng, pii_rate)
        if all(text.count(value) == 1 for _, value in planted):
            corpus.append((text, planted))
    return corpus


_RUNON_SEPARATORS = [" ", ", ", " / ", "\n", ": ", " - ", "; ", " and ", ". "]


def make_runon_corpus(n: int, seed: int) -> list[tuple[str, Planted]]:
    """Generate ``n`` stress texts: two to four values side by side, no sentences around.

    Values (PII and hard negatives alike) are joined by bare separators such as ``" "``,
    ``", "`` or ``" / "``, so numbers sit right next to each other ("201 344 9957 2005").
    Real messages are rarely this hostile; this measures how detection degrades when they
    are.

    Parameters
    ----------
    n : int
        Number of texts.
    seed : int
        Seed; the same ``(n, seed)`` gives the same texts.

    Returns
    -------
    list of (str, list of (str, str))
        As :func:`make_corpus`; each value occurs exactly once in its text.
    """
    rng = random.Random(seed)
    makers = {**_PII_MAKERS, **_NEG_MAKERS}
    kinds = sorted(makers)
    corpus: list[tuple[str, Planted]] = []
    while len(corpus) < n:
        planted = [(kind, makers[kind](rng)) for kind in rng.choices(kinds, k=rng.randint(2, 4))]
        text = "".join(value + rng.choice(_RUNON_SEPARATORS) for _, value in planted)
        if all(text.count(value) == 1 for _, value in planted):
            corpus.append((text, planted))
    return corpus
