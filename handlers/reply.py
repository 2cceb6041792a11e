"""The answer to a typed `/csp` command: its text and blocks, given in the ack.

Nothing is done after that ack (so such commands can be answered in the request's
own thread, see :mod:`handlers.inline`); a command that must call Slack after acking
(opening a form, sending a file) acks itself and returns no Reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import Block


@dataclass
class Reply:
    text: str
    blocks: Sequence[Block | dict[str, Any]] = ()  # dicts: already rendered (cached)
