"""Blocks as terminal text for `csp-bot shell`: render_text, numbered buttons, mrkdwn."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import Block

_LINK_MD = re.compile(r"<([^>|]+)\|([^>]+)>")
_BARE_MD = re.compile(r"<([^>|]+)>")


def mrkdwn_to_text(text: str) -> str:
    text = _LINK_MD.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    text = _BARE_MD.sub(lambda m: m.group(1), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@dataclass(frozen=True)
class ButtonRef:
    number: int
    text: str
    action_id: str
    value: str
    block_id: str | None


def _as_dicts(blocks: Sequence[Block | Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [b.to_dict() if isinstance(b, Block) else dict(b) for b in blocks]


def _text_of(obj: Any) -> str:
    if isinstance(obj, Mapping):
        return mrkdwn_to_text(str(obj.get("text", "")))
    return mrkdwn_to_text(str(obj or ""))


def buttons_in(blocks: Sequence[Block | Mapping[str, Any]]) -> list[ButtonRef]:
    """Every button in ``blocks``, numbered from 1 in reading order."""
    found: list[ButtonRef] = []
    for block in _as_dicts(blocks):
        elements = []
        if block.get("type") == "section" and isinstance(block.get("accessory"), Mapping):
            elements = [block["accessory"]]
        elif block.get("type") == "actions":
            elements = list(block.get("elements", []))
        for element in elements:
            if element.get("type") == "button":
                found.append(
                    ButtonRef(
                        len(found) + 1,
                        _text_of(element.get("text")),
                        str(element.get("action_id", "")),
                        str(element.get("value", "")),
                        block.get("block_id"),
                    )
                )
    return found


def render_text(blocks: Sequence[Block | Mapping[str, Any]]) -> str:
    """Blocks as readable plain text; buttons shown as ``[n] label``."""
    out: list[str] = []
    number = 0
    for block in _as_dicts(blocks):
        kind = block.get("type")
        if kind == "header":
            title = _text_of(block.get("text"))
            out.append(f"{title}\n{'=' * min(len(title), 60)}")
        elif kind == "section":
            parts = []
            if block.get("text"):
                parts.append(_text_of(block["text"]))
            for f in block.get("fields", []) or []:
                parts.append(_text_of(f))
            accessory = block.get("accessory")
            if isinstance(accessory, Mapping) and accessory.get("type") == "button":
                number += 1
                parts.append(f"   [{number}] {_text_of(accessory.get('text'))}")
            out.append("\n".join(parts))
        elif kind == "context":
            out.append(
                "  " + " ".join(_text_of(e) for e in block.get("elements", []) if "text" in e)
            )
        elif kind == "divider":
            out.append("-" * 40)
        elif kind == "actions":
            labels = []
            for element in block.get("elements", []):
                if element.get("type") == "button":
                    number += 1
                    labels.append(f"[{number}] {_text_of(element.get('text'))}")
            out.append("   " + "   ".join(labels))
        elif kind == "input":
            optional = " (optional)" if block.get("optional") else ""
            out.append(f"{_text_of(block.get('label'))}{optional}: ____")
        else:
            out.append(f"[{kind}]")
    return "\n".join(out)
