"""The help reply: `/csp help`, everything or one command, admin lines apart."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block

from bot.slack.blocks import context, header, section
from bot.text.help import HELP, HelpLine
from bot.text.mrkdwn import esc


def build_help_blocks(*, is_admin: bool, topic: str | None = None) -> list[Block]:
    lines: Sequence[HelpLine] = HELP
    if topic:
        lines = [h for h in HELP if h.command == topic] or HELP
    general = [h for h in lines if not h.admin_only]
    admin = [h for h in lines if h.admin_only]
    blocks: list[Block] = [header("Community Safety Partnership bot")]
    if general:
        blocks.append(section("\n".join(map(_help_entry, general))))
    if admin:
        title = "*For partnership admins*" if is_admin else "*For partnership admins* (not you)"
        blocks.append(section(title + "\n" + "\n".join(map(_help_entry, admin))))
    blocks.append(
        context(
            "Objectives can be named loosely: any case, the start of the name, initials "
            "(`dhr`, `fgm`, `cse`) or with small typos. Try `/csp due` to see what needs "
            "doing next."
        )
    )
    return blocks


def _help_entry(line: HelpLine) -> str:
    example = f" For example: `{esc(line.example)}`" if line.example else ""
    return f"`{esc(line.usage)}`\n      {esc(line.description)}{example}"


def help_text() -> str:
    return "Here are the /csp commands. Try `/csp due` to see what needs doing next."
