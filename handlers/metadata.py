"""Signed ``private_metadata``: what a modal carries back is checked before the bot trusts it.

A modal's private_metadata goes to the user's Slack client and comes back in the
submission, so anyone who can replay a submission can rewrite it. The bot signs it
with an HMAC keyed from SLACK_SIGNING_SECRET (or a key made for this process when
there is none, as in the local shell) and bound to the user who opened the modal;
a submission whose metadata does not carry a matching signature is not trusted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

from bot.settings import Settings

SIGNATURE = "sig"
_PROCESS_KEY = secrets.token_bytes(32)
_PURPOSE = b"csp-bot private_metadata v1"


def _key(settings: Settings) -> bytes:
    secret = settings.slack_signing_secret
    if secret is None or not secret.get_secret_value():
        return _PROCESS_KEY
    return hmac.new(secret.get_secret_value().encode(), _PURPOSE, hashlib.sha256).digest()


def _digest(settings: Settings, meta: dict[str, Any], user_id: str) -> str:
    canonical = json.dumps({"m": meta, "u": user_id}, sort_keys=True, separators=(",", ":"))
    return hmac.new(_key(settings), canonical.encode(), hashlib.sha256).hexdigest()


def sign_metadata(settings: Settings, meta: dict[str, Any], user_id: str) -> str:
    """``meta`` as JSON with its signature for ``user_id`` added."""
    unsigned = {k: v for k, v in meta.items() if k != SIGNATURE}
    return json.dumps({**unsigned, SIGNATURE: _digest(settings, unsigned, user_id)})


def verified_metadata(settings: Settings, raw: str, user_id: str) -> dict[str, Any] | None:
    """The metadata ``raw`` carries when it is empty or signed for ``user_id`` by this
    bot; None when it was changed, unsigned or signed for someone else."""
    if not raw.strip():
        return {}
    try:
        meta = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(meta, dict):
        return None
    signature = meta.pop(SIGNATURE, None)
    if not meta and signature is None:
        return {}
    if not isinstance(signature, str):
        return None
    expected = _digest(settings, meta, user_id)
    return meta if hmac.compare_digest(signature, expected) else None
