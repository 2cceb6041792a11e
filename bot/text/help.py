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
        "/csp due [days | 2 weeks | this week | next month]",
        "What is overdue and what is due soon (default 30 days). Also "
        "`/csp due this week`, `/csp due 2 weeks` or `/csp what is due`.",
        example="/csp due 90",
    ),
    HelpLine("meetings", "/csp meetings", "Upcoming meetings, by body."),
    HelpLine(
        "progress",
        "/csp progress [<objective> [<action number>] [red|amber|green|done] <note>]",
        "Log progress: a RAG status, done, or just a note; with nothing after it, opens a form. "
        "For an objective with several actions, give the action's number after its name "
        "(prevent 2).",
        example="/csp progress dhr amber Panel booked for 3 March",
    ),
    HelpLine(
        "calendar",
        "/csp calendar",
        "The link to subscribe to the plan's deadlines and meetings in Outlook or Google "
        "Calendar (only you see it).",
        example="/csp calendar",
    ),
    HelpLine("digest", "/csp digest", "Preview this week's digest (only you see it)."),
    HelpLine("refer", "/csp refer", "Make a safeguarding referral (opens a private form)."),
    HelpLine("referrals", "/csp referrals", "Open referrals (safeguarding leads only)."),
    HelpLine(
        "owner",
        "/csp owner <objective> [<action number>] [add|remove] @user [and @user...]",
        "Set who owns an objective (replacing its owners), or add or remove some; "
        "with an action's number, only that action's. The reply lists the owners now.",
        admin_only=True,
        example="/csp owner dhr add @sam",
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
        "report",
        "/csp report [quarter]",
        "Make the quarterly scrutiny pack (a Word document) and send it to you by direct "
        "message. Name the quarter like 2026Q3 (Q1 is April to June); with none, the "
        "current quarter.",
        admin_only=True,
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
