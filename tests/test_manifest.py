"""manifest.yml stays in step with what the app registers."""

from __future__ import annotations

import yaml

from tests.paths import REPO

MANIFEST = REPO / "manifest.yml"


def test_manifest_declares_what_the_app_needs() -> None:
    data = yaml.safe_load(MANIFEST.read_text())
    (command,) = data["features"]["slash_commands"]
    assert command["command"] == "/csp"
    assert command["should_escape"] is True
    assert data["features"]["app_home"]["home_tab_enabled"] is True
    settings = data["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    scopes = set(data["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write"} <= scopes
    assert "files:write" in scopes  # /csp report sends the pack by direct message
    assert not scopes & {"chat:write.public", "users:read.email", "admin"}


def test_usage_hint_lists_the_main_subcommands() -> None:
    data = yaml.safe_load(MANIFEST.read_text())
    (command,) = data["features"]["slash_commands"]
    hint = command["usage_hint"]
    for word in ("help", "plan", "due", "progress", "meetings", "digest", "refer", "report"):
        assert word in hint.split(" | ") or f"{word} " in hint, word
    assert len(hint) <= 100
