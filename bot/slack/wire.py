"""Blocks as the JSON Slack receives, without slack_sdk's per-attribute validation.

slack_sdk's ``to_dict`` validates every attribute of every object each time a block is
sent, which costs more than building the reply itself (about 45 µs a block). The
shapes :mod:`bot.slack.blocks` builds (mrkdwn sections, optionally with a button,
context lines, headers, dividers) were already clipped to Slack's limits when they were
made, so :func:`to_wire` writes those directly and hands anything else to ``to_dict``
(which validates it). ``tests/bot/slack/test_wire.py`` checks the two agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

_LIMITS = {"section": 3000, "context": 3000, "header": 150, "button": 75}


def to_wire(blocks: Iterable[Block | dict[str, Any]]) -> list[dict[str, Any]]:
    """``blocks`` as dicts, the same as each block's ``to_dict()``."""
    out: list[dict[str, Any]] = []
    for block in blocks:
        if isinstance(block, dict):
            out.append(block)
            continue
        quick = _quick(block)
        out.append(quick if quick is not None else block.to_dict())
    return out


def _mrkdwn(obj: object, limit: int) -> dict[str, Any] | None:
    ok = type(obj) is MarkdownTextObject and obj.verbatim is None
    return _text(obj, "mrkdwn", limit) if ok else None


def _plain(obj: object, limit: int) -> dict[str, Any] | None:
    ok = type(obj) is PlainTextObject and obj.emoji is None
    return _text(obj, "plain_text", limit) if ok else None


def _text(obj: object, kind: str, limit: int) -> dict[str, Any] | None:
    text = getattr(obj, "text", None)
    if not isinstance(text, str) or not text or len(text) > limit:
        return None
    return {"type": kind, "text": text}


def _button(obj: object) -> dict[str, Any] | None:
    if type(obj) is not ButtonElement or obj.url or obj.confirm or obj.accessibility_label:
        return None
    text = _plain(obj.text, _LIMITS["button"])
    action_id, value, style = obj.action_id, obj.value, obj.style
    if text is None or not action_id or len(action_id) > 255:
        return None
    if value is not None and len(value) > 2000:
        return None
    if style not in (None, "primary", "danger"):
        return None
    found: dict[str, Any] = {"type": "button", "text": text, "action_id": action_id}
    if value is not None:
        found["value"] = value
    if style is not None:
        found["style"] = style
    return found


def _quick(block: Block) -> dict[str, Any] | None:
    """``block`` as a dict when it is one of the plain shapes we build, else None."""
    if block.block_id is not None:
        return None
    kind = type(block)
    if kind is SectionBlock:
        assert isinstance(block, SectionBlock)
        if block.fields:
            return None
        text = _mrkdwn(block.text, _LIMITS["section"])
        if text is None:
            return None
        found: dict[str, Any] = {"type": "section", "text": text}
        if block.accessory is not None:
            accessory = _button(block.accessory)
            if accessory is None:
                return None
            found["accessory"] = accessory
        return found
    if kind is ContextBlock:
        assert isinstance(block, ContextBlock)
        elements = [_mrkdwn(e, _LIMITS["context"]) for e in block.elements or ()]
        if not elements or len(elements) > 10 or any(e is None for e in elements):
            return None
        return {"type": "context", "elements": elements}
    if kind is HeaderBlock:
        assert isinstance(block, HeaderBlock)
        text = _plain(block.text, _LIMITS["header"])
        return None if text is None else {"type": "header", "text": text}
    if kind is DividerBlock:
        return {"type": "divider"}
    return None
