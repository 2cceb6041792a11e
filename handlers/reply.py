"""The answer to a typed `/csp` command: text, blocks, and the Slack calls to make after the ack."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import Block


@dataclass
class Reply:
    text: str
    blocks: Sequence[Block | dict[str, Any]] = ()  # dicts: already rendered (cached)
    after: list[Callable[[], None]] = field(default_factory=list)  # Slack calls after ack
