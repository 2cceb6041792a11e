"""Timescale words: month names, cadence and filler words, the token regex and the tokeniser."""

from __future__ import annotations

import calendar as _calendar
import difflib
import re
from dataclasses import dataclass
from typing import Literal, cast

MONTH_NAMES = tuple(_calendar.month_name[m] for m in range(1, 13))

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}

_TOKEN = re.compile(
    r"""
    (?P<iso>\b(?:19|20)\d{2}-\d{1,2}-\d{1,2}\b)
  | (?P<numeric>\b\d{1,2}[/.-]\d{1,2}[/.-](?:(?:19|20)\d{2}|\d{2})\b)
  | (?P<fy>\b(?:19|20)\d{2}\s?[/-]\s?(?:\d{2}|(?:19|20)\d{2})\b)
  | (?P<year>\b(?:19|20)\d{2}\b)
  | (?P<quarter>\bq[1-4]\b)
  | (?P<day>\b\d{1,2}(?:st|nd|rd|th)?\b)
  | (?P<month>\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?
        |aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?)
  | (?P<number>\d+(?:st|nd|rd|th)?)
  | (?P<word>[^\W\d_][\w'’&-]*)
  | (?P<other>\S)
    """,
    re.IGNORECASE | re.VERBOSE,
)

TokenKind = Literal[
    "iso", "numeric", "fy", "year", "quarter", "day", "month", "number", "word", "other"
]


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str

    @property
    def low(self) -> str:
        return self.text.lower()


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        assert kind is not None
        tokens.append(Token(cast(TokenKind, kind), match.group()))
    return tokens


# Phrases rewritten to one keyword before tokenising (the original text is kept).
_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), keyword)
    for pattern, keyword in (
        (r"(\d{1,2})\s+(st|nd|rd|th)\b", r"\1\2"),
        (r"\b(mid|early|late)-(?=[a-z])", r"\1 "),
        (r"\bon[- ]going\b", "ongoing"),
        # "Q3 24/25": a quarter of the financial year 2024/25
        (r"\b(q[1-4])\s+([0-9]{2})\s?/\s?([0-9]{2})\b", r"\1 20\2/\3"),
        # "Q4 23/24 to Q1 24/25": a window of quarters is due at its end
        (r"\bq[1-4]\s+20[0-9]{2}/[0-9]{2}\s+(?:to|-|–)\s+(?=q[1-4]\s)", ""),
        # "Apr-28", "Mar-27": Excel's Mmm-yy is a month and a year, not a day
        (
            r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*(?:[-’'‘]|\s[’'‘])(\d{2})\b"
            r"(?![-/.]\d)",
            r"\1 20\2",
        ),
        (
            r"\b(?:six|6)[- ]?monthly\b|\btwice[- ](?:a\s+|per\s+)?year(?:ly)?\b"
            r"|\bbi-?annual(?:ly)?\b|\bhalf[- ]?yearly\b|\bevery\s+(?:six|6)\s+months\b",
            " sixmonthly ",
        ),
        (
            r"\bbi-?monthly\b|\bevery\s+(?:two|2|other)\s+months?\b|\btwo[- ]monthly\b",
            " bimonthly ",
        ),
        (r"\bevery\s+(?:three|3)\s+months\b|\b(?:three|3)[- ]monthly\b", " quarterly "),
        (
            r"\bevery\s+(?:three|3)\s+years\b|\btriennial(?:ly)?\b|\bthree[- ]yearly\b",
            " threeyearly ",
        ),
        (r"\bevery\s+(?:two|2|other)\s+years?\b|\bbiennial(?:ly)?\b", " twoyearly "),
        (r"\b(?:every|each|per|a)\s+week\b", " weekly "),
        (r"\bevery\s+(?:two|2|other)\s+weeks?\b", " fortnightly "),
        (r"\b(?:each|every|per|a)\s+(?:year|annum)\b|\bper\s+annum\b", " annually "),
        (r"\b(?:each|every|per|a)\s+quarter\b", " quarterly "),
        (r"\b(?:each|every|per|a)\s+month\b", " monthly "),
        (r"\bas\s+soon\s+as\s+(?:possible|practicable)\b", " asap "),
        (r"\bto\s+be\s+(?:confirmed|agreed|decided|determined|arranged|set)\b", " tbc "),
        (r"\b(?:by\s+)?(?:the\s+)?end\s+of\b", " endof "),
    )
)


# "Q4 2024 to 2025": a quarter of the financial year written the GOV.UK way ("2024 to 2025")
_QUARTER_OF_FY_IN_WORDS = re.compile(
    r"\b(q[1-4])\s+((?:19|20)\d{2})\s+to\s+((?:19|20)\d{2})\b", re.IGNORECASE
)


def _quarter_of_fy(match: re.Match[str]) -> str:
    first, second = int(match[2]), int(match[3])
    if second != first + 1:
        return match[0]  # not one financial year: left for the walk to question
    return f"{match[1]} {first}/{second % 100:02d}"


def normalise(text: str) -> str:
    """``text`` with whitespace collapsed and known phrases rewritten to one keyword."""
    out = _QUARTER_OF_FY_IN_WORDS.sub(_quarter_of_fy, " ".join(text.split()))
    for pattern, keyword in _PHRASES:
        out = pattern.sub(keyword, out)
    return " ".join(out.split())


ONGOING = frozenset({"ongoing", "continuous", "continuing"})
YEARLY = frozenset({"annually", "annual", "yearly"})
QUARTERLY = frozenset({"quarterly"})
MONTHLY = frozenset({"monthly"})
TBC = frozenset({"tbc", "tba", "tbd"})
ASAP = frozenset({"asap", "immediately", "immediate", "urgent", "urgently"})
_MEETING = frozenset({"meeting", "meetings"})
_KEYWORDS = ONGOING | YEARLY | QUARTERLY | MONTHLY | TBC | ASAP | _MEETING | {"every", "endof"}
# Words that carry no date and need no checking ("meetings are programmed for ...").
_FILLER_WORDS = (
    "and or for the by in on at of from to until till are is be will programmed scheduled"
    " planned held due then thereafter onwards onward also starting commencing with activity"
)
FILLER = frozenset(_FILLER_WORDS.split())
IGNORED_MARKS = frozenset(",;:.()[]/&-–—!?'\"‘’“”*…")
# Small words allowed inside a body's name ("Council of the Isles", "Fire and Rescue").
BODY_JOINERS = {"of", "the", "and", "&", "for", "on", "in"}

# "... meetings ..." splits a text into the bodies that meet and their months.
MEETING_SPLIT = re.compile(r"\bmeetings?\b", re.IGNORECASE)
# Token kinds that carry a date (a text with one before "meetings" names no bodies there).
DATE_KINDS = {"iso", "numeric", "fy", "year", "quarter", "month"}


def _is_keyword(low: str) -> bool:
    return low in _KEYWORDS


def looks_like_name(token: Token) -> bool:
    return token.kind == "word" and token.text[:1].isupper() and not _is_keyword(token.low)


def looks_like_month(word: str) -> bool:
    cleaned = word.lower().strip(".,;:")
    names = [name.lower() for name in MONTH_NAMES]
    return len(cleaned) >= 3 and bool(difflib.get_close_matches(cleaned, names, n=1, cutoff=0.7))


def month_of(token: Token) -> int:
    return _MONTHS[token.low.rstrip(".")[:3]]


def day_of(token: Token) -> int:
    return int(re.sub(r"\D", "", token.text))
