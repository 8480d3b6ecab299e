"""Small labelled topic corpus shared by the topic-classification tests.

Four topics with six phrasings each, a few conversational openers to multiply them, and
out-of-scope texts that belong to no topic.
"""

from __future__ import annotations

import itertools

OPENERS = ("", "hi, ", "hello team, ", "please help: ", "urgent - ")
TOPICS: dict[str, tuple[str, ...]] = {
    "card_arrival": (
        "my new card has not arrived yet",
        "when will my card be delivered",
        "still waiting for the card in the post",
        "the card you sent never showed up",
        "how long does card delivery take",
        "card not received after two weeks",
    ),
    "refund": (
        "i want my money back for this order",
        "please refund the payment",
        "how do i get a refund",
        "the refund has not reached my account",
        "return the item and reimburse me",
        "still no refund for the cancelled purchase",
    ),
    "password_reset": (
        "i forgot my password",
        "cannot log in, need to reset my password",
        "the password reset link does not work",
        "locked out of my account after wrong password",
        "how do i change my login password",
        "reset password email never came",
    ),
    "exchange_rate": (
        "what exchange rate do you use for euros",
        "the currency conversion rate was bad",
        "why was the exchange rate so poor",
        "how much is one dollar in pounds today",
        "foreign currency rate seems wrong",
        "which rate applies when i pay abroad",
    ),
}
OUT_OF_SCOPE = (
    "what is the weather in paris tomorrow",
    "tell me a joke about cats",
    "who won the football match yesterday",
    "recommend a good pizza recipe",
    "play some jazz music",
)
TOPIC_METRICS = frozenset(
    {"accuracy", "macro_f1", "oos_precision", "oos_recall", "texts_per_second", "n_train", "n_test"}
)


def split_rows(
    topics: dict[str, tuple[str, ...]], n_train: int
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(text, topic) rows: every opener before every phrasing, the first ``n_train``
    phrasings of each topic for training and the rest held out."""
    train: list[tuple[str, str]] = []
    test: list[tuple[str, str]] = []
    for topic, phrasings in topics.items():
        for opener, phrase in itertools.product(OPENERS, phrasings):
            rows = train if phrase in phrasings[:n_train] else test
            rows.append((opener + phrase, topic))
    return train, test
