"""/csp help: one line per command (usage, description, example), and the nearest command."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein


@dataclass(frozen=True)
class HelpLine:
    command: str
    usage: str
    description: str
    admin_only: bool = False
    example: str = ""  # a command that works as typed against the plan


HELP: tuple[HelpLine, ...] = (
    HelpLine("help", "/csp help [command]", "Show this list, or the help for one command."),
    HelpLine(
        "plan",
        "/csp plan [page]",
        "The plan: every objective with its RAG and next date.",
        example="/csp plan",
    ),
    HelpLine(
        "show",
        "/csp show <objective>",
        "One objective: action, owners, schedule and the last five updates.",
        example="/csp show dhr",
    ),
    HelpLine(
        "due",
        "/csp due [days]",
        "What is overdue and what is due soon (default 30 days).",
        example="/csp due 90",
    ),
    HelpLine("meetings", "/csp meetings", "Upcoming meetings, by body."),
    HelpLine(
        "progress",
        "/csp progress [<objective> [red|amber|green|done] <note>]",
        "Log progress: a RAG status, done, or just a note; with nothing after it, opens a form.",
        example="/csp progress dhr amber Panel booked for 3 March",
    ),
    HelpLine("digest", "/csp digest", "Preview this week's digest (only you see it)."),
    HelpLine("refer", "/csp refer", "Make a safeguarding referral (opens a private form)."),
    HelpLine("referrals", "/csp referrals", "Open referrals (safeguarding leads only)."),
    HelpLine(
        "owner",
        "/csp owner <objective> @user",
        "Set who owns an objective.",
        admin_only=True,
        example="/csp owner dhr @sam",
    ),
    HelpLine(
        "role",
        "/csp role @user admin|lead|member",
        "Change someone's role. *admin*: manages the plan, owners, roles and meetings; "
        "*lead*: a safeguarding lead, who sees and handles referrals; *member*: logs "
        "progress and sees the plan.",
        admin_only=True,
        example="/csp role @sam lead",
    ),
    HelpLine(
        "meeting",
        "/csp meeting <body> <date> [time] [at <place>]",
        "Set or move the date of a body's meeting. Name the body loosely: its initials "
        "(RAG, OCB), the start of its name, or in quotes.",
        admin_only=True,
        example="/csp meeting RAG 2027-03-14 10:00 at Council Chamber",
    ),
    HelpLine(
        "setup",
        "/csp setup",
        "Set the partnership's name, its channel and safeguarding channel, the digest day "
        "and time, and who the admins and safeguarding leads are (opens a form).",
        admin_only=True,
    ),
)

USAGE: dict[str, str] = {line.command: line.usage for line in HELP}


def suggest_command(word: str) -> str | None:
    """The closest known subcommand to a mistyped one, if any is close."""
    if not word:
        return None
    names = [line.command for line in HELP]
    best = process.extractOne(word, names, scorer=Levenshtein.normalized_similarity)
    if best is not None and best[1] >= 0.5:
        return str(best[0])
    return None
