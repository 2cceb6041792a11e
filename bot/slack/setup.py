"""Setup Block Kit: the `/csp setup` form and the confirmation of what is now set.

Pure: the current setup in, a modal or blocks out. Data written into mrkdwn goes
through :func:`bot.text.mrkdwn.esc`.
"""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    ConversationFilter,
    ConversationSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.ids import Ids
from bot.plan.setup import DAY_NAMES, NAME_MAX, SetupResult, SetupValues
from bot.text.mrkdwn import esc
from bot.time.policy import WEEKDAYS

# Digest times on offer: every half hour in the working day (no notice goes before 07:00).
DIGEST_TIMES = tuple(f"{h:02d}:{m:02d}" for h in range(7, 19) for m in (0, 30))[:-1]


def _option(text: str, value: str) -> Option:
    return Option(text=text, value=value)


def build_setup_modal(values: SetupValues, *, private_metadata: dict[str, Any]) -> View:
    """The form, filled in with the setup as it stands."""
    days = [_option(name, WEEKDAYS[i]) for i, name in enumerate(DAY_NAMES)]
    times = list(DIGEST_TIMES)
    if values.digest_time not in times:
        times.append(values.digest_time)
    time_options = [_option(t, t) for t in sorted(times)]
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=(
                    "These settings are kept by the bot and take effect at once; they "
                    "replace whatever the environment variables first set."
                )
            )
        ),
        InputBlock(
            block_id=Ids.SETUP_NAME,
            label="Partnership name",
            hint="As the digest and exports show it",
            element=PlainTextInputElement(
                action_id=Ids.SETUP_NAME,
                initial_value=values.name[:NAME_MAX] or None,
                max_length=NAME_MAX,
            ),
        ),
        InputBlock(
            block_id=Ids.SETUP_CHANNEL,
            label="Partnership channel",
            hint="Reminders, meeting notices and the weekly digest go here",
            element=ConversationSelectElement(
                action_id=Ids.SETUP_CHANNEL,
                initial_conversation=values.partnership_channel,
                filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
            ),
        ),
        InputBlock(
            block_id=Ids.SETUP_SAFEGUARDING,
            label="Safeguarding channel (optional)",
            optional=True,
            hint=(
                "A private channel only the safeguarding leads are in, for referral alerts; "
                "leave empty to alert each lead by direct message"
            ),
            element=ConversationSelectElement(
                action_id=Ids.SETUP_SAFEGUARDING,
                initial_conversation=values.safeguarding_channel,
                filter=ConversationFilter(include=["private"], exclude_bot_users=True),
            ),
        ),
        InputBlock(
            block_id=Ids.SETUP_DIGEST_DAY,
            label="Digest day",
            element=StaticSelectElement(
                action_id=Ids.SETUP_DIGEST_DAY,
                options=days,
                initial_option=days[WEEKDAYS.index(values.digest_day)],
            ),
        ),
        InputBlock(
            block_id=Ids.SETUP_DIGEST_TIME,
            label="Digest time",
            element=StaticSelectElement(
                action_id=Ids.SETUP_DIGEST_TIME,
                options=time_options,
                initial_option=_option(values.digest_time, values.digest_time),
            ),
        ),
        InputBlock(
            block_id=Ids.SETUP_ADMINS,
            label="Admins",
            hint="They manage the plan, owners, roles, meetings and this setup",
            element=UserMultiSelectElement(
                action_id=Ids.SETUP_ADMINS, initial_users=list(values.admins) or None
            ),
        ),
        InputBlock(
            block_id=Ids.SETUP_LEADS,
            label="Safeguarding leads",
            # Optional to Slack so that an empty list gets the bot's explanation.
            optional=True,
            hint="The only people who see and handle safeguarding referrals",
            element=UserMultiSelectElement(
                action_id=Ids.SETUP_LEADS, initial_users=list(values.leads) or None
            ),
        ),
    ]
    return View(
        type="modal",
        callback_id=Ids.SETUP_MODAL,
        title="Partnership setup",
        submit="Save",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps(private_metadata)[:3000],
    )


def _people(ids: tuple[str, ...]) -> str:
    return ", ".join(f"<@{esc(u)}>" for u in ids) if ids else "nobody"


def _channel(channel: str | None) -> str:
    return f"<#{esc(channel)}>" if channel else "none"


def setup_saved_text(result: SetupResult) -> str:
    """What is now set and what to do next, as mrkdwn lines."""
    v = result.values
    lines = [
        f":white_check_mark: *Setup saved for {esc(v.name)}.*",
        f"• Partnership channel: {_channel(v.partnership_channel)}",
        "• Safeguarding channel: "
        + (
            _channel(v.safeguarding_channel)
            if v.safeguarding_channel
            else "none, so referral alerts go to each lead by direct message"
        ),
        f"• Weekly digest: {esc(v.digest_label)}",
        f"• Admins: {_people(v.admins)}",
        f"• Safeguarding leads: {_people(v.leads)}",
        "",
        "*Next:*",
    ]
    channels = [c for c in (v.partnership_channel, v.safeguarding_channel) if c]
    lines.append(
        "• Invite the bot to "
        + " and ".join(_channel(c) for c in channels)
        + " (`/invite @csp-bot` in each), or its posts there will fail."
    )
    if result.channel_changed:
        lines.append(
            "• Anything already overdue goes to the partnership channel as one summary at "
            "the next reminder time; after that each item is chased on its own."
        )
    lines.append("• Type `/csp digest` to preview the digest, and `/csp due` to see what is due.")
    return "\n".join(lines)


def build_setup_saved_modal(result: SetupResult) -> dict[str, Any]:
    view = View(
        type="modal",
        title="Setup saved",
        close="Close",
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=setup_saved_text(result))),
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text="Change any of this again with `/csp setup`. The environment "
                        "variables no longer override these settings."
                    )
                ]
            ),
        ],
    )
    built: dict[str, Any] = view.to_dict()
    return built
