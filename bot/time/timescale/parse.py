"""Read the plan's free-text "Timescale" column into dates and recurrence rules.

``parse_timescale`` never raises and never loses the text it was given: what it
reads becomes milestones (one-off dates), recurrences (RFC 5545 RRULEs read by
dateutil), meeting months (the month is known, the day is not) and an
``ongoing`` marker; what it cannot read sets ``flag`` with a sentence saying
what a person should check. ``unparsed`` means nothing dated was read at all.

Conventions:

* Dates are written the UK way: ``15/06/2016`` is 15 June.
* A month on its own ("April 2016") is due on the last working day of that
  month by default (``deadline_day`` chooses otherwise).
* "Q1 2017/18" is the first quarter of the financial year (due end of June
  2017); "Q1 2017" names no financial year, so it keeps the earlier reading,
  the calendar quarter (due end of March 2017), and asks which is meant.
  "Q4 2024 to 2025" is a quarter of the financial year 2024/25.
* A month with no year falls in the plan year (``reference_year`` is its first
  year): "January" in a 2025/26 plan is January 2026; the flag says so.
* Dates in an "Ongoing ..." text are milestones of ongoing work; other dates
  are deadlines; months in a "... meetings ..." text are meeting months.

The parser works in two passes: the text is split into tokens (dates, months,
years, quarters, words, punctuation), then one walk over the tokens collects
months until a year resolves them, reads "for <Body>" phrases, and notes
frequency words; anything left over is reported in the flag.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from bot.time.timescale import deadlines, recurring
from bot.time.timescale.bodies import meeting_bodies
from bot.time.timescale.cadence import except_years, read_cadence, split_except
from bot.time.timescale.duedates import DeadlineDay
from bot.time.timescale.forms import Context, fy_label, read_form
from bot.time.timescale.lexicon import DATE_KINDS, MEETING_SPLIT, MONTH_NAMES, normalise, tokenize
from bot.time.timescale.meetings import in_body_order, meeting_slots
from bot.time.timescale.model import MeetingSlot, Milestone, MilestoneKind, Recurrence, Timescale
from bot.time.timescale.state import Pending, Walk
from bot.time.timescale.walk import resolve_pending, walk_tokens
from bot.time.timescale.wording import drop_description
from bot.time.workdays import WorkingCalendar, default_calendar

# The flag set when reading failed unexpectedly (the row is still kept, verbatim).
PARSER_FAILURE_FLAG = "This timescale could not be read. Please set a date, e.g. 'April 2027'."

_T = TypeVar("_T")


def _dedupe(values: Sequence[_T]) -> tuple[_T, ...]:
    seen: list[_T] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return tuple(seen)


def _quote(words: Sequence[str]) -> str:
    text = " ".join(words)
    return f"'{text[:80]}…'" if len(text) > 80 else f"'{text}'"


def _read(clean: str, walk: Walk) -> tuple[bool, list[str]]:
    """Walk the text's tokens; whether it is a meeting text, and the bodies that meet."""
    split = MEETING_SPLIT.search(clean)
    if split is None:
        walk_tokens(tokenize(clean), walk)
        return False, []
    prefix = tokenize(clean[: split.start()])
    rest = tokenize(clean[split.end() :])
    if any(t.kind in DATE_KINDS for t in prefix):
        walk_tokens([*prefix, *rest], walk)
        return True, []
    bodies = meeting_bodies(prefix, walk)
    walk_tokens(rest, walk)
    return True, bodies


def _parse(
    text: str,
    cal: WorkingCalendar,
    policy: DeadlineDay,
    reference_year: int | None,
) -> Timescale:
    clean = normalise(text)
    if not clean:
        return Timescale(
            original=text,
            unparsed=True,
            flag="No timescale given: add a date, a month such as 'April 2027' or 'Ongoing'.",
            deadline_day=policy,
        )

    core, excluded = split_except(clean)
    core = drop_description(core)
    context = Context(text, reference_year, policy, cal)
    form = read_cadence(core, context) or read_form(core, context)
    if form is not None:
        split = tuple(r for rec in form.recurrences for r in except_years(rec, excluded))
        return form.model_copy(update={"recurrences": split})

    walk = Walk()
    meeting, bodies = _read(core, walk)

    milestones: list[Milestone] = []
    recurrences: list[Recurrence] = []
    meetings: list[MeetingSlot] = []
    problems = list(walk.problems)

    # months still waiting for a year
    if walk.pending:
        if walk.yearly:
            recurrences.extend(
                recurring.yearly_without_year(
                    walk.pending, walk.current_body, bodies, reference_year, policy, problems
                )
            )
        elif reference_year is not None:
            missing = ", ".join(_pending_words(walk.pending))
            # the plan year: "January" in a 2025/26 plan is January 2026, never before it began
            plan = fy_label(reference_year)
            problems.append(f"no year given for {missing}; the plan year {plan} was assumed")
            resolve_pending(walk, reference_year, reference_year, plan)
        else:
            missing = ", ".join(_pending_words(walk.pending))
            problems.append(f"no year given for {missing}")
        walk.pending.clear()

    kind: MilestoneKind = deadlines.milestone_kind(walk, meeting)
    start, period_label, period_body = recurring.take_run_start(walk)

    for item in walk.items:
        if item.year_only:
            problems.append(f"only a year was given ('{item.label}'); the end of it was assumed")
        if walk.yearly:
            recurrences.extend(recurring.yearly(item, bodies, reference_year, policy))
            continue
        if meeting and item.day is None and not item.year_only:
            meetings.extend(meeting_slots(item, bodies))
            continue
        milestones.extend(deadlines.milestones(item, bodies, kind, policy, cal))

    recurrences.extend(
        recurring.runs(walk, start, period_label, period_body, bodies, reference_year, policy)
    )
    if walk.yearly and not recurrences:
        problems.append("it says 'annually' but not when in the year (in which month is it due?)")
    if excluded:
        recurrences = [r for rec in recurrences for r in except_years(rec, excluded)]

    if meeting and bodies:
        in_body_order(meetings, bodies)

    result_milestones = _dedupe(milestones)
    result_recurrences = _dedupe(recurrences)
    result_meetings = _dedupe(meetings)
    has_anything = bool(walk.ongoing or result_milestones or result_recurrences or result_meetings)

    if walk.tbc:
        problems.insert(0, "it is marked 'to be confirmed'")
    if walk.asap:
        problems.insert(0, "'as soon as possible' is not a date")
    if walk.leftovers:
        problems.append(f"could not read {_quote(walk.leftovers)}")
    flag = _flag_sentence(problems, has_anything) if problems or not has_anything else None

    return Timescale(
        original=text,
        ongoing=walk.ongoing,
        milestones=result_milestones,
        recurrences=result_recurrences,
        meetings=result_meetings,
        unparsed=not has_anything,
        flag=flag,
        deadline_day=policy,
        cadence="yearly" if walk.yearly and not result_recurrences else None,
    )


def _pending_words(pending: Sequence[Pending]) -> list[str]:
    words: list[str] = []
    for p in pending:
        if p.quarter is not None:
            words.append(f"Q{p.quarter}")
        elif p.day is not None:
            words.append(f"{p.day} {MONTH_NAMES[p.month - 1]}")
        else:
            words.append(MONTH_NAMES[p.month - 1])
    return words


def _flag_sentence(problems: Sequence[str], has_anything: bool) -> str:
    detail = "; ".join(problems) if problems else "no date could be read"
    detail = detail[:1].upper() + detail[1:]
    if has_anything:
        return f"{detail}. Please check the dates read from this timescale."
    return (
        f"{detail}. Please set a date, e.g. '31 March 2027', 'April 2027', "
        "'31 March annually' or 'Ongoing'."
    )


def parse_timescale(
    text: str,
    *,
    calendar: WorkingCalendar | None = None,
    deadline_day: DeadlineDay = "last_working_day",
    reference_year: int | None = None,
) -> Timescale:
    """Read a Timescale cell. Never raises; ``original`` is always ``text`` unchanged.

    ``reference_year`` is the first year of the plan year (2025 for 2025/26), assumed for
    texts that name none ("31 March annually" starts then; defaults to 1970 so any window
    has occurrences).
    """
    cal = calendar or default_calendar()
    try:
        return _parse(text, cal, deadline_day, reference_year)
    except Exception:  # a last resort: a plan row must never be lost to a parser bug
        return Timescale(
            original=text,
            unparsed=True,
            flag=PARSER_FAILURE_FLAG,
            deadline_day=deadline_day,
        )
