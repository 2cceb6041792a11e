"""`/csp` text -> a command object, or a UsageError carrying the right usage line.

Pure: no Slack, no database. Slack sends the text with "escape channels, users and
links" on, so users arrive as ``<@U123|name>`` or ``<@U123>``; plain ``U123`` ids
work too.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bot.errors import UsageError
from bot.text.dates import impossible_date, looks_like_time, parse_date, parse_time
from bot.text.due_words import DEFAULT_DUE_DAYS, Period, parse_due_words
from bot.text.help import USAGE, suggest_command
from bot.text.mentions import mention_id, plain_text
from bot.text.mrkdwn import esc_code
from bot.text.numbers import whole_number
from bot.text.owner_words import OwnerMode, parse_owner_words

RagWord = Literal["red", "amber", "green"]
RoleWord = Literal["admin", "lead", "member"]

NOTE_MAX = 3000  # the longest progress note, typed or in the form


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True)


class Help(_Command):
    topic: str | None = None


class PlanList(_Command):
    page: int = 1


class Show(_Command):
    query: str


class Due(_Command):
    """How far ahead: ``days``, or ``months``, or a named ``period`` (see due_words)."""

    days: int = DEFAULT_DUE_DAYS
    months: int = 0
    period: Period | None = None


class Meetings(_Command):
    pass


class Progress(_Command):
    query: str
    rag: RagWord | None = None
    done: bool = False
    note: str = ""


class ProgressForm(_Command):
    pass


class Owner(_Command):
    """Set (replace), add or remove owners: every person named is applied."""

    query: str
    user_ids: tuple[str, ...]
    mode: OwnerMode = "set"


class SetRole(_Command):
    user_id: str
    role: RoleWord


class Digest(_Command):
    pass


class Refer(_Command):
    pass


class Referrals(_Command):
    pass


class CalendarLink(_Command):
    pass


class Report(_Command):
    quarter: str | None = None  # as typed, e.g. "2026Q3"; None: the current quarter


class Setup(_Command):
    pass


class Meeting(_Command):
    body: str
    date: dt.date
    time: dt.time | None = None
    place: str | None = None


Command = (
    Help
    | PlanList
    | Show
    | Due
    | Meetings
    | Progress
    | ProgressForm
    | Owner
    | SetRole
    | Digest
    | Refer
    | Referrals
    | Meeting
    | CalendarLink
    | Report
    | Setup
)

# ------------------------------------------------------------------------- helpers

_SEPARATORS = (" : ", ": ", " - ", " – ", " — ", " | ")
_STATUS_WORDS = {"red": "red", "amber": "amber", "green": "green", "done": "done"}


def _usage(command: str, message: str) -> UsageError:
    return UsageError(message, USAGE[command])


def _unquote(query: str) -> str:
    query = query.strip()
    for left, right in (('"', '"'), ("“", "”"), ("'", "'")):
        if len(query) >= 2 and query.startswith(left) and query.endswith(right):
            return query[1:-1].strip()
    return query


# -------------------------------------------------------------------------- parser


def parse_command(text: str) -> Command:
    """Parse what followed ``/csp``; raises UsageError with the usage to show."""
    text = (text or "").strip()
    if not text:
        return Help()
    head, _, rest = text.partition(" ")
    word = head.strip().lower()
    rest = rest.strip()
    if word in {"help", "?", "-h", "--help"}:
        return _parse_help(rest)
    if word in {"plan", "list"}:
        return _parse_plan(rest)
    if word in {"show", "objective"}:
        return _parse_show(rest)
    if word == "due":
        return _parse_due(rest)
    asked = _WHAT_IS_DUE.match(" ".join(text.lower().split()))
    if asked:  # "what is due", "what's due this week", "whats coming up"
        return _parse_due(asked.group(1))
    if word in {"meetings"}:
        if rest:
            raise _usage("meetings", "`/csp meetings` takes nothing after it.")
        return Meetings()
    if word in {"progress", "update", "log"}:
        return _parse_progress(rest)
    if word == "owner":
        return _parse_owner(rest)
    if word == "role":
        return _parse_role(rest)
    if word == "digest":
        return Digest()
    if word == "refer":
        return Refer()
    if word == "referrals":
        return Referrals()
    if word == "meeting":
        return _parse_meeting(rest)
    if word in {"calendar", "ical", "ics"}:
        if rest:
            raise _usage("calendar", "`/csp calendar` takes nothing after it.")
        return CalendarLink()
    if word in {"report", "pack"}:
        return _parse_report(rest)
    if word in {"setup", "settings", "configure"}:
        if rest:
            raise _usage("setup", "`/csp setup` takes nothing after it: it opens a form.")
        return Setup()
    shown = esc_code(plain_text(head)[:40])
    guess = suggest_command(word)
    hint = f" Did you mean `/csp {guess}`?" if guess else ""
    usage = USAGE.get(guess, "/csp help") if guess else "/csp help"
    raise UsageError(f"I don't know the command `{shown}`.{hint}", usage)


_HELP_ALIASES = {"list": "plan", "objective": "show", "update": "progress", "log": "progress"}


def _parse_report(rest: str) -> Report:
    """The quarter is kept as typed; the report handler reads it (``bot.time.quarters``)."""
    return Report(quarter=plain_text(rest).strip() or None)


def _parse_help(rest: str) -> Help:
    topic = plain_text(rest).lower().removeprefix("/csp").strip()
    if not topic:
        return Help()
    topic = _HELP_ALIASES.get(topic, topic)
    if topic in USAGE:
        return Help(topic=topic)
    shown = esc_code(topic[:40])
    guess = suggest_command(topic)
    hint = f" Did you mean `/csp help {guess}`?" if guess else ""
    raise UsageError(f"`{shown}` is not a /csp command.{hint}", USAGE["help"])


def check_note(note: str) -> str:
    """``note`` if it fits; otherwise a UsageError saying the limit and the length."""
    if len(note) > NOTE_MAX:
        raise _usage(
            "progress",
            f"That note is {len(note):,} characters; please keep it to {NOTE_MAX:,} or "
            "fewer (put the rest in a document and link to it).",
        )
    return note


def _parse_plan(rest: str) -> PlanList:
    if not rest:
        return PlanList()
    page = whole_number(rest)
    if page == 0:
        raise _usage("plan", "Pages start at 1: type `/csp plan` or `/csp plan 1`.")
    if page is not None and page < 10_000:
        return PlanList(page=page)
    raise _usage("plan", "The page must be a number, like `/csp plan 2`.")


def _parse_show(rest: str) -> Show:
    query = _unquote(plain_text(rest))
    if not re.search(r"\w", query):
        raise _usage(
            "show",
            "Which objective? Type a few letters of its name or its initials, like "
            "`/csp show dhr`, or `/csp plan` to see them all.",
        )
    return Show(query=query)


def _parse_due(rest: str) -> Due:
    words = parse_due_words(rest)
    return Due(days=words.days, months=words.months, period=words.period)


_WHAT_IS_DUE = re.compile(r"^(?:what|whats|what's)\s*(?:is|are|'s)?\s+(?:due|coming up)\b(.*)$")


def _parse_progress(rest: str) -> Progress | ProgressForm:
    text = plain_text(rest)
    if not text:
        return ProgressForm()
    query, status, note = _split_status(text)
    check_note(note)
    if not query:
        raise _usage("progress", "Which objective? Put its name before the status.")
    if status is None and not note:
        # "dhr Panel booked": a note with no RAG change. Where the objective's name
        # ends is decided against the plan (bot.text.matching.split_objective).
        return Progress(query=query)
    if status == "done":
        return Progress(query=query, done=True, note=note)
    rag: RagWord | None = None
    if status == "red":
        rag = "red"
    elif status == "amber":
        rag = "amber"
    elif status == "green":
        rag = "green"
    return Progress(query=query, rag=rag, note=note)


def misspelt_status(note: str) -> str | None:
    """The status word a note's first word looks like a slip for ("gren" -> "green"),
    so "/csp progress dhr gren Panel met" is not quietly saved as a note. Only words of
    four letters or more one edit away count, so ordinary words are left alone."""
    first = note.split(" ", 1)[0].lower().strip(".,:;-")
    if len(first) < 4 or first in _STATUS_WORDS:
        return None
    for word in ("amber", "green", "done"):
        if _one_edit_apart(first, word):
            return word
    return None


def _one_edit_apart(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diffs) == 1 or (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]]
            and a[diffs[1]] == b[diffs[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _split_status(text: str) -> tuple[str, str | None, str]:
    """(objective, status word or None, note) from free progress text."""
    quoted = re.match(r'^\s*["“]([^"”]+)["”]\s*(.*)$', text, re.DOTALL)
    if quoted:
        query, tail = quoted.group(1).strip(), quoted.group(2).strip()
        first, _, after = tail.partition(" ")
        status = _STATUS_WORDS.get(first.lower().strip(".,:;-"))
        if status:
            return query, status, after.strip()
        return query, None, tail.lstrip(":-–—| ").strip()
    tokens = text.split(" ")
    for index, token in enumerate(tokens):
        if index == 0:
            continue
        status = _STATUS_WORDS.get(token.lower().strip(".,:;-"))
        if status:
            query = " ".join(tokens[:index]).strip(" :-–—|")
            return query, status, " ".join(tokens[index + 1 :]).strip()
    for separator in _SEPARATORS:
        if separator in text:
            query, _, note = text.partition(separator)
            return query.strip(), None, note.strip()
    return text.strip(), None, ""


def _parse_owner(rest: str) -> Owner:
    words = parse_owner_words(rest)
    return Owner(query=words.query, user_ids=words.user_ids, mode=words.mode)


def _parse_role(rest: str) -> SetRole:
    parts = rest.split()
    if len(parts) != 2:
        raise _usage("role", "Give the person and then the role.")
    user_id = mention_id(parts[0])
    role = parts[1].lower()
    if user_id is None:
        raise _usage("role", "Start with the person as an @mention (pick them from Slack's list).")
    if role == "admin":
        return SetRole(user_id=user_id, role="admin")
    if role == "lead":
        return SetRole(user_id=user_id, role="lead")
    if role == "member":
        return SetRole(user_id=user_id, role="member")
    raise _usage("role", "The role must be admin, lead or member.")


def _parse_meeting(rest: str) -> Meeting:
    text = plain_text(rest)
    place: str | None = None
    if " at " in text:
        before, _, after = text.rpartition(" at ")
        if parse_time(after) is None and after.strip():
            text, place = before.strip(), after.strip()
    tokens = text.split()
    start: dt.time | None = None
    if tokens and parse_time(tokens[-1]) is not None:
        start = parse_time(tokens[-1])
        tokens = tokens[:-1]
    for width in (3, 1):
        if len(tokens) > width:
            when = parse_date(" ".join(tokens[-width:]))
            if when is not None:
                body = _unquote(" ".join(tokens[:-width]))
                if not body.strip(" \"'“”"):
                    raise _usage(
                        "meeting", "Which body is meeting? Put its name or initials first."
                    )
                return Meeting(body=body, date=when, time=start, place=place)
    bad = impossible_date(tokens)
    if bad is not None:
        raise _usage(
            "meeting",
            f"`{esc_code(bad)}` is not a real date. Write the date with its year, like "
            "2027-03-14 or 14 March 2027.",
        )
    if tokens and looks_like_time(tokens[-1]) and parse_time(tokens[-1]) is None:
        raise _usage(
            "meeting",
            f"`{esc_code(tokens[-1])}` is not a time of day. Write it like 10:00, 14:30 or 2pm.",
        )
    raise _usage(
        "meeting",
        "Give the body, then the date with its year (like 2027-03-14 or 14 March 2027), "
        "then the time if you know it.",
    )
