"""A keyword baseline: the strawman every benchmark prints next to the real detector.

It is a strawman **by design**. It counts messages that contain a textbook grooming keyword (age
questions, secrecy, meeting, moving apps, sexual words, gifts) and nothing else: no context, no
direction (who asks whom), no negation. It therefore flags the benign chats full of "our secret" and
"meet me" and misses grooming in slang, which is exactly what a learned detector must do better than.
Issue 2 measured keyword rules at ROC-AUC 0.38 on hand-written look-alikes (chance is 0.5). Never ship
it as a detector.

Score after message n (1-based) = (number of the first n messages with at least one keyword) / n,
a running fraction kept with two counters, so streaming costs O(1) per message besides one regex scan
of the (normalised, length-capped) message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from safeguarding.detection.features import normalise

__all__ = ["DEFAULT_KEYWORDS", "KeywordBaseline"]

DEFAULT_KEYWORDS: tuple[str, ...] = (
    # information gathering: age, location, who is home
    "how old are you",
    "how old r u",
    "asl",
    "what grade",
    "are you alone",
    "home alone",
    "parents home",
    "where do you live",
    # secrecy and isolation
    "our secret",
    "our little secret",
    "keep a secret",
    "don't tell",
    "dont tell",
    "delete this",
    "delete the messages",
    # meeting
    "meet",
    "meet up",
    "come over",
    "pick you up",
    # off platform
    "snapchat",
    "kik",
    "whatsapp",
    "telegram",
    "text me",
    "your number",
    "phone number",
    "webcam",
    "cam",
    # sexualisation
    "sex",
    "sexy",
    "naked",
    "nude",
    "nudes",
    "horny",
    "kiss",
    "virgin",
    "bra",
    "panties",
    "underwear",
    "touch yourself",
    "send pics",
    "send a pic",
    # gifts
    "gift card",
    "robux",
    "v-bucks",
    "vbucks",
    "buy you",
)
"""Phrases matched as whole words (or word sequences) in lower-cased, normalised text."""


class KeywordBaseline:
    """Running fraction of messages containing a grooming keyword. Stateless between calls.

    ``keywords`` are matched case-insensitively as whole words after
    :func:`~safeguarding.detection.features.normalise` (so ``MEEEET`` matches ``meet``); the phrase's
    inner spaces match any run of whitespace.
    """

    def __init__(self, keywords: Iterable[str] = DEFAULT_KEYWORDS) -> None:
        self.keywords = tuple(keywords)
        # Longest first so that the reported hit is the most specific phrase.
        alternatives = sorted(
            {" ".join(k.lower().split()) for k in self.keywords} - {""}, key=len, reverse=True
        )
        if not alternatives:
            raise ValueError("KeywordBaseline needs at least one non-blank keyword")
        body = "|".join(r"\s+".join(map(re.escape, k.split())) for k in alternatives)
        self._pattern = re.compile(rf"(?<!\w)(?:{body})(?!\w)")

    def hits(self, text: str) -> tuple[str, ...]:
        """The keywords found in one message, in order of appearance (non-overlapping)."""
        return tuple(" ".join(m.group(0).split()) for m in self._pattern.finditer(normalise(text)))

    def has_keyword(self, text: str) -> bool:
        return self._pattern.search(normalise(text)) is not None

    def score_stream(self, texts: Sequence[str]) -> list[float]:
        """Score after each message: fraction of messages so far with at least one keyword."""
        out: list[float] = []
        with_keyword = 0
        for n, text in enumerate(texts, start=1):
            with_keyword += self.has_keyword(text)
            out.append(with_keyword / n)
        return out

    def score_author(self, texts: Sequence[str]) -> float:
        """Fraction of an author's messages with a keyword (0.0 for no messages)."""
        if not texts:
            return 0.0
        return sum(self.has_keyword(t) for t in texts) / len(texts)

    def first_alert(self, texts: Sequence[str], threshold: float, min_messages: int = 1) -> int | None:
        """0-based index of the first message after which the running score is ``>= threshold``
        with at least ``min_messages`` messages read; None if it never is. Uses no later message."""
        with_keyword = 0
        for n, text in enumerate(texts, start=1):
            with_keyword += self.has_keyword(text)
            if n >= min_messages and with_keyword / n >= threshold:
                return n - 1
        return None
