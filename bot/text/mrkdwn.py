"""Slack mrkdwn escaping: the one place that knows Slack's control characters."""

from __future__ import annotations


def esc(text: str) -> str:
    """``text`` made safe inside mrkdwn (and message ``text`` fallbacks): ``&``, ``<``
    and ``>`` escaped, so data can never become a mention, a link or a ping."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def esc_code(text: str) -> str:
    """``text`` made safe inside an inline code span: escaped, and backticks (which
    would end the span) shown as plain quotes."""
    return esc(text).replace("`", "'")
