"""Words around a timescale that do not change its meaning: leading verbs and trailing words.

"Complete by 14 Feb 2026", "Protocol agreed and in place by May 2025", "September 2026
launch": the date is the timescale; the rest describes the action. Words that change the
meaning ("within", "after", "subject to", "provisional", ...) are never dropped, and a text
naming a body ("for Essex Police"), a cadence or a start keeps all of its words.
"""

from __future__ import annotations

import re

from bot.time.timescale.forms import MON
from bot.time.timescale.lexicon import looks_like_month

# Where the date part of a text begins: a digit, a month, a quarter, a season, "year 2".
_DATEISH = re.compile(
    rf"(?<![\w'’])(?:\d|{MON}(?![a-z])|q[1-4]\b|quarter\s+[1-4]\b|spring\b|summer\b|autumn\b"
    r"|winter\b|year\s+[1-5]\b|endof\b|within\b)",
    re.I,
)
# Words that change what a date means, or that other readers need to see.
_KEEP_WORDS = """
    within after following before prior subject depending dependent dependant if unless
    provisional provisionally tentative tentatively tbc tba tbd approx approximately circa
    around about possibly hopefully not no later earlier until till except
    ongoing continuous continuing annually annual yearly quarterly monthly weekly every each
    per from commence commencing commences starting start starts begin beginning onwards
    onward meeting meetings for sixmonthly bimonthly threeyearly twoyearly fortnightly asap
    when once upon w c wc between early mid beginning ca
    one two three four five six seven eight nine ten twelve
    """
_KEEP = frozenset(_KEEP_WORDS.split())
_TAIL_WORDS = """
    launch launched deadline target latest at the completion complete completed final date
    go live golive
    """
_TAIL_OK = frozenset(_TAIL_WORDS.split())
_TAIL_REFERENCE = re.compile(r"^(?:as\s+per|in\s+line\s+with|in\s+accordance\s+with)\b", re.I)


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+", text.lower())


def drop_description(text: str) -> str:
    """``text`` without the action words before its date and harmless words after it."""
    first = _DATEISH.search(text)
    if first is None:
        return text
    lead, rest = text[: first.start()], text[first.start() :]
    lead_words = _words(lead)
    misspelt = any(looks_like_month(word) for word in lead_words)
    if lead_words and not (_KEEP & set(lead_words)) and not misspelt and not re.search(r"\d", lead):
        text = rest.strip()
    found = list(re.finditer(rf"(?:\d+(?:st|nd|rd|th)?|{MON}(?![a-z]))", text, re.I))
    if not found:
        return text.strip()
    last = found[-1]
    head, tail = text[: last.end()], text[last.end() :]
    tail_clean = tail.strip(" .,;:()-–")
    if not tail_clean:
        return head.strip()
    if _TAIL_REFERENCE.match(tail_clean):
        return head.strip()
    tail_words = _words(tail_clean)
    if tail_words and set(tail_words) <= _TAIL_OK and not re.search(r"\d", tail_clean):
        return head.strip()
    return text.strip()
