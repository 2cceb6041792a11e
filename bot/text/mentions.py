"""Slack's escaped command text: user mentions, links and channels read as plain text."""

from __future__ import annotations

import html
import re

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
_PLAIN_ID = re.compile(r"^[UW][A-Z0-9]{6,}$")
_LINK = re.compile(r"<((?:https?|mailto):[^>|]+)(?:\|([^>]*))?>")
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!([a-z]+)(?:\^[^>|]*)?(?:\|([^>]*))?>")


def mention_id(token: str) -> str | None:
    """The Slack user id in ``<@U123|name>``, ``<@U123>`` or a plain ``U123ABC``."""
    token = token.strip()
    found = _MENTION.fullmatch(token)
    if found:
        return found.group(1)
    if _PLAIN_ID.match(token):
        return token
    return None


def plain_text(text: str) -> str:
    """Slack's escaped command text as plain text: links become their URL, channel
    and user mentions their names (or ids), and &amp; &lt; &gt; are decoded."""
    text = _LINK.sub(lambda m: m.group(1), text)
    text = _CHANNEL.sub(lambda m: "#" + (m.group(2) or m.group(1)), text)
    text = _MENTION.sub(lambda m: "@" + (m.group(2) or m.group(1)), text)
    text = _SPECIAL.sub(lambda m: "@" + (m.group(2) or m.group(1)), text)
    return html.unescape(text).strip()
